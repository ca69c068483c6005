"""Whole networks: PyTorch → IR → compiled model, outputs equal PyTorch's.

torchvision's architectures (plain-torch copies in patdnn.models) with random weights,
randomised BatchNorm statistics (so folding is exercised) and their 3x3 convs pattern-pruned
(8-pattern library, 4 entries, connectivity 3.6x).
"""

from __future__ import annotations

import subprocess
import warnings

import numpy as np
import pytest
import torch

import patdnn
from patdnn.frontend import UnsupportedLayerError, import_module
from patdnn.models import get_model, randomize_batchnorm
from patdnn.prune import one_shot_pattern_prune
from patdnn.testing import need_toolchain

warnings.filterwarnings("ignore", category=FutureWarning)


def pruned_model(name: str, seed: int = 0, **kwargs) -> torch.nn.Module:
    """The model, eval mode, with BN statistics randomised and 3x3 convs pattern-pruned; the pruned
    conv names are in `model.pattern_layers`."""
    torch.manual_seed(seed)
    model = randomize_batchnorm(get_model(name, **kwargs).eval())
    model.pattern_layers = sorted(one_shot_pattern_prune(model, num_patterns=8, connectivity=3.6))
    return model


def assert_matches(actual: torch.Tensor, expected: torch.Tensor, tolerance: float = 1e-3) -> None:
    scale = float(expected.abs().max())
    error = float((actual - expected).abs().max())
    assert actual.shape == expected.shape
    assert error <= tolerance * scale, f"max abs error {error}, output scale {scale}"


MODELS = [
    ("resnet18", (1, 3, 64, 64)),
    ("resnet50", (1, 3, 64, 64)),
    ("mobilenet-v2", (1, 3, 64, 64)),
    ("vgg16-cifar", (2, 3, 32, 32)),
    ("resnet20-cifar", (1, 3, 32, 32)),
]


@pytest.mark.parametrize("name,shape", MODELS, ids=[m for m, _ in MODELS])
def test_compiled_model_matches_pytorch(name, shape, tmp_path):
    need_toolchain("host")
    model = pruned_model(name)
    x = torch.randn(*shape)
    compiled = patdnn.compile(model, x, outdir=tmp_path, threads=2)
    with torch.no_grad():
        expected = model(x)
    assert_matches(compiled(x), expected)
    assert_matches(compiled(x * 0.5), model(x * 0.5).detach())  # reusable across calls
    # Every pruned 3x3 conv became a pattern conv (MobileNet-V2 has none beyond the dense stem).
    ir = (tmp_path / "model.c").read_text()
    assert ir.count("_filters(void *arg") == len(model.pattern_layers)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["vgg16", "resnet50", "resnet18", "mobilenet-v2"])
def test_imagenet_models_at_224(name, tmp_path):
    need_toolchain("host")
    model = pruned_model(name)
    x = torch.randn(1, 3, 224, 224)
    compiled = patdnn.compile(model, x, outdir=tmp_path, threads=2)
    with torch.no_grad():
        assert_matches(compiled(x), model(x))


@pytest.mark.qemu
def test_cifar_resnet_on_aarch64_under_qemu(tmp_path):
    need_toolchain("aarch64")
    model = pruned_model("resnet20-cifar")
    x = torch.randn(1, 3, 32, 32)
    compiled = patdnn.compile(model, x, target="aarch64", outdir=tmp_path, threads=2)
    with torch.no_grad():
        assert_matches(compiled(x), model(x))


def test_compiled_model_is_thread_safe(tmp_path):
    need_toolchain("host")
    from concurrent.futures import ThreadPoolExecutor

    model = pruned_model("resnet20-cifar")
    xs = [torch.randn(1, 3, 32, 32) for _ in range(6)]
    compiled = patdnn.compile(model, xs[0], outdir=tmp_path)
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(compiled, xs))
    with torch.no_grad():
        for x, y in zip(xs, results):
            assert_matches(y, model(x))


def test_patdnnc_builds_a_runner_from_a_pt2_program(tmp_path):
    need_toolchain("host")
    model = pruned_model("resnet20-cifar")
    x = torch.randn(1, 3, 32, 32)
    program = torch.export.export(model, (x,), strict=False)
    torch.export.save(program, str(tmp_path / "model.pt2"))
    out = tmp_path / "out"
    result = subprocess.run(
        ["patdnnc", str(tmp_path / "model.pt2"), "-o", str(out), "--build", "host"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert (out / "libmodel.a").is_file() and (out / "model.mlir").is_file()
    x.numpy().astype(np.float32).tofile(tmp_path / "in.bin")
    run = subprocess.run(
        [
            str(out / "model_run"),
            "--weights-dir",
            str(out),
            "--bench",
            "3",
            str(tmp_path / "in.bin"),
            str(tmp_path / "out.bin"),
        ],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    assert "median_ms:" in run.stdout
    y = torch.from_numpy(np.fromfile(tmp_path / "out.bin", dtype=np.float32).reshape(1, 10))
    with torch.no_grad():
        assert_matches(y, model(x))


class WithUpsample(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.up = torch.nn.Upsample(scale_factor=2, mode="bicubic")  # nearest and bilinear are supported

    def forward(self, x):
        return self.up(self.conv(x))


def test_unsupported_layer_names_the_layer():
    with pytest.raises(UnsupportedLayerError) as info:
        import_module(WithUpsample(), torch.randn(1, 3, 8, 8))
    message = str(info.value)
    assert "'up'" in message and "Upsample" in message
    assert "\n" not in message


def test_patdnnc_unsupported_layer_is_one_line(tmp_path):
    program = torch.export.export(WithUpsample().eval(), (torch.randn(1, 3, 8, 8),), strict=False)
    torch.export.save(program, str(tmp_path / "up.pt2"))
    result = subprocess.run(
        ["patdnnc", str(tmp_path / "up.pt2"), "-o", str(tmp_path / "o")], capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0 and "unsupported layer 'up'" in result.stderr
