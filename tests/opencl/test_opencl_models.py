"""Whole pattern-pruned networks on OpenCL (PoCL here) vs PyTorch: VGG-16 (CIFAR layout, 32x32,
batch 2) and ResNet-18 (torchvision layout, 64x64), 8-pattern library, connectivity 3.6x, BN
statistics randomised; one build per model, shared by the tests (PoCL compiles are slow).
Also `patdnnc --target opencl` end to end with the generic runner."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from test_compile_models import assert_matches, pruned_model

import patdnn
from patdnn.frontend import import_module
from patdnn.prune import one_shot_pattern_prune
from patdnn.testing import need_toolchain

warnings.filterwarnings("ignore", category=FutureWarning)

MODELS = [("vgg16-cifar", (2, 3, 32, 32)), ("resnet18", (1, 3, 64, 64))]
DEVICE = os.environ.get("PATDNN_OPENCL_DEVICE", "pocl")  # e.g. nvidia, on a machine with a GPU


@pytest.fixture(scope="module", params=MODELS, ids=[name for name, _ in MODELS])
def compiled(request, tmp_path_factory):
    need_toolchain("opencl")
    name, shape = request.param
    model = pruned_model(name)
    torch.manual_seed(1)
    x = torch.randn(*shape)
    outdir = tmp_path_factory.mktemp(name)
    return model, patdnn.compile(model, x, target="opencl", outdir=outdir, device=DEVICE), x, outdir


def test_model_matches_pytorch(compiled):
    model, on_device, x, _ = compiled
    with torch.no_grad():
        assert_matches(on_device(x), model(x), tolerance=1e-4)
        assert_matches(on_device(x * 0.5 + 0.1), model(x * 0.5 + 0.1), tolerance=1e-4)  # reusable


def test_every_pruned_conv_is_a_pattern_kernel_and_profiled(compiled):
    model, on_device, x, outdir = compiled
    source = (outdir / "model.c").read_text()
    assert source.count("__kernel __attribute__((reqd_work_group_size") == len(model.pattern_layers)
    on_device(x)
    times = on_device.layer_times()
    assert set(model.pattern_layers) <= set(times), "every pattern layer has a profile entry"
    assert all(ms > 0 for ms in times.values())
    assert on_device.device and on_device.precision == "fp32"


class SmallNet(torch.nn.Module):
    """Pattern convs (one stride 2), BN, max pool, residual add, flatten, linear."""

    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(3, 10, 3, padding=1)
        self.bn1 = torch.nn.BatchNorm2d(10)
        self.conv2 = torch.nn.Conv2d(10, 10, 3, padding=1)
        self.conv3 = torch.nn.Conv2d(10, 13, 3, stride=2, padding=1)
        self.pool = torch.nn.MaxPool2d(2)
        self.fc = torch.nn.Linear(13 * 3 * 3, 7)

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        y = torch.relu(self.conv2(y) + y)
        y = self.pool(torch.relu(self.conv3(y)))
        return self.fc(torch.flatten(y, 1))


def test_patdnnc_target_opencl_builds_a_runner(tmp_path):
    """patdnnc on an imported IR file (.pt2 import is covered by the C target's tests)."""
    need_toolchain("opencl")
    torch.manual_seed(3)
    model = SmallNet().eval()
    one_shot_pattern_prune(model, num_patterns=8, connectivity=3.6)
    x = torch.randn(1, 3, 13, 13)
    (tmp_path / "small.mlir").write_text(str(import_module(model, x, weights_path=tmp_path / "small.weights")))
    out = tmp_path / "out"
    build = subprocess.run(
        ["patdnnc", str(tmp_path / "small.mlir"), "-o", str(out), "--target", "opencl", "--build", "host"],
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stderr
    assert "__kernel" in (out / "model.c").read_text()
    x.numpy().tofile(tmp_path / "in.bin")
    files = [str(tmp_path / "in.bin"), str(tmp_path / "out.bin")]
    run = subprocess.run(
        [str(out / "model_run"), "--weights-dir", str(out), "--bench", "2", *files],
        capture_output=True,
        text=True,
        env={**os.environ, "PATDNN_OPENCL_DEVICE": DEVICE},
    )
    assert run.returncode == 0, run.stderr
    assert "median_ms:" in run.stdout
    y = torch.from_numpy(np.fromfile(tmp_path / "out.bin", dtype=np.float32).reshape(1, 7))
    with torch.no_grad():
        assert_matches(y, model(x), tolerance=1e-4)


@pytest.mark.slow
@pytest.mark.parametrize(
    "name,shape",
    [
        ("vgg16", (1, 3, 64, 64)),
        ("resnet50", (1, 3, 64, 64)),
        ("mobilenet-v2", (1, 3, 64, 64)),
        ("resnet18", (1, 3, 224, 224)),
    ],
)
def test_bigger_models_match_pytorch(name, shape, tmp_path):
    need_toolchain("opencl")
    model = pruned_model(name)
    x = torch.randn(*shape)
    on_device = patdnn.compile(model, x, target="opencl", outdir=tmp_path)
    with torch.no_grad():
        assert_matches(on_device(x), model(x), tolerance=1e-4)


def test_benchmark_reports_model_and_layers_against_pytorch(compiled):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # benchmarks/ is not installed
    from benchmarks.opencl_bench import bench_compiled, format_report

    model, on_device, x, _ = compiled
    report = bench_compiled(model, on_device, x, iters=2)
    assert report["model_ms"] > 0 and report["torch_ms"] > 0
    timed = {name for name, ms, torch_ms in report["layers"] if ms > 0 and torch_ms}
    assert set(model.pattern_layers) <= timed  # every pattern layer has both timings
    text = format_report(report)
    assert "whole model: patdnn" in text and "ratio" in text
