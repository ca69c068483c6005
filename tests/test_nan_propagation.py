"""A NaN in the input propagates as in PyTorch: relu(NaN) = clamp(NaN, 0, 6) = NaN and a max-pooling
window holding a NaN gives NaN, through every fused activation (pattern conv epilogues in both loop
forms, block kernels, the runtime's dense GEMM / channel-vector 1x1 / depthwise epilogues, nn.add,
nn.linear, nn.activation) and max pooling, on every ISA, on OpenCL (PoCL) and on aarch64 (qemu,
bit-identical to SIMDe including the NaN positions); also one whole compiled model.

Each check: `np.isnan(ours) == np.isnan(torch)` everywhere and the other values within 1e-5 of the
output scale. Dense layers take torch's output on the NaN input as it is. Sparse layers (pattern,
block) never multiply their pruned weights, where torch's dense conv on the masked weights gives
NaN * 0 = NaN: their reference is torch's on the kept weights only (the NaN reaches the outputs it
reaches through a kept weight), then torch's activation.

All cases of a target go into ONE function (one build), as in tests/opencl/test_opencl_layers.py.
"""

from __future__ import annotations

import numpy as np
import pytest
import test_block_conv as block_cases
import test_nn_ops as nn_cases
import test_pattern_conv as conv_cases
import torch
import torch.nn.functional as F
from test_tap_list import _pipeline as tap_list_pipeline
from xdsl.dialects.builtin import ModuleOp

import patdnn
from patdnn.build import build_module
from patdnn.nn_builder import merge_functions, single_op_module
from patdnn.target import Target
from patdnn.testing import need_toolchain


class NanRng:
    """A numpy Generator whose first standard_normal draw (the input of a test_nn_ops case) holds NaNs:
    about one element in `every` (0: none) and the first and last ones (window edges at padded borders)."""

    def __init__(self, seed: int, every: int):
        self._rng, self._every, self._first = np.random.default_rng(seed), every, True

    def standard_normal(self, shape):
        x = self._rng.standard_normal(shape)
        if self._first:
            self._first = False
            put_nans(x, self._rng, self._every)
        return x

    def __getattr__(self, name):
        return getattr(self._rng, name)


