"""Block-based fine-grained structured pruning on a layer's GEMM view, and its compact form.

GEMM view: a conv's (Cout, Cin, KH, KW) weights as a (Cout, Cin*KH*KW) matrix (PyTorch's flatten
order: column = (c*KH + ky)*KW + kx); a linear layer's (out, in) weights as they are. The matrix
is cut into blocks of `rows` filters x `cols` columns (the last ones may be smaller).

* Block-punched (`columns`): each block keeps the round(cols/rate) columns with the largest L2
  norm over the block's filters — the same kernel positions in all of them, so the compiler
  loads one input row per kept column and reuses it for the block's filters.
* Block rows (`rows`): each block keeps the round(rows/rate) filter segments with the largest norm.

Both are exact Euclidean projections (each block independently keeps its largest groups), which
is what the ADMM Z-step needs. The compact form (`pack_blocks`) stores, per filter block, the
ascending list of GEMM columns with any non-zero weight in the block, and for each such column
the block's `rows` values (zero-padded past Cout): no per-element indices.
"""

from __future__ import annotations

import numpy as np

from patdnn.sparsity.scheme import BlockStructure, Scheme, SchemeError, SchemeKind


def gemm_view(weight: np.ndarray) -> np.ndarray:
    """(Cout, Cin, KH, KW) or (out, in) → the (Cout, Cin*KH*KW) matrix (a view when possible)."""
    if weight.ndim not in (2, 4):
        raise SchemeError(f"block pruning needs conv (4-d) or linear (2-d) weights, got shape {weight.shape}")
    return weight.reshape(weight.shape[0], -1)


def _kept(size: int, rate: float) -> int:
    return max(1, min(size, int(round(size / rate))))


def block_mask(
    matrix: np.ndarray, block: tuple[int, int], rate: float, structure: BlockStructure | str = BlockStructure.COLUMNS
) -> np.ndarray:
    """The 0/1 mask (matrix's shape) of the projection onto 'each block keeps 1/rate of its
    columns (or rows)', chosen by largest L2 norm within the block."""
    rows, cols = block
    structure = BlockStructure(structure)
    out, width = matrix.shape
    mask = np.zeros(matrix.shape, dtype=np.float32)
    squares = np.square(matrix.astype(np.float64))
    for r0 in range(0, out, rows):
        for c0 in range(0, width, cols):
            tile = squares[r0 : r0 + rows, c0 : c0 + cols]
            axis = 0 if structure == BlockStructure.COLUMNS else 1
            norms = tile.sum(axis=axis)
            keep = np.argsort(-norms, kind="stable")[: _kept(norms.size, rate)]
            if structure == BlockStructure.COLUMNS:
                mask[r0 : r0 + rows, c0 + keep] = 1.0
            else:
                mask[r0 + keep, c0 : c0 + cols] = 1.0
    return mask


def project_block(weight: np.ndarray, scheme: Scheme) -> np.ndarray:
    """Euclidean projection of conv/linear weights onto the block scheme's set (same shape)."""
    if scheme.kind != SchemeKind.BLOCK:
        raise SchemeError(f"project_block needs a block scheme, got '{scheme}'")
    assert scheme.block is not None
    matrix = gemm_view(weight)
    return (
        (matrix * block_mask(matrix, scheme.block, scheme.rate, scheme.structure))
        .reshape(weight.shape)
        .astype(weight.dtype, copy=False)
    )


def pack_blocks(matrix: np.ndarray, rows: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Compact block-sparse form of a GEMM-view matrix for filter blocks of `rows` filters.

    Returns (offsets, columns, values): filter block b keeps columns[offsets[b]:offsets[b+1]]
    (ascending, every column with a non-zero in the block); values[j] holds the `rows` weights of
    kept column j (zero past the last filter). offsets/columns are int32, values (kept, rows) f32.
    """
    out, width = matrix.shape
    blocks = -(-out // rows)
    padded = np.zeros((blocks * rows, width), dtype=np.float32)
    padded[:out] = matrix
    offsets, columns, values = [0], [], []
    for b in range(blocks):
        tile = padded[b * rows : (b + 1) * rows]
        kept = np.nonzero((tile != 0).any(axis=0))[0]
        columns.append(kept)
        values.append(tile[:, kept].T)
        offsets.append(offsets[-1] + kept.size)
    return (
        np.asarray(offsets, dtype=np.int32),
        np.concatenate(columns).astype(np.int32),
        np.concatenate(values).reshape(-1, rows).astype(np.float32),
    )


def unpack_blocks(
    offsets: np.ndarray, columns: np.ndarray, values: np.ndarray, rows: int, out: int, width: int
) -> np.ndarray:
    """The (out, width) GEMM-view matrix back from `pack_blocks`' form (for checks and tools)."""
    blocks = len(offsets) - 1
    matrix = np.zeros((blocks * rows, width), dtype=np.float32)
    values = np.asarray(values, dtype=np.float32).reshape(-1, rows)
    for b in range(blocks):
        span = slice(offsets[b], offsets[b + 1])
        matrix[b * rows : (b + 1) * rows, columns[span]] = values[span].T
    return matrix[:out]


def kept_column_fraction(matrix: np.ndarray, rows: int) -> float:
    """The fraction of (filter block, column) pairs with any non-zero weight: the work a
    block-sparse kernel with `rows`-filter blocks does relative to dense (no packing: cheap on
    large layers, the frontend's block detection calls it per layer and R)."""
    if not matrix.size:
        return 1.0
    out, width = matrix.shape
    nonzero = np.zeros((-(-out // rows) * rows, width), dtype=bool)
    nonzero[:out] = matrix != 0
    return float(nonzero.reshape(-1, rows, width).any(axis=1).mean())
