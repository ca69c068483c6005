"""nn.prelu (PyTorch's PReLU, per-channel or one shared slope, after a conv, a linear or on the
model input, NCHW and NxK) from a torch module to compiled code, against PyTorch on every target
(one model, one build per target: scalar, neon through SIMDe, avx2, avx512, OpenCL), NEON on
aarch64 under qemu bit-identical to SIMDe; NaN propagation; the IR and its text form; the LR's
one-line refusal; ONNX PRelu.
"""

from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch
from test_activations import assert_parts_close, qemu_and_simde, run_on
from torch import nn

import patdnn
from patdnn.context import parse_module
from patdnn.frontend import import_module
from patdnn.frontend.errors import UnsupportedLayerError
from patdnn.lr import LrError, print_lr
from patdnn.testing import export_onnx, need_toolchain

C, K, H, W = 5, 7, 9, 11  # odd: not multiples of any vector width


def _prelu(count: int) -> nn.PReLU:
    """A PReLU with random slopes of both signs (the default 0.25 everywhere would hide a channel mix-up)."""
    module = nn.PReLU(count)
    with torch.no_grad():
        module.weight.uniform_(-1.0, 1.0)
    return module


class PReLUs(nn.Module):
    """Parts of (2, C, H, W) or (2, K, H, W), concatenated along channels (see PARTS)."""

    def __init__(self):
        super().__init__()
        self.on_input = _prelu(C)
        self.conv = nn.Conv2d(C, C, 3, padding=1)
        self.after_conv = _prelu(C)
        self.strided = nn.Conv2d(C, C, 3, stride=1, padding=1, groups=C)
        self.shared = _prelu(1)
        self.fc = nn.Linear(C * H * W, K)
        self.after_fc = _prelu(K)
        self.fc_shared = _prelu(1)

    def forward(self, x):
        dense = self.after_fc(self.fc(x.flatten(1)))  # NxK
        shared = self.fc_shared(dense * 2.0 - 1.0)
        zeros = x[:, :1] * 0.0  # (2, 1, H, W): spreads the NxK results over H x W exactly (+ 0)
        parts = [
            self.on_input(x),
            self.after_conv(self.conv(x)),
            self.shared(self.strided(x)),
            zeros + dense.view(2, K, 1, 1),
            zeros + shared.view(2, K, 1, 1),
        ]
        return torch.cat(parts, 1)


PARTS = [("input per-channel", C), ("conv per-channel", C), ("conv shared", C), ("fc per-k", K), ("fc shared", K)]


def _slices():
    start, out = 0, []
    for name, width in PARTS:
        out.append((name, slice(start, start + width)))
        start += width
    return out


@pytest.fixture(scope="module")
def case():
    torch.manual_seed(0)
    model = PReLUs().eval()
    x = torch.randn(2, C, H, W)
    with torch.no_grad():
        return model, x, model(x)


def assert_close(actual, expected):
    assert_parts_close(actual, expected, _slices())


def test_prelu_is_one_op_in_the_ir(case):
    model, x, _ = case
    text = str(import_module(model, x))
    assert text.count("nn.prelu") == 5
    assert "aten" not in text and "kind mul" not in text.split("nn.prelu")[-1]
    assert text.count("tensor<5xf32>") >= 2 and text.count("tensor<7xf32>") >= 1 and text.count("tensor<1xf32>") >= 2


@pytest.mark.parametrize("target", ["scalar", "neon", "avx2", "avx512", "opencl"])
def test_prelu_matches_torch(target, case, tmp_path):
    model, x, expected = case
    assert_close(run_on(target, model, x, tmp_path), expected)


def test_aarch64_prelu_bit_identical_to_simde(case, tmp_path):
    model, x, expected = case
    ours, theirs = qemu_and_simde(model, x, tmp_path)
    assert_close(ours, expected)
    assert ours.tobytes() == theirs.tobytes(), "aarch64 and SIMDe differ"