def put_nans(x: np.ndarray, rng: np.random.Generator, every: int) -> np.ndarray:
    flat = x.reshape(-1)
    if every:
        flat[rng.choice(flat.size, max(1, flat.size // every), replace=False)] = np.nan
    flat[[0, -1]] = np.nan
    return x


# name -> (test_nn_ops case factory, one NaN in `every` input elements)
NN_CASES = {
    "conv3x3_relu": (nn_cases.conv(1, 3, 5, 9, 11, 3, padding=1, act="relu"), 40),
    "conv3x3_stride2_relu6": (nn_cases.conv(1, 13, 7, 11, 13, 3, stride=2, padding=1, act="relu6"), 200),
    "conv1x1_relu_batch2": (nn_cases.conv(2, 19, 21, 9, 11, 1, act="relu"), 300),
    "conv1x1_cm_7x7_relu_batch2": (nn_cases.conv(2, 37, 128, 7, 7, 1, act="relu"), 300),
    "residual_conv1x1_cm_relu6": (nn_cases.conv(1, 40, 64, 7, 7, 1, act="relu6", residual=True), 300),
    "depthwise3x3_relu6": (nn_cases.conv(1, 10, 10, 12, 13, 3, padding=1, groups=10, act="relu6"), 30),
    "depthwise3x3_wide_rows_relu": (nn_cases.conv(1, 5, 5, 6, 37, 3, padding=1, groups=5, act="relu"), 30),
    "maxpool3x3_s2_p1_batch2": (nn_cases.pool("max", 2, 5, 11, 12, 3, 2, 1), 15),
    "maxpool2x2_s2": (nn_cases.pool("max", 1, 3, 8, 9, 2, 2), 10),
    "maxpool3x3_s3_p1": (nn_cases.pool("max", 1, 4, 10, 11, 3, 3, 1), 15),
    "maxpool3x3_s1_p1": (nn_cases.pool("max", 1, 3, 9, 10, 3, 1, 1), 25),
    "maxpool2x2_s1_wide": (nn_cases.pool("max", 1, 2, 7, 33, 2, 1), 20),
    "maxpool3x3_s2_p1_wide": (nn_cases.pool("max", 1, 2, 9, 41, 3, 2, 1), 25),
    "avgpool3x3_s1_p1": (nn_cases.pool("avg", 1, 4, 7, 6, 3, 1, 1), 25),
    "add_relu_batch2": (nn_cases.add((2, 5, 7, 9), "relu"), 20),
    "add_relu6": (nn_cases.add((1, 6, 3, 3), "relu6"), 10),
    "linear_relu": (nn_cases.linear(3, 37, 11, act="relu"), 0),  # the middle row keeps its numbers
    "linear_relu6": (nn_cases.linear(3, 20, 33, act="relu6"), 0),
    "softmax": (nn_cases.softmax(3, 10, 3.0), 0),
    "activation_relu": (nn_cases.activation((2, 3, 5, 7), "relu"), 8),
    "activation_relu6": (nn_cases.activation((3, 17), "relu6"), 8),
}
PATTERN_CASES = [  # (test_pattern_conv case, one NaN in `every` input elements)
    (conv_cases.Case("relu", 1, 8, 8, 10, 10, bias=True, activation="relu"), 150),
    (conv_cases.Case("relu6_stride2_batch2", 2, 7, 5, 9, 17, stride=2, bias=True, activation="relu6"), 150),
    (conv_cases.Case("relu_pad0_blob", 1, 5, 6, 9, 15, padding=0, activation="relu", blob=True, seed=3), 100),
]
BLOCK_CASES = {  # name -> (test_block_conv case, one NaN in `every` input elements)
    "1x1_partial_block_relu": (block_cases.Case(13, 21, (7, 9), act="relu", empty=True), 150),
    "3x3_stride2_pad1_relu6": (block_cases.Case(11, 19, (13, 10), k=3, stride=2, pad=1, act="relu6"), 300),
    "linear_n3_r4_relu6": (block_cases.Case(37, 10, (0, 0), rows=4, n=3, act="relu6"), 0),
    "linear_n3_relu": (block_cases.Case(50, 21, (0, 0), rows=8, n=3, act="relu"), 0),
}


def sparse_reference(apply, x: np.ndarray, weight: np.ndarray, bias, act: str) -> np.ndarray:
    """torch's `act(apply(x, weight) + bias)` when the zero (pruned) weights are absent, not multiplied:
    NaN where a NaN input meets a kept weight, the finite inputs' result elsewhere."""
    y = apply(torch.from_numpy(np.nan_to_num(x, nan=0.0)), torch.from_numpy(weight))
    if bias is not None:
        y = y + torch.from_numpy(bias).reshape(1, -1, *[1] * (y.dim() - 2))
    nan_in, kept = (torch.from_numpy(a.astype(np.float32)) for a in (np.isnan(x), weight != 0))
    y[apply(nan_in, kept) > 0] = float("nan")
    return nn_cases._act(y, act).numpy()


def pattern_case(case: conv_cases.Case, every: int, blob_dir) -> tuple[ModuleOp, np.ndarray, np.ndarray]:
    module, _, _ = conv_cases.case_module(case, blob_dir / f"{case.name}.weights")
    weight, _, _, bias, x = conv_cases.make_layer(case)
    put_nans(x, np.random.default_rng(case.seed), every)
    conv = lambda t, w: F.conv2d(t, w, stride=case.stride, padding=case.padding)  # noqa: E731
    return module, x, sparse_reference(conv, x, weight, bias, case.activation)


def block_case(case: block_cases.Case, every: int, seed: int) -> tuple[ModuleOp, np.ndarray, np.ndarray]:
    data = block_cases.make_data(case, seed)
    put_nans(data.x, np.random.default_rng(seed), every)
    module = single_op_module(
        [data.x.shape], data.expected.shape, lambda ins, out: block_cases.block_op(case, data, ins[0], out)
    )
    if case.linear:
        apply = F.linear
    else:
        apply = lambda t, w: F.conv2d(t, w, stride=case.stride, padding=case.pad)  # noqa: E731
    return module, data.x, sparse_reference(apply, data.x, data.weight, data.bias, case.act)


def all_cases(blob_dir, patterns_only: bool = False) -> tuple[ModuleOp, list[np.ndarray], dict[str, np.ndarray]]:
    """One function running every case: its module, the inputs in order, the expected output per case."""
    modules, inputs, expected = [], [], {}
    for case, every in PATTERN_CASES:
        module, x, y = pattern_case(case, every, blob_dir)
        modules.append(module)
        inputs.append(x)
        expected[f"pattern-{case.name}"] = y
    if not patterns_only:
        for seed, (name, (case, every)) in enumerate(BLOCK_CASES.items()):
            module, x, y = block_case(case, every, seed)
            modules.append(module)
            inputs.append(x)
            expected[f"block-{name}"] = y
        for seed, (name, (make, every)) in enumerate(NN_CASES.items()):
            built = make(NanRng(seed, every), blob_dir)
            modules.append(single_op_module([x.shape for x in built.inputs], built.output_shape, built.make_op))
            inputs += built.inputs
            expected[f"nn-{name}"] = built.expected
    return merge_functions(modules), inputs, expected


def run_all(tmp_path_factory, isa: str, platform: str = "host", form: str = "loops") -> dict[str, tuple]:
    """Builds and runs all cases for one target (`form` "taps": the pattern cases alone, in tap-list
    form); returns {case: (ours, expected)}."""
    outdir = tmp_path_factory.mktemp(f"nan-{isa}-{platform}-{form}")
    module, inputs, expected = all_cases(outdir, patterns_only=form == "taps")
    target = Target.parse("opencl") if isa == "opencl" else Target(isa=isa, platform=platform)
    pipeline = tap_list_pipeline(isa, 2, 3) if form == "taps" else None
    model = build_module(module, outdir / "build", target, pipeline=pipeline, weights_dir=outdir)
    outputs = model.run(*inputs, threads=2)
    return {name: (out, y) for (name, y), out in zip(expected.items(), outputs)}


def nan_mismatch(actual: np.ndarray, expected: np.ndarray) -> str | None:
    """Why `actual` does not match `expected` (NaN positions exactly, the rest within 1e-5 of the scale)."""
    if actual.shape != expected.shape:
        return f"shape {actual.shape} != {expected.shape}"
    ours, theirs = np.isnan(actual), np.isnan(expected)
    if (ours != theirs).any():
        return f"NaN positions differ: {int(ours.sum())} NaNs, torch {int(theirs.sum())}, {int((ours != theirs).sum())} differ"
    finite = ~theirs
    if not finite.any():
        return None
    scale = max(float(np.abs(expected[finite]).max()), 1.0)
    error = float(np.abs(actual[finite] - expected[finite]).max())
    return None if error <= 1e-5 * scale else f"max abs error {error} (output scale {scale})"


def check(results: dict[str, tuple], what: str) -> None:
    failures = [f"{name}: {why}" for name, (ours, y) in results.items() if (why := nan_mismatch(ours, y))]
    assert not failures, f"{what}: " + "; ".join(failures)
    for name, (_, y) in results.items():  # the cases really hold NaNs and numbers
        assert np.isnan(y).any() and not np.isnan(y).all(), name


@pytest.mark.parametrize("isa", ["scalar", "neon", "avx2", "avx512"])
def test_nan_propagates_like_torch(isa: str, tmp_path_factory):
    need_toolchain("host", isa)
    check(run_all(tmp_path_factory, isa), isa)


@pytest.mark.parametrize("isa", ["scalar", "neon", "avx2", "avx512"])
def test_tap_list_epilogues_keep_nan(isa: str, tmp_path_factory):
    need_toolchain("host", isa)
    check(run_all(tmp_path_factory, isa, form="taps"), f"{isa} tap lists")


def test_opencl_nan_propagates_like_torch(tmp_path_factory):
    need_toolchain("opencl")
    check(run_all(tmp_path_factory, "opencl"), "opencl")


@pytest.mark.qemu
def test_aarch64_nans_bit_identical_to_simde(tmp_path_factory):
    need_toolchain("aarch64")
    need_toolchain("host", "neon")
    on_arm = run_all(tmp_path_factory, "neon", "aarch64")
    check(on_arm, "neon on aarch64 (qemu)")
    on_host = run_all(tmp_path_factory, "neon")
    for name, (arm, _) in on_arm.items():
        if name == "nn-softmax":  # expf comes from each target's libm
            continue
        host = on_host[name][0]
        np.testing.assert_array_equal(np.isnan(arm), np.isnan(host), name)
        finite = ~np.isnan(arm)
        np.testing.assert_array_equal(arm[finite].view(np.uint32), host[finite].view(np.uint32), name)


class TinyNet(torch.nn.Module):
    """Dense convs with fused ReLU / ReLU6, max pooling (padded, strided) and a residual add + ReLU."""

    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.conv2 = torch.nn.Conv2d(8, 8, 3, padding=1)
        self.conv3 = torch.nn.Conv2d(8, 6, 1)
        self.pool1 = torch.nn.MaxPool2d(2)
        self.pool2 = torch.nn.MaxPool2d(3, stride=2, padding=1)

    def forward(self, x):
        y = self.pool1(torch.relu(self.conv1(x)))
        y = torch.relu(self.conv2(y) + y)
        return self.pool2(torch.nn.functional.relu6(self.conv3(y)))


@pytest.mark.parametrize("target", ["auto", "opencl"])
def test_compiled_model_keeps_nans_like_torch(target: str, tmp_path):
    need_toolchain("opencl" if target == "opencl" else "host")
    torch.manual_seed(0)
    model = TinyNet().eval()
    x = torch.randn(1, 3, 24, 24)
    x[0, 0, 0, 0] = x[0, 1, 13, 6] = x[0, 2, 23, 17] = float("nan")
    compiled = patdnn.compile(model, x, target=target, outdir=tmp_path)
    with torch.no_grad():
        expected = model(x).numpy()
    assert np.isnan(expected).any() and not np.isnan(expected).all()
    assert (why := nan_mismatch(compiled(x).numpy(), expected)) is None, why
