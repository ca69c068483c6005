"""The modern CNNs of tests/test_modern_models.py on OpenCL (PoCL here) vs PyTorch: every model
family (small widths, non-square inputs, pattern- and block-pruned) at batch 1 — the host suite
runs them at batch 2 — one build per model; batch 2 and the remaining variants are `slow`."""

from __future__ import annotations

import os
import re
import warnings

import pytest
from test_modern_models import REPEATS, SMALL, build, check_matches_pytorch

from patdnn.testing import need_toolchain

warnings.filterwarnings("ignore", category=FutureWarning)

DEVICE = os.environ.get("PATDNN_OPENCL_DEVICE", "pocl")  # e.g. nvidia, on a machine with a GPU
TARGET = f"opencl{{device={DEVICE}}}"
#: one case per family (bilinear upsampling is DeepLab's too); the two slowest PoCL builds (YOLO's
#: detection head, EfficientNet's SiLU + SE: 22 s and 11 s) run in the slow set.
FAMILIES = [c for c in SMALL if c not in REPEATS | {"unet-bilinear"}]
SLOW_FAMILIES = {"yolo", "efficientnet-b0"}


@pytest.mark.parametrize(
    "case", [pytest.param(c, marks=pytest.mark.slow) if c in SLOW_FAMILIES else c for c in FAMILIES]
)
def test_every_family_matches_pytorch(case, tmp_path_factory):
    need_toolchain("opencl")
    model, on_device, x, outdir = build(case, TARGET, 1, tmp_path_factory)
    check_matches_pytorch(model, on_device, x)
    # Every pruned 3x3 conv became a pattern kernel (block-sparse ones are `bconv<N>_...`).
    kernels = re.findall(r'reqd_work_group_size[^\n]*\n\s*"void conv\d+_', (outdir / "model.c").read_text())
    assert len(kernels) == len(model.pattern_layers)


@pytest.mark.slow
@pytest.mark.parametrize("batch", [1, 2])
@pytest.mark.parametrize("case", list(SMALL))
def test_every_model_and_batch(case, batch, tmp_path_factory):
    need_toolchain("opencl")
    check_matches_pytorch(*build(case, TARGET, batch, tmp_path_factory)[:3])