@pytest.mark.parametrize("target", ["scalar", "opencl"])
def test_prelu_propagates_nan(target, tmp_path):
    torch.manual_seed(2)
    model = nn.Sequential(_prelu(C)).eval()
    x = torch.randn(2, C, H, W)
    x[0, 1, 2, 3] = x[1, 4, 0, 0] = float("nan")
    x[1, 0, 1, 1] = -0.0
    ours = np.asarray(run_on(target, model, x, tmp_path))
    with torch.no_grad():
        expected = model(x).numpy()
    assert np.array_equal(np.isnan(ours), np.isnan(expected)) and np.isnan(ours).sum() == 2
    assert np.array_equal(np.nan_to_num(ours), np.nan_to_num(expected))  # exact: one compare, one multiply


TEXT = """func.func @f(%x : memref<2x5x7x9xf32>, %y : memref<2x5x7x9xf32>) {
  nn.prelu ins(%x : memref<2x5x7x9xf32>) outs(%y : memref<2x5x7x9xf32>) weights dense<[0.25, -0.5, 1.0, 0.0, 2.0]> : tensor<5xf32>
  func.return
}"""


def test_prelu_text_round_trips_and_verifies():
    module = parse_module(TEXT)
    module.verify()
    assert "weights dense<[2.500000e-01, -5.000000e-01" in str(module)
    assert str(parse_module(str(module))) == str(module)
    shared = TEXT.replace("dense<[0.25, -0.5, 1.0, 0.0, 2.0]> : tensor<5xf32>", "dense<0.25> : tensor<1xf32>")
    parse_module(shared).verify()
    bad = TEXT.replace("dense<[0.25, -0.5, 1.0, 0.0, 2.0]> : tensor<5xf32>", "dense<0.25> : tensor<3xf32>")
    with pytest.raises(Exception, match=r"weights: 3 values, expected 1 or 5 \(one per channel\)"):
        parse_module(bad).verify()
    with pytest.raises(Exception, match=r"output shape \[2, 5, 7, 8\] differs from the input shape"):
        parse_module(TEXT.replace("%y : memref<2x5x7x9xf32>", "%y : memref<2x5x7x8xf32>")).verify()


def test_lr_refuses_prelu_in_one_line(tmp_path):
    torch.manual_seed(3)
    model = nn.Sequential(nn.Conv2d(3, C, 3), _prelu(C)).eval()
    module = import_module(model, torch.randn(2, 3, H, W))
    with pytest.raises(LrError, match=r"^LR cannot describe op nn\.prelu \(LR ops: [^\n]*\)$"):
        print_lr(module, tmp_path, tmp_path / "model.lr")


def test_onnx_prelu_matches_torch(tmp_path):
    need_toolchain("host", "scalar")
    torch.manual_seed(1)
    model = nn.Sequential(nn.Conv2d(3, C, 3, padding=1), _prelu(C), nn.Conv2d(C, C, 1), _prelu(1)).eval()
    x = torch.randn(2, 3, H, W)
    path = tmp_path / "prelu.onnx"
    expected = export_onnx(model, x, path)
    assert "PRelu" in {node.op_type for node in onnx.load(str(path)).graph.node}
    compiled = patdnn.compile(path, x, target="scalar", outdir=tmp_path / "build", threads=2)
    assert_parts_close(compiled(x), expected, [("all", slice(0, C))])


class HandWritten(nn.Module):
    """where(x > 0, x, w * x) with a slope that is not PReLU's (`mode`): refused in one line."""

    def __init__(self, mode: str):
        super().__init__()
        self.mode = mode
        self.w = nn.Parameter(torch.rand(1, 1, 1, W))

    def forward(self, x):
        slope = self.w if self.mode == "per-column" else torch.tanh(x)
        return torch.where(x > 0, x, slope * x)


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("per-column", r"PReLU slopes of shape \[1, 1, 1, 11\] for a \[2, 5, 9, 11\] input"),
        ("computed", r"the PReLU slope is not a constant"),
    ],
)
def test_prelu_with_other_slopes_is_refused_in_one_line(mode, reason):
    with pytest.raises(
        UnsupportedLayerError, match=rf"^unsupported layer '[^']+' \([^)]*aten\.prelu\.default\): {reason}$"
    ):
        import_module(HandWritten(mode).eval(), torch.randn(2, C, H, W))
