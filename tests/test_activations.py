"""Every fused activation (SiLU, sigmoid, tanh, hardswish, hardsigmoid, GELU erf and tanh forms,
LeakyReLU, hardtanh / clamp with any bounds, ReLU, ReLU6) from a torch module to compiled code.

One model holds every case (one build per target): each activation after a pattern-pruned 3x3
conv (pattern.conv2d: the register-tile epilogue), after a dense 1x1 conv (nn.conv2d: the
runtime GEMM's row epilogue), after a depthwise conv, after an add, and standalone on the input
(nn.activation). The IR must carry each activation fused into its producer; the outputs must be
within 1e-4 of the output scale of PyTorch's on scalar, NEON (SIMDe), AVX2, AVX-512 and OpenCL
(PoCL), NEON on aarch64 under qemu bit-identical to SIMDe. Also: NaN propagates as in PyTorch,
and the text form of parametrised activations round-trips.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import patdnn
from patdnn.dialects.common import ActivationAttr, activation_attr
from patdnn.frontend import import_module
from patdnn.prune import one_shot_pattern_prune
from patdnn.testing import need_toolchain

# name -> (torch function, the activation patdnn's IR must show)
ACTIVATIONS = {
    "relu": (F.relu, "relu"),
    "relu6": (F.relu6, "relu6"),
    "silu": (F.silu, "silu"),
    "x_sigmoid_x": (lambda x: x * torch.sigmoid(x), "silu"),
    "sigmoid": (torch.sigmoid, "sigmoid"),
    "tanh": (torch.tanh, "tanh"),
    "hardswish": (F.hardswish, "hardswish"),
    "hardsigmoid": (F.hardsigmoid, "hardsigmoid"),
    "gelu": (F.gelu, "gelu"),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"), "gelu_tanh"),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.1), "leaky_relu(0.1)"),
    "hardtanh": (lambda x: F.hardtanh(x, -1.5, 0.75), "hardtanh(-1.5, 0.75)"),
    "clamp_min": (lambda x: x.clamp(min=-0.25), "clamp_min(-0.25)"),
    "clamp_max": (lambda x: x.clamp(max=0.5), "clamp_max(0.5)"),
}
CIN, COUT = 6, 5


class Zoo(nn.Module):
    """For each activation: 3x3 conv (pruned to patterns), 1x1 conv, depthwise 3x3 and
    x + conv1x1 outputs, and the activation of the input, concatenated along channels."""

    def __init__(self):
        super().__init__()
        k = len(ACTIVATIONS)
        self.conv3 = nn.ModuleList(nn.Conv2d(CIN, COUT, 3, padding=1) for _ in range(k))
        self.conv1 = nn.ModuleList(nn.Conv2d(CIN, COUT, 1) for _ in range(k))
        self.dw = nn.ModuleList(nn.Conv2d(CIN, CIN, 3, padding=1, groups=CIN) for _ in range(k))
        self.add1 = nn.ModuleList(nn.Conv2d(CIN, CIN, 1) for _ in range(k))

    def forward(self, x):
        parts = []
        for i, (act, _) in enumerate(ACTIVATIONS.values()):
            parts += [act(self.conv3[i](x)), act(self.conv1[i](x)), act(self.dw[i](x))]
            parts += [act(self.add1[i](x) + x), act(x)]  # act(x): not fused
        return torch.cat(parts, 1)


def zoo(seed: int = 0) -> Zoo:
    torch.manual_seed(seed)
    model = Zoo().eval()
    for p in model.parameters():
        p.data *= 2.0  # a wide range of pre-activations (sigmoid / tanh saturate, GELU's tails)
    one_shot_pattern_prune(model, num_patterns=4, connectivity=3.6)
    return model


INPUT = (2, CIN, 9, 11)


def _input(seed: int = 1) -> torch.Tensor:
    return torch.randn(*INPUT, generator=torch.Generator().manual_seed(seed)) * 2.0


@pytest.fixture(scope="module")
def model_and_input():
    with torch.no_grad():
        model, x = zoo(), _input()
        return model, x, model(x)


PARTS = ["pattern_conv3x3", "dense_conv1x1", "depthwise3x3", "add", "standalone"]


def _parts():
    """(case name, part, channel slice) of each part of Zoo's output."""
    at = 0
    for name in ACTIVATIONS:
        for part, width in zip(PARTS, (COUT, COUT, CIN, CIN, CIN), strict=True):
            yield name, part, slice(at, at + width)
            at += width


