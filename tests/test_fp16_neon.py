"""precision=fp16 on the neon target (patdnn/backend/c/pattern_fp16.py), under qemu-aarch64 -cpu
cortex-a76 (SIMDe has no fp16 arithmetic, so these run on aarch64 only).

Pattern layers of randomized shapes (odd sizes, channel counts off the 8-lane vector, stride 2,
padding 0, dilation, batch 2, bias + activations, several fp16 channel blocks) and a whole
pattern-pruned ResNet against PyTorch in fp32 with an fp16 error bound; the fp16 result must
differ from the fp32 build's (the fp16 code really ran) and be independent of the thread count.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from test_pattern_conv import Case, case_module, make_layer

import patdnn
from patdnn.build import build_module
from patdnn.dialects import pattern
from patdnn.notes import Note
from patdnn.pipeline import default_pipeline, run_pipeline
from patdnn.target import Target
from patdnn.testing import need_toolchain

FP16 = Target(isa="neon", platform="aarch64", precision="fp16")
FP32 = Target(isa="neon", platform="aarch64")

CASES = [
    Case("odd", 1, 5, 7, 9, 11, bias=True, activation="relu"),
    Case("batch2_stride2", 2, 13, 9, 11, 17, stride=2, bias=True),
    Case("pad0_wide", 1, 6, 10, 7, 37, padding=0, activation="relu6", blob=True),
    Case("blocks", 1, 150, 12, 8, 9, bias=True, activation="relu", blob=True, seed=3),  # 3 fp16 blocks of 50
    Case("dilated", 1, 7, 6, 12, 13, padding=2, dilation=2, bias=True),
    Case("empty_filters", 2, 9, 6, 7, 10, empty_filters=3, bias=True, connectivity=2.0),
]


def fp16_bound(case: Case, x: np.ndarray) -> np.ndarray:
    """Per-output error allowed for fp16 inputs, weights and sums: 2^-8 of the output's absolute
    mass (sum of |w| |x| over its products, + |bias|) — 8x fp16's unit roundoff — plus 1e-3."""
    weight, _, _, bias, _ = make_layer(case)
    mass = torch.nn.functional.conv2d(
        torch.from_numpy(np.abs(x)),
        torch.from_numpy(np.abs(weight)),
        None if bias is None else torch.from_numpy(np.abs(bias)),
        stride=case.stride,
        padding=case.padding,
        dilation=case.dilation,
    ).numpy()
    return 2.0**-8 * mass + 1e-3


@pytest.mark.qemu
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_fp16_pattern_layer_matches_torch_within_fp16_error(case: Case, tmp_path):
    need_toolchain("aarch64")
    module, x, expected = case_module(case, tmp_path / "layer.weights")
    half = build_module(module, tmp_path / "fp16", FP16, weights_dir=tmp_path)
    (y,) = half.run(x, threads=1)
    (y2,) = half.run(x, threads=2)
    assert y.shape == expected.shape
    np.testing.assert_array_equal(y, y2)  # the thread split does not change the sums
    error = np.abs(y - expected)
    bound = fp16_bound(case, x)
    assert (error <= bound).all(), f"max error {error.max()} (bound there {bound.flat[error.argmax()]})"
    module32, _, _ = case_module(case, tmp_path / "layer.weights")
    (y32,) = build_module(module32, tmp_path / "fp32", FP32, weights_dir=tmp_path).run(x, threads=1)
    if np.abs(expected).max() > 0:
        assert not np.array_equal(y, y32), "the fp16 build gave the fp32 bits: no fp16 arithmetic ran"


def _schedule(module) -> dict[str, int]:
    conv = next(op for op in module.walk() if isinstance(op, pattern.Conv2dOp))
    return {k: v.value.data for k, v in conv.attributes[pattern.SCHEDULE_ATTR].data.items()}


def test_fp16_channel_blocks_are_at_most_64_and_a_larger_ask_says_so(tmp_path):
    asked = Case("asked", 1, 150, 4, 5, 5, seed=3, schedule=(("channel_block", 150),))
    module, _, _ = case_module(asked, tmp_path / "w")
    with pytest.warns(Note, match=r"channel_block 150 reduced to 50 \(fp16 accumulates at most 64 input channels"):
        run_pipeline(module, default_pipeline(FP16)[:1])
    assert _schedule(module)["channel_block"] == 50  # 3 equal blocks of <= 64
    module, _, _ = case_module(Case("rule", 1, 150, 4, 5, 5, seed=3), tmp_path / "w")
    run_pipeline(module, default_pipeline(FP16)[:1])  # the rule itself stays within 64
    schedule = _schedule(module)
    assert schedule["channel_block"] <= 64 and schedule["tile_x"] % 8 == 0


@pytest.mark.qemu
def test_fp16_resnet_matches_torch(tmp_path):
    """A whole pattern-pruned CIFAR ResNet-20: fp16 pattern layers, fp32 everything else."""
    need_toolchain("aarch64")
    from test_compile_models import pruned_model

    model = pruned_model("resnet20-cifar")
    x = torch.randn(2, 3, 32, 32)
    compiled = patdnn.compile(model, x, target=str(FP16), outdir=tmp_path, threads=2)
    with torch.no_grad():
        expected = model(x).numpy()
    actual = np.asarray(compiled(x))
    scale = float(np.abs(expected).max())
    assert float(np.abs(actual - expected).max()) <= 2e-2 * scale  # 18 fp16 layers in a row
    assert (actual.argmax(1) == expected.argmax(1)).all()
