"""nn.binary: add / sub / mul / div with NumPy broadcasting, numbers and constants, a fused
activation — squeeze-and-excitation blocks (ReLU / SiLU inside, sigmoid / hardsigmoid gates) —
from a torch module to compiled code, against PyTorch on every target (one model, one build per
target), NEON on aarch64 under qemu bit-identical to SIMDe; the IR and the text form (the
refusal of a rounding division: tests/mistakes).
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from test_activations import TARGETS, assert_aarch64_matches_simde, assert_parts_close, run_on
from torch import nn

import patdnn
from patdnn.context import parse_module
from patdnn.frontend import import_module
from patdnn.testing import need_toolchain

C = 6


class SqueezeExcite(nn.Module):
    def __init__(self, inner, gate, fc: bool = False):
        super().__init__()
        self.fc = fc
        self.reduce = nn.Linear(C, 3) if fc else nn.Conv2d(C, 3, 1)
        self.expand = nn.Linear(3, C) if fc else nn.Conv2d(3, C, 1)
        self.inner, self.gate = inner, gate

    def forward(self, x):
        s = F.adaptive_avg_pool2d(x, 1)
        if self.fc:
            s = self.gate(self.expand(self.inner(self.reduce(s.flatten(1))))).view(x.shape[0], C, 1, 1)
        else:
            s = self.gate(self.expand(self.inner(self.reduce(s))))
        return x * s


class Binaries(nn.Module):
    """Each part is (2, C, 9, 11); they are concatenated along channels."""

    def __init__(self):
        super().__init__()
        self.se = nn.ModuleList(
            [
                SqueezeExcite(F.relu, torch.sigmoid),
                SqueezeExcite(F.silu, torch.sigmoid),
                SqueezeExcite(F.relu, F.hardsigmoid),
                SqueezeExcite(F.relu, torch.sigmoid, fc=True),
            ]
        )
        self.mask = nn.Conv2d(C, 1, 3, padding=1)
        self.conv = nn.Conv2d(C, C, 3, padding=1)
        self.scale = nn.Parameter(torch.rand(1, C, 1, 1) + 0.5)

    def forward(self, x):
        y = self.conv(x)
        parts = [se(x) for se in self.se]
        parts += [
            x * torch.sigmoid(self.mask(x)),  # (N,1,H,W) broadcast
            x / self.scale,  # a constant (1,C,1,1)
            3.0 - x,  # a number minus a tensor
            x - y,  # tensor - tensor
            F.relu(x * y),  # mul with a fused activation
            x * 0.5 + x / 2.0,
            y / (x * x + 1.0),
            x[:, :1] - y,  # (N,1,H,W) on the left
            F.hardtanh(x - y.mean((2, 3), keepdim=True), -1.0, 1.0),
        ]
        return torch.cat(parts, 1)


@pytest.fixture(scope="module")
def case():
    torch.manual_seed(0)
    model = Binaries().eval()
    x = torch.randn(2, C, 9, 11)
    with torch.no_grad():
        return model, x, model(x)


def assert_close(actual, expected):
    assert_parts_close(
        actual, expected, [(f"part {i}", slice(i * C, (i + 1) * C)) for i in range(expected.shape[1] // C)]
    )


def test_binary_ops_in_the_ir(case):
    model, x, _ = case
    text = str(import_module(model, x))
    assert "kind mul activation none" in text and "kind div" in text and "kind sub" in text
    assert "kind mul activation relu\n" in text or "kind mul activation relu " in text  # fused
    assert "memref<2x6x1x1xf32>) outs" in text  # SE's scale read by strides, not a broadcast copy
    assert "memref<2x6x9x11xf32>, memref<2x1x9x11xf32>" in text


@pytest.mark.parametrize("target", TARGETS)
def test_binary_ops_match_torch(target, case, tmp_path):
    model, x, expected = case
    assert_close(run_on(target, model, x, tmp_path), expected)


def test_aarch64_binary_ops_bit_identical_to_simde(case, tmp_path):
    assert_aarch64_matches_simde(*case, tmp_path, assert_close)


def test_binary_text_round_trips_and_verifies():
    text = """func.func @f(%x : memref<2x5x7x9xf32>, %s : memref<5x1x1xf32>, %y : memref<2x5x7x9xf32>) {
  nn.binary ins(%x, %s : memref<2x5x7x9xf32>, memref<5x1x1xf32>) outs(%y : memref<2x5x7x9xf32>) kind div activation leaky_relu(0.2)
  func.return
}"""
    module = parse_module(text)
    module.verify()
    assert "kind div activation leaky_relu(0.2)" in str(module)
    bad = text.replace("memref<5x1x1xf32>", "memref<5x3x1xf32>")
    with pytest.raises(Exception, match=r"rhs shape \[5, 3, 1\] does not broadcast to the output shape"):
        parse_module(bad).verify()


def test_onnx_squeeze_excite_matches_torch(tmp_path):
    need_toolchain("host", "scalar")
    import contextlib
    import io
    import warnings

    torch.manual_seed(1)
    model = nn.Sequential(nn.Conv2d(3, C, 3, padding=1), SqueezeExcite(F.relu, torch.sigmoid)).eval()
    x = torch.randn(2, 3, 7, 9)
    path = tmp_path / "se.onnx"
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (x,), str(path), dynamo=False, opset_version=17)
        expected = model(x)
    compiled = patdnn.compile(path, x, target="scalar", outdir=tmp_path / "build", threads=2)
    assert_close(compiled(x), expected)