def assert_parts_close(actual, expected, parts, tolerance=2e-5):
    """Each (name, channel slice) part within `tolerance` of its own output scale (tighter than
    1e-4 of the whole, so that e.g. GELU's tanh form, 5e-4 off the erf form, fails the erf case)."""
    actual = torch.as_tensor(np.asarray(actual))
    assert actual.shape == expected.shape
    failures = []
    for name, channels in parts:
        ours, theirs = actual[:, channels], expected[:, channels]
        scale = max(float(theirs.abs().max()), 1e-3)
        error = float((ours - theirs).abs().max())
        if not error <= tolerance * scale:
            failures.append(f"{name}: max abs error {error}, scale {scale}")
    assert not failures, "; ".join(failures)


def assert_close(actual, expected):
    assert_parts_close(actual, expected, [(f"{name} {part}", c) for name, part, c in _parts()])


TARGETS = ["scalar", "neon", "avx2", "avx512", "opencl"]  # every target a model compiles for here


def run_on(target: str, model, x, outdir):
    """The compiled model's output on `x` for a target string."""
    need_toolchain("opencl" if target == "opencl" else "host", "neon" if target == "opencl" else target)
    threads = None if target == "opencl" else 2
    return patdnn.compile(model, x, target=target, outdir=outdir, threads=threads)(x)


def qemu_and_simde(model, x, outdir) -> tuple[np.ndarray, np.ndarray]:
    """NEON outputs on aarch64 under qemu and through SIMDe on the host."""
    need_toolchain("aarch64")
    need_toolchain("host", "neon")
    qemu = patdnn.compile(model, x, target="neon{platform=aarch64}", outdir=outdir / "qemu", threads=2)
    simde = patdnn.compile(model, x, target="neon", outdir=outdir / "simde", threads=2)
    return np.asarray(qemu(x)), np.asarray(simde(x))


def assert_aarch64_matches_simde(model, x, expected, outdir, close) -> None:
    """NEON on aarch64 under qemu is `close` to torch's `expected` and bit-identical to SIMDe."""
    ours, theirs = qemu_and_simde(model, x, outdir)
    close(ours, expected)
    assert ours.tobytes() == theirs.tobytes(), "aarch64 and SIMDe differ"


def test_activations_fuse_into_their_producers(model_and_input):
    model, x, _ = model_and_input
    text = str(import_module(model, x))
    for name, (_, expected) in ACTIVATIONS.items():
        pattern, dense, add = (
            len(re.findall(rf"{op}[^\n]*activation {re.escape(expected)}(\s|$)", text))
            for op in ("pattern.conv2d", "nn.conv2d", "nn.add")
        )
        standalone = len(re.findall(rf"nn.activation[^\n]*activation {re.escape(expected)}(\s|$)", text))
        per_kind = sum(1 for _, e in ACTIVATIONS.values() if e == expected)  # silu twice
        assert pattern >= per_kind, f"{name}: the pattern conv's epilogue lacks activation {expected}"
        assert pattern + dense + add >= 3 * per_kind, f"{name}: activation {expected} not fused"
        assert standalone == per_kind, f"{name}: {standalone} standalone activations {expected}"
    assert "aten.sigmoid" not in text and "nn.mul" not in text


