"""Every x86 target, register-tile schedule and pass-pipeline variant computes the same convolution.

The cases of test_pattern_conv (odd sizes, channel counts not multiples of the vector width,
stride 2, padding 0, empty filters, bias + relu/relu6, 2/4/5-entry patterns) run through:
* (the AVX2 and AVX-512 targets with their rule-based schedules: test_pattern_conv);
* random schedules (rows per tile, vectors per row, channel blocks — incl. one channel per block,
  which exercises the partial sums) for every ISA;
* the pipeline with each optimisation switched off (the benchmarks' ablation), and the filter
  order balanced for 3 threads while running on 2.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_pattern_conv import CASES, Case, assert_close, compile_case

from patdnn.isa import get_isa
from patdnn.pipeline import default_pipeline, replace_pass, without_pass
from patdnn.target import Target
from patdnn.testing import need_toolchain

SMALL = [c for c in CASES if c.n * c.cin * c.h * c.w <= 3000]


def _random_schedule(rng: np.random.Generator, case: Case, isa: str) -> dict[str, int]:
    vw = get_isa(isa).vector_width
    tile_x = vw * int(rng.integers(1, 4))
    tile_y = int(rng.integers(1, 6))
    block = int(rng.choice([1, max(1, case.cin // 2), case.cin]))
    return {"tile_x": tile_x, "tile_y": tile_y, "channel_block": block}


def _compile(case: Case, tmp_path, isa: str, pipeline):
    return compile_case(case, tmp_path, isa, "host", pipeline)


# avx2 in the slow set: its printer is covered by the tap-list and nn-op suites in the default run
@pytest.mark.parametrize("isa", ["neon", "scalar", pytest.param("avx2", marks=pytest.mark.slow), "avx512"])
def test_random_schedules_match_torch(isa: str, tmp_path):
    need_toolchain("host", isa)
    rng = np.random.default_rng(7)
    for i, case in enumerate(SMALL):
        tune = _random_schedule(rng, case, isa)
        pipeline = replace_pass(default_pipeline(Target(isa=isa)), name="tile-tune", **tune)
        assert pipeline[0].name == "tile-tune" and all(getattr(pipeline[0], k) == v for k, v in tune.items())
        model, x, expected = _compile(case, tmp_path / str(i), isa, pipeline)
        (actual,) = model.run(x, threads=2)
        try:
            assert_close(actual, expected)
        except AssertionError as e:
            raise AssertionError(f"{case.name} with {tune}: {e}") from None


ABLATIONS = {
    "no-load-elim": lambda p: without_pass(p, "load-elim"),
    "no-reorder": lambda p: without_pass(p, "filter-kernel-reorder"),
    "no-fkw-pack": lambda p: without_pass(p, "fkw-pack"),
    "reorder-for-3-threads": lambda p: replace_pass(p, name="filter-kernel-reorder", threads=3),
}


@pytest.mark.parametrize("variant", list(ABLATIONS))
def test_pipeline_variants_match_torch(variant: str, tmp_path):
    isa = "avx2"
    need_toolchain("host", isa)
    pipeline = ABLATIONS[variant](default_pipeline(Target(isa=isa)))
    assert pipeline != default_pipeline(Target(isa=isa))
    for i, case in enumerate(SMALL[:6]):
        model, x, expected = _compile(case, tmp_path / str(i), isa, pipeline)
        (actual,) = model.run(x, threads=2)
        assert_close(actual, expected)


ROW_BLOCK_CASES = [
    # ~36 KB of shifted input per output row: 1 MB row blocks of 28 rows, the last one shifted up.
    Case("row_blocks", 1, 48, 5, 60, 61, bias=True, activation="relu", seed=11),
    Case("row_blocks_stride2", 1, 40, 6, 121, 75, stride=2, seed=12),
]


@pytest.mark.parametrize("isa", ["neon", "avx512"])
@pytest.mark.parametrize("case", ROW_BLOCK_CASES, ids=lambda c: c.name)
def test_layers_larger_than_one_row_block_match_torch(case: Case, isa: str, tmp_path):
    need_toolchain("host", isa)
    model, x, expected = _compile(case, tmp_path, isa, default_pipeline(Target(isa=isa, threads=2)))
    source = (tmp_path / f"{isa}-host" / "model.c").read_text()
    assert "for (int yb = 0; yb < " in source and "yb += " in source
    block = int(source.split("yb += ")[1].split(")")[0])
    assert block < expected.shape[2], "the case must span several row blocks"
    (actual,) = model.run(x, threads=2)
    assert_close(actual, expected)
