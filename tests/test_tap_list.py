"""The tap-list loop form (`filter_group` > 0, patdnn/backend/c/pattern_taps.py) computes the same
convolutions as PyTorch on every target, and the rule picks it where it pays.

The cases of test_pattern_conv (odd sizes, channel counts not multiples of the vector width,
stride 2, padding 0, empty filters, bias + relu/relu6, weights from a blob, 2/4/5-entry
libraries) run with random channel blocks (one channel per block exercises the partial sums) and
filter groups (1 to all filters, groups that do not divide the thread's range), on 2 threads;
on aarch64 under qemu the NEON build must stay bit-identical to SIMDe.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_pattern_conv import CASES, Case, assert_close, compile_case, make_layer, reference

from patdnn.build import build_module
from patdnn.ir_builder import pattern_conv_module
from patdnn.isa import get_isa
from patdnn.pipeline import default_pipeline, replace_pass
from patdnn.target import Target
from patdnn.testing import need_toolchain
from patdnn.tuning.rules import L1_BLOCK_BYTES, LayerShape, rule_schedule

SMALL = [c for c in CASES if c.n * c.cin * c.h * c.w <= 3000]


def _pipeline(isa: str, block: int, group: int):
    return replace_pass(
        default_pipeline(Target(isa=isa, threads=2)),
        name="tile-tune",
        threads=1,
        channel_block=block,
        filter_group=group,
    )


@pytest.mark.parametrize("isa", ["scalar", "neon", "avx2", "avx512"])
def test_tap_lists_match_torch(isa: str, tmp_path):
    need_toolchain("host", isa)
    rng = np.random.default_rng(3)
    for i, case in enumerate(SMALL):
        block = int(rng.choice([1, max(1, case.cin // 2), case.cin]))
        group = int(rng.choice([1, 2, 3, case.cout]))
        pipeline = _pipeline(isa, block, group)
        model, x, expected = compile_case(case, tmp_path / str(i), isa, "host", pipeline)
        source = (tmp_path / str(i) / f"{isa}-host" / "model.c").read_text()
        assert "_taps[" in source and "/* pattern 0:" not in source, f"{case.name}: not in tap-list form"
        (actual,) = model.run(x, threads=2)
        try:
            assert_close(actual, expected)
        except AssertionError as e:
            raise AssertionError(f"{case.name} with channel_block={block} filter_group={group}: {e}") from None


def test_a_library_with_mixed_entry_counts_keeps_patdnn_loops(tmp_path):
    need_toolchain("host", "avx2")
    case = Case("mixed", 1, 5, 4, 6, 7, bias=True)
    weight, ids, library, bias, x = make_layer(case)
    library = library.copy()
    library[0, 0, 0] = 1.0 - library[0, 0, 0]  # one pattern with an entry more or less than the others
    weight = np.where((ids >= 0)[:, :, None, None], library[np.clip(ids, 0, None)], 0.0).astype(np.float32)  # ones
    module = pattern_conv_module(weight, ids, library, x.shape, stride=1, padding=1, bias=bias)
    model = build_module(module, tmp_path / "m", "avx2", pipeline=_pipeline("avx2", 2, 2))
    assert "_taps[" not in (tmp_path / "m" / "model.c").read_text()
    (actual,) = model.run(x, threads=2)
    assert_close(actual, reference(case, weight, bias, x))


@pytest.mark.qemu
def test_aarch64_tap_lists_are_bit_identical_to_simde(tmp_path):
    need_toolchain("aarch64")
    need_toolchain("host")
    for i, case in enumerate([CASES[1], CASES[5]]):  # stride 2; batch 2 + relu6 + blob
        pipeline = _pipeline("neon", 1 + case.cin // 3, 2)
        arm, x, expected = compile_case(case, tmp_path / str(i), "neon", "aarch64", pipeline)
        (on_arm,) = arm.run(x, threads=2)
        assert_close(on_arm, expected)
        host, _, _ = compile_case(case, tmp_path / str(i), "neon", "host", pipeline)
        (on_host,) = host.run(x, threads=1)
        np.testing.assert_array_equal(on_arm.view(np.uint32), on_host.view(np.uint32))


@pytest.mark.parametrize("isa, expected", [("avx512", True), ("avx2", True), ("neon", False), ("scalar", False)])
def test_rule_takes_tap_lists_on_x86_when_a_tile_outgrows_l1(isa: str, expected: bool):
    vgg = LayerShape(512, 512, 28, 28, 28, 28, 3, 1)
    sched = rule_schedule(vgg, get_isa(isa))
    assert (sched.filter_group > 0) == expected
    if expected:  # channel blocks of a tile's input within L1_BLOCK_BYTES (96 KB), equal, as few as fit
        rows_in = sched.tile_y + 2
        per_channel = 3 * rows_in * sched.tile_x * 4
        assert per_channel * sched.channel_block <= L1_BLOCK_BYTES < per_channel * 512
        assert 2 * per_channel * sched.channel_block > L1_BLOCK_BYTES  # equal blocks: at least half full
    tiny = LayerShape(8, 8, 10, 10, 10, 10, 3, 1)
    assert rule_schedule(tiny, get_isa(isa)).filter_group == 0  # the whole tile input fits L1
