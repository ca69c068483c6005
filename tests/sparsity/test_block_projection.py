"""Block-based pruning primitives: scheme text, the block projection, the compact block form."""

import itertools

import numpy as np
import pytest

from patdnn.sparsity import Scheme, SchemeError, parse_scheme
from patdnn.sparsity.block import block_mask, gemm_view, kept_column_fraction, pack_blocks, project_block, unpack_blocks


@pytest.mark.parametrize("text", ["dense", "pattern 3.6x", "block 8x16 4x", "block 4x8 2.5x rows"])
def test_scheme_text_round_trips(text):
    assert str(parse_scheme(text)) == text


@pytest.mark.parametrize("text", ["", "block 8x16", "block 0x16 2x", "pattern", "pattern 0.5x", "sparse 2x"])
def test_bad_scheme_text_is_a_clear_error(text):
    with pytest.raises(SchemeError, match="scheme|rate|block"):
        parse_scheme(text)


def test_weight_rate_counts_pattern_entries():
    assert Scheme.pattern(3.6).weight_rate((3, 3), 4) == pytest.approx(3.6 * 9 / 4)
    assert Scheme.blocks(8, 16, 4).weight_rate() == 4


def _brute_force_best(block: np.ndarray, keep: int, axis: int) -> float:
    """The largest kept squared norm over every choice of `keep` columns (axis 0) or rows (axis 1)."""
    norms = np.square(block).sum(axis=axis)
    return max(norms[list(c)].sum() for c in itertools.combinations(range(norms.size), keep))


@pytest.mark.parametrize("structure,axis", [("columns", 0), ("rows", 1)])
def test_block_mask_is_the_euclidean_projection(structure, axis):
    rng = np.random.default_rng(3)
    matrix = rng.standard_normal((7, 11)).astype(np.float32)  # ragged last blocks both ways
    block, rate = (4, 5), 2.5
    mask = block_mask(matrix, block, rate, structure)
    for r0, c0 in itertools.product(range(0, 7, 4), range(0, 11, 5)):
        tile, tmask = matrix[r0 : r0 + 4, c0 : c0 + 5], mask[r0 : r0 + 4, c0 : c0 + 5]
        groups = tmask.any(axis=axis)
        assert np.all(tmask.all(axis=axis) == groups), "whole columns/rows are kept or pruned"
        keep = max(1, round(groups.size / rate))
        assert groups.sum() == keep
        kept = float(np.square(tile * tmask).sum())
        assert kept == pytest.approx(_brute_force_best(tile, keep, axis), rel=1e-5)


@pytest.mark.parametrize("shape,rows", [((10, 6, 3, 3), 4), ((13, 5, 1, 1), 8), ((9, 17), 3)])
def test_pack_round_trips_and_counts_work(shape, rows):
    rng = np.random.default_rng(len(shape) + rows)
    weight = project_block(rng.standard_normal(shape).astype(np.float32), Scheme.blocks(rows, 5, 3))
    matrix = gemm_view(weight)
    offsets, columns, values = pack_blocks(matrix, rows)
    assert values.shape == (offsets[-1], rows)
    np.testing.assert_array_equal(unpack_blocks(offsets, columns, values, rows, *matrix.shape), matrix)
    blocks = -(-shape[0] // rows)
    assert kept_column_fraction(matrix, rows) == pytest.approx(offsets[-1] / (blocks * matrix.shape[1]))
    assert kept_column_fraction(matrix, rows) < 0.5