@pytest.mark.parametrize("target", TARGETS)
def test_every_activation_matches_torch(target, model_and_input, tmp_path):
    model, x, expected = model_and_input
    assert_close(run_on(target, model, x, tmp_path), expected)


def test_aarch64_activations_bit_identical_to_simde(model_and_input, tmp_path):
    assert_aarch64_matches_simde(*model_and_input, tmp_path, assert_close)


@pytest.mark.parametrize("isa", ["scalar", "avx512", "opencl"])
def test_nan_propagates_through_every_activation(isa, model_and_input, tmp_path):
    need_toolchain("opencl" if isa == "opencl" else "host", isa if isa != "opencl" else "neon")
    model, x, _ = model_and_input
    x = x.clone()
    x.view(-1)[::37] = float("nan")
    with torch.no_grad():
        expected = model(x)
    compiled = patdnn.compile(model, x, target=isa, outdir=tmp_path, threads=2)
    ours = torch.as_tensor(np.asarray(compiled(x)))
    # pattern convs skip pruned weights (torch's NaN * 0 = NaN): compare NaNs on the dense parts
    nan_ours, nan_torch = torch.isnan(ours), torch.isnan(expected)
    assert (nan_ours <= nan_torch).all(), "a NaN where torch has a number"
    finite = ~nan_torch
    scale = float(expected[finite].abs().max())
    assert float((ours[finite] - expected[finite]).abs().max()) <= 1e-4 * scale
    for name, part, channels in _parts():  # the standalone activation: exactly torch's NaNs
        if part == "standalone":
            assert torch.equal(nan_ours[:, channels], nan_torch[:, channels]), name


@pytest.mark.parametrize(
    "text", ["relu", "leaky_relu(0.01)", "hardtanh(-1.0, 2.0)", "clamp_min(0.5)", "clamp_max(-3.0)", "gelu_tanh"]
)
def test_activation_text_round_trips(text):
    attr = activation_attr(text)
    assert attr.text() == text and ActivationAttr.from_text(attr.text()) == attr


@pytest.mark.parametrize(
    "text,message",
    [
        ("mish", "unknown activation 'mish'"),
        ("leaky_relu", "takes 1 parameter(s), got 0"),
        ("relu(1.0)", "takes 0 parameter(s), got 1"),
        ("hardtanh(2.0, 1.0)", "the lower bound is above the upper one"),
    ],
)
def test_bad_activation_text_is_refused(text, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        activation_attr(text)


class OnnxZoo(nn.Module):
    """The activations ONNX has ops for (TorchScript exporter, opset 17), each after a conv."""

    acts = (F.hardswish, torch.sigmoid, torch.tanh, F.hardsigmoid, lambda x: F.leaky_relu(x, 0.2))
    acts += (lambda x: F.hardtanh(x, -1.0, 2.0), lambda x: x.clamp(min=-0.5), F.relu6)

    def __init__(self):
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv2d(3, 4, 3, padding=1) for _ in self.acts)

    def forward(self, x):
        return torch.cat([act(conv(x)) for act, conv in zip(self.acts, self.convs, strict=True)], 1)


def test_onnx_activations_match_torch(tmp_path):
    need_toolchain("host", "scalar")
    import contextlib
    import io
    import warnings

    torch.manual_seed(0)
    model, x = OnnxZoo().eval(), torch.randn(2, 3, 7, 9) * 2
    path = tmp_path / "zoo.onnx"
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (x,), str(path), dynamo=False, opset_version=17)
        expected = model(x)
    compiled = patdnn.compile(path, x, target="scalar", outdir=tmp_path / "build", threads=2)
    ours = torch.as_tensor(np.asarray(compiled(x)))
    for i in range(len(OnnxZoo.acts)):
        part = slice(4 * i, 4 * i + 4)
        scale = float(expected[:, part].abs().max())
        assert float((ours[:, part] - expected[:, part]).abs().max()) <= 2e-5 * scale, f"activation {i}"
