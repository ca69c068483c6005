"""The `nn` dialect: verifier, custom syntax round trip, and every op's C code vs torch.

Numerics: all cases go into ONE module (one function, every case's inputs then its output), built
once per backend (NEON via SIMDe on the host, scalar C on the host, NEON on aarch64 under qemu
for the small cases) and run with 2 threads; each case is then its own test comparing its output
with torch (max error <= 1e-4 of the output scale). Shapes are odd on purpose: channel counts
that are not multiples of 4, odd H/W, stride 2, padding, depthwise and grouped convs, 1x1, 7x7
stride 2 padding 3, every activation, batch 2.

The harness (Built, rand, results_for, the host / qemu / bit-identity tests, NNEmitter: a
CEmitter that hands nn ops to `patdnn.backend.c.nn.emit_nn_op`) is tests/op_cases.py, shared with
the other op-case files.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from op_cases import Built, Case, NNEmitter, assert_bit_identical, host_and_qemu_tests, rand, results_for
from xdsl.dialects.builtin import ModuleOp
from xdsl.printer import Printer
from xdsl.utils.exceptions import VerifyException

from patdnn.backend.c.nn import emit_nn_op
from patdnn.context import parse_module
from patdnn.dialects import nn
from patdnn.isa import get_isa
from patdnn.nn_builder import conv2d_module, weights_attrs
from patdnn.runtime import RUNTIME_DIR
from patdnn.testing import need_toolchain
from patdnn.toolchain import runtime_sources

# ---------------------------------------------------------------------------------------------
# Cases: inputs, an op factory and the torch reference
# ---------------------------------------------------------------------------------------------


def _act(y: torch.Tensor, act: str) -> torch.Tensor:
    return {"none": y, "relu": torch.relu(y), "relu6": torch.clamp(y, 0.0, 6.0)}[act]


def conv(n, cin, cout, h, w, k, stride=1, padding=0, groups=1, bias=True, act="none", blob=False, residual=False):
    """A conv case; `residual`: a second input added before the activation (fuse-residual-add's form)."""
    kh, kw = (k, k) if isinstance(k, int) else k
    ph, pw = (padding, padding) if isinstance(padding, int) else padding

    def make(rng: np.random.Generator, blob_dir: Path) -> Built:
        x = rand(rng, n, cin, h, w, scale=4.0 if act == "relu6" else 1.0)  # relu6 must clamp some
        weight = rand(rng, cout, cin // groups, kh, kw, scale=1.0 / np.sqrt(cin // groups * kh * kw))
        b = rand(rng, cout) if bias else None
        y = F.conv2d(
            torch.from_numpy(x),
            torch.from_numpy(weight),
            None if b is None else torch.from_numpy(b),
            stride=stride,
            padding=(ph, pw),
            groups=groups,
        )
        wattr, battr = weights_attrs([weight, b], blob_dir / f"conv{rng.integers(1 << 30)}.weights" if blob else None)
        inputs = [x]
        if residual:
            inputs.append(rand(rng, *y.shape))
            y = y + torch.from_numpy(inputs[1])
        return Built(
            inputs,
            tuple(y.shape),
            lambda ins, out: nn.Conv2dOp(
                ins[0],
                out,
                wattr,
                battr,
                (kh, kw),
                stride,
                (ph, pw),
                groups,
                act,
                residual=ins[1] if residual else None,
            ),
            _act(y, act).numpy(),
        )

    return make


def pool(kind, n, c, h, w, k, stride, padding=0):
    def make(rng, blob_dir) -> Built:
        x = rand(rng, n, c, h, w)
        t = torch.from_numpy(x)
        y = F.max_pool2d(t, k, stride, padding) if kind == "max" else F.avg_pool2d(t, k, stride, padding)
        return Built(
            [x], tuple(y.shape), lambda ins, out: nn.Pool2dOp(ins[0], out, kind, k, stride, padding), y.numpy()
        )

    return make


def adaptive(n, c, h, w, oh, ow):
    def make(rng, blob_dir) -> Built:
        x = rand(rng, n, c, h, w)
        y = F.adaptive_avg_pool2d(torch.from_numpy(x), (oh, ow))
        return Built([x], tuple(y.shape), lambda ins, out: nn.AdaptiveAvgPool2dOp(ins[0], out), y.numpy())

    return make


def add(shape, act):
    def make(rng, blob_dir) -> Built:
        a, b = rand(rng, *shape, scale=4.0), rand(rng, *shape, scale=4.0)
        y = _act(torch.from_numpy(a) + torch.from_numpy(b), act)
        return Built([a, b], shape, lambda ins, out: nn.AddOp(ins[0], ins[1], out, act), y.numpy())

    return make


def concat(shapes):
    def make(rng, blob_dir) -> Built:
        xs = [rand(rng, *s) for s in shapes]
        y = torch.cat([torch.from_numpy(x) for x in xs], dim=1)
        return Built(xs, tuple(y.shape), lambda ins, out: nn.ConcatOp(ins, out), y.numpy())

    return make


def linear(n, k, m, bias=True, act="none", blob=False):
    def make(rng, blob_dir) -> Built:
        x = rand(rng, n, k, scale=4.0 if act == "relu6" else 1.0)
        weight = rand(rng, m, k, scale=1.0 / np.sqrt(k))
        b = rand(rng, m) if bias else None
        y = F.linear(torch.from_numpy(x), torch.from_numpy(weight), None if b is None else torch.from_numpy(b))
        wattr, battr = weights_attrs([weight, b], blob_dir / f"fc{rng.integers(1 << 30)}.weights" if blob else None)
        return Built([x], (n, m), lambda ins, out: nn.LinearOp(ins[0], out, wattr, battr, act), _act(y, act).numpy())

    return make


def softmax(n, m, scale):
    def make(rng, blob_dir) -> Built:
        x = rand(rng, n, m, scale=scale)
        y = torch.softmax(torch.from_numpy(x), dim=1)
        return Built([x], (n, m), lambda ins, out: nn.SoftmaxOp(ins[0], out), y.numpy())

    return make


def activation(shape, act):
    def make(rng, blob_dir) -> Built:
        x = rand(rng, *shape, scale=5.0)
        return Built(
            [x], shape, lambda ins, out: nn.ActivationOp(ins[0], out, act), _act(torch.from_numpy(x), act).numpy()
        )

    return make


def reshape(shape, out_shape):
    def make(rng, blob_dir) -> Built:
        x = rand(rng, *shape)
        return Built([x], out_shape, lambda ins, out: nn.ReshapeOp(ins[0], out), x.reshape(out_shape))

    return make


CASES: dict[str, Case] = {
    "conv3x3_c3_odd_relu": conv(1, 3, 5, 7, 9, 3, padding=1, act="relu"),
    "conv3x3_c13_stride2": conv(1, 13, 7, 11, 13, 3, stride=2, padding=1, bias=False),
    "conv1x1_19to21_relu6_batch2": conv(2, 19, 21, 9, 11, 1, act="relu6"),
    "conv1x1_64to40_blob": conv(1, 64, 40, 20, 20, 1, blob=True, act="relu"),
    "conv1x1_stride2": conv(1, 8, 12, 9, 9, 1, stride=2),
    # 1x1 on few pixels, 64k output channels: vectors along channels on AVX-512 (ops_conv1x1_cm.c)
    "conv1x1_cm_7x7_relu_batch2": conv(2, 37, 128, 7, 7, 1, act="relu", blob=True),
    "conv1x1_cm_stride2_to7x7": conv(1, 40, 64, 13, 13, 1, stride=2),
    "conv1x1_cm_11px_tail_relu6": conv(1, 19, 64, 1, 11, 1, act="relu6", bias=False),
    # a fused residual (+ before the activation) on every path: GEMM tiles and tails, the
    # channel-vector 1x1, im2col row blocks, depthwise, groups, the k = 0 corner is not reachable
    "residual_conv1x1_relu_batch2": conv(2, 19, 21, 9, 11, 1, act="relu", residual=True),
    "residual_conv1x1_cm_relu": conv(1, 40, 64, 7, 7, 1, act="relu", residual=True),
    "residual_conv3x3_stride2_relu6": conv(1, 13, 10, 11, 13, 3, stride=2, padding=1, act="relu6", residual=True),
    "residual_conv7x7_row_blocked": conv(1, 3, 6, 151, 149, 7, stride=2, padding=3, act="relu", residual=True),
    "residual_depthwise3x3_batch2": conv(2, 6, 6, 11, 10, 3, padding=1, groups=6, act="relu", residual=True),
    "residual_grouped2_1x1": conv(2, 8, 12, 5, 7, 1, groups=2, residual=True),
    "conv7x7_stride2_pad3_batch2": conv(2, 3, 8, 23, 21, 7, stride=2, padding=3, act="relu"),
    # column matrices over 2 MB: gathered and multiplied in row blocks (the last one partial)
    "conv7x7_row_blocked_batch2": conv(2, 3, 10, 151, 149, 7, stride=2, padding=3, act="relu"),
    "grouped2_5x5_row_blocked": conv(1, 6, 4, 121, 119, 5, padding=2, groups=2, bias=False),
    "conv3x3_kblocked_40to16": conv(1, 40, 16, 10, 10, 3, padding=1, act="relu6", blob=True),
    "conv1x1_300to52_kblocked_tail": conv(1, 300, 52, 5, 7, 1, act="relu", blob=True),
    "conv1x3_pad01": conv(1, 4, 5, 6, 7, (1, 3), padding=(0, 1)),
    "conv3x3_stride3": conv(1, 5, 6, 13, 14, 3, stride=3, padding=1),
    "depthwise3x3_relu6": conv(1, 10, 10, 12, 13, 3, padding=1, groups=10, act="relu6"),  # one loop per plane
    "depthwise3x3_wide_rows": conv(1, 5, 5, 6, 37, 3, padding=1, groups=5, act="relu"),  # a loop per row
    "depthwise3x3_stride2_batch2": conv(2, 6, 6, 11, 10, 3, stride=2, padding=1, groups=6, bias=False),
    "depthwise5x5_stride2": conv(1, 5, 5, 13, 13, 5, stride=2, padding=2, groups=5, act="relu"),
    "depthwise3x3_pad0": conv(1, 7, 7, 9, 8, 3, groups=7),
    "grouped3_3x3_pad0": conv(1, 9, 6, 8, 10, 3, groups=3),
    "grouped2_1x1": conv(2, 8, 12, 5, 7, 1, groups=2, act="relu"),
    "depthwise_multiplier2": conv(1, 4, 8, 7, 7, 3, padding=1, groups=4),
    "maxpool3x3_s2_p1_batch2": pool("max", 2, 5, 11, 12, 3, 2, 1),
    "maxpool2x2_s2": pool("max", 1, 3, 8, 9, 2, 2),
    "maxpool3x3_s3_p1": pool("max", 1, 4, 10, 11, 3, 3, 1),  # a stride with no vectorised loop of its own
    "avgpool3x3_s3": pool("avg", 1, 3, 12, 10, 3, 3),
    "avgpool3x3_s1_p1": pool("avg", 1, 4, 7, 6, 3, 1, 1),
    "avgpool2x2_s2_batch2": pool("avg", 2, 3, 9, 9, 2, 2),
    "adaptive_global": adaptive(2, 6, 7, 7, 1, 1),
    "adaptive_uneven": adaptive(1, 3, 10, 9, 3, 4),
    "adaptive_upsample": adaptive(1, 2, 5, 5, 7, 7),
    "add_relu_batch2": add((2, 5, 7, 9), "relu"),
    "add_none": add((1, 3, 4, 5), "none"),
    "add_relu6": add((1, 6, 3, 3), "relu6"),
    "concat3_batch2": concat([(2, 3, 4, 5), (2, 5, 4, 5), (2, 1, 4, 5)]),
    "concat_2d": concat([(2, 3), (2, 7)]),
    "linear_37to11_batch2": linear(2, 37, 11),
    "linear_512to10_relu_nobias": linear(1, 512, 10, bias=False, act="relu", blob=True),
    "linear_20to33_relu6": linear(1, 20, 33, act="relu6"),
    "softmax_large_values": softmax(2, 10, 50.0),
    "softmax_1000": softmax(3, 1000, 3.0),
    "activation_relu": activation((2, 3, 5, 7), "relu"),
    "activation_relu6_2d": activation((3, 17), "relu6"),
    "reshape_flatten": reshape((2, 12, 1, 1), (2, 12)),
}
QEMU_CASES = [
    "conv3x3_c3_odd_relu",
    "conv1x1_19to21_relu6_batch2",
    "conv7x7_stride2_pad3_batch2",
    "conv7x7_row_blocked_batch2",
    "conv1x1_cm_7x7_relu_batch2",
    "conv1x1_cm_stride2_to7x7",
    "conv1x1_cm_11px_tail_relu6",
    "residual_conv1x1_relu_batch2",
    "residual_conv1x1_cm_relu",
    "residual_depthwise3x3_batch2",
    "depthwise3x3_stride2_batch2",
    "grouped3_3x3_pad0",
    "conv1x1_300to52_kblocked_tail",
    "maxpool3x3_s2_p1_batch2",
    "avgpool3x3_s1_p1",
    "adaptive_uneven",
    "add_relu_batch2",
    "concat3_batch2",
    "linear_37to11_batch2",
    "softmax_large_values",
]


# the runtime's portable, AVX2 and AVX-512 GEMMs (the bit-identity test below covers more ISAs)
test_host_matches_torch, test_aarch64_matches_torch, _ = host_and_qemu_tests(
    CASES, QEMU_CASES, isas=("neon", "scalar", "avx512")
)


@pytest.mark.qemu
@pytest.mark.parametrize("isa", ["neon", "avx512"])
def test_host_simd_kernels_bit_identical_to_aarch64(isa: str, tmp_path_factory):
    """The dense kernels fuse every product in the same order on every target: the x86 SIMD GEMMs
    (AVX2 under the neon ISA's flags, AVX-512) give aarch64's portable kernels' bits."""
    need_toolchain("aarch64")
    need_toolchain("host", isa)
    on_arm = results_for("neon", "aarch64", QEMU_CASES, tmp_path_factory, CASES)
    on_host = results_for(isa, "host", QEMU_CASES, tmp_path_factory, CASES)
    assert_bit_identical(on_host, on_arm, [c for c in QEMU_CASES if not c.startswith("softmax")])  # expf: libm's


@pytest.mark.parametrize("target,march", [("host", "x86-64-v3"), ("host", "x86-64-v4"), ("aarch64", None)])
def test_dense_kernels_compile_warning_free(target: str, march: str | None, tmp_path):
    need_toolchain(target)
    cc = "gcc" if target == "host" else "aarch64-linux-gnu-gcc"
    flags = [f"-march={march}"] if target == "host" else ["-mcpu=cortex-a76"]
    for extra in ([], ["-std=c11", "-Wpedantic"]):
        source, obj = RUNTIME_DIR / "ops_dense.c", tmp_path / "ops_dense.o"
        cmd = [cc, "-O3", "-Wall", "-Wextra", "-Werror", *flags, *extra, f"-I{RUNTIME_DIR}", "-c", str(source)]
        cmd += ["-o", str(obj)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr


def test_runtime_sources_include_the_dense_kernels():
    assert "ops_dense.c" in {p.name for p in runtime_sources()}


# ---------------------------------------------------------------------------------------------
# Emitter
# ---------------------------------------------------------------------------------------------


def test_emit_conv_declares_weights_with_unique_symbols(tmp_path):
    weight = np.ones((4, 2, 3, 3), np.float32)
    module = conv2d_module(weight, (1, 2, 5, 5), bias=np.zeros(4, np.float32), stride=2, padding=1, activation="relu6")
    emitter = NNEmitter(get_isa("scalar"))
    op = next(o for o in module.walk() if isinstance(o, nn.Conv2dOp))
    names = {op.input: "x", op.output: "y"}
    first, second = emit_nn_op(emitter, op, names), emit_nn_op(emitter, op, names)
    assert (
        first
        == "pdnn_conv2d_dense(ctx, x, y, nn0_conv_w, nn0_conv_b, NULL, 1, 2, 5, 5, 4, 3, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, PDNN_ACT_RELU6);"
    )
    assert second.startswith("pdnn_conv2d_dense(ctx, x, y, nn1_conv_w, nn1_conv_b, NULL,")
    declared = "\n".join(emitter.out)
    assert "static const float *nn0_conv_w;" in declared and "static const float *nn1_conv_b;" in declared
    assert "nn0_conv_w = nn0_conv_w_data;" in emitter.init_lines


def test_emit_blob_weights_register_the_blob(tmp_path):
    module = conv2d_module(np.ones((2, 1, 1, 1), np.float32), (1, 2, 3, 3), groups=2, blob_path=tmp_path / "w.bin")
    emitter = NNEmitter(get_isa("neon"))
    text = emitter.emit_module(module)
    assert "w.bin" in emitter.blobs
    assert re.search(
        r"pdnn_conv2d_dense\(ctx, \w+, \w+, nn0_conv_w, NULL, NULL, 1, 2, 3, 3, 2, 3, 3, 1, 1, 1, 1, 0, 0, 1, 1, 2, PDNN_ACT_NONE\);",
        text,
    )
    assert text.index("static const float *nn0_conv_w;") < text.index("pdnn_conv2d_dense(")
    assert '#include "patdnn_ops.h"' in text


# ---------------------------------------------------------------------------------------------
# Verifier and syntax
# ---------------------------------------------------------------------------------------------

ROUNDTRIP = """
func.func @f(%x : memref<2x4x9x9xf32>, %y : memref<2x6x5x5xf32>, %p : memref<2x6x2x2xf32>, %q : memref<2x6x3x3xf32>, %s : memref<2x12x3x3xf32>, %r : memref<2x108xf32>, %l : memref<2x5xf32>, %sm : memref<2x5xf32>) {
  nn.conv2d ins(%x : memref<2x4x9x9xf32>) outs(%y : memref<2x6x5x5xf32>) kernel [3, 3] stride [2, 2] padding [1, 1] groups 2 activation relu weights dense<1.000000e+00> : tensor<108xf32> bias dense<5.000000e-01> : tensor<6xf32> {layer = "c1"}
  nn.pool2d ins(%y : memref<2x6x5x5xf32>) outs(%p : memref<2x6x2x2xf32>) kind max kernel [3, 3] stride [2, 2] padding [0, 0]
  nn.conv2d ins(%y, %y : memref<2x6x5x5xf32>, memref<2x6x5x5xf32>) outs(%y : memref<2x6x5x5xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation relu weights dense<1.000000e+00> : tensor<36xf32>
  nn.adaptive_avg_pool2d ins(%y : memref<2x6x5x5xf32>) outs(%q : memref<2x6x3x3xf32>)
  nn.add ins(%q, %q : memref<2x6x3x3xf32>, memref<2x6x3x3xf32>) outs(%q : memref<2x6x3x3xf32>) activation relu6
  nn.concat ins(%q, %q : memref<2x6x3x3xf32>, memref<2x6x3x3xf32>) outs(%s : memref<2x12x3x3xf32>)
  nn.activation ins(%s : memref<2x12x3x3xf32>) outs(%s : memref<2x12x3x3xf32>) activation relu
  nn.reshape ins(%s : memref<2x12x3x3xf32>) outs(%r : memref<2x108xf32>)
  nn.linear ins(%r : memref<2x108xf32>) outs(%l : memref<2x5xf32>) activation none weights #pattern.blob<"m.weights", offset = 64, size = 2160, sha256 = "%s"> bias dense<0.000000e+00> : tensor<5xf32>
  nn.softmax ins(%l : memref<2x5xf32>) outs(%sm : memref<2x5xf32>)
  func.return
}
""".replace('"%s"', '"' + "ab" * 32 + '"')


def _text(module: ModuleOp, generic: bool = False) -> str:
    from io import StringIO

    stream = StringIO()
    Printer(stream, print_generic_format=generic).print_op(module)
    return stream.getvalue()


def test_custom_syntax_round_trips_through_the_generic_form():
    custom = _text(parse_module(ROUNDTRIP))
    generic = _text(parse_module(custom), generic=True)
    assert '"nn.conv2d"' in generic
    assert _text(parse_module(generic)) == custom
    for op in (
        "nn.conv2d ins(",
        "kind max",
        "groups 2",
        "activation relu6",
        "nn.softmax ins(",
        "nn.conv2d ins(%y, %y :",
    ):
        assert op in custom


def test_custom_syntax_rejects_an_unknown_activation():
    text = ROUNDTRIP.replace("activation relu6", "activation mish")
    with pytest.raises(Exception, match="unknown activation 'mish'"):
        parse_module(text)


def _conv_text(out="1x6x5x5", weights=108, groups=2, bias=6, inp="1x4x9x9", residual=None):
    ins = f"%x : memref<{inp}xf32>" if residual is None else f"%x, %r : memref<{inp}xf32>, memref<{residual}xf32>"
    return f"""
func.func @f(%x : memref<{inp}xf32>, %y : memref<{out}xf32>, %r : memref<{residual or out}xf32>) {{
  nn.conv2d ins({ins}) outs(%y : memref<{out}xf32>) kernel [3, 3] stride [2, 2] padding [1, 1] groups {groups} activation none weights dense<1.0> : tensor<{weights}xf32> bias dense<1.0> : tensor<{bias}xf32>
  func.return
}}"""


def test_conv_verifier_accepts_the_good_case():
    parse_module(_conv_text())


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"out": "1x6x4x5"}, r"output height 4 does not match the input: \(9 \+ 2\*1 - 3\) / 2 \+ 1 = 5"),
        ({"weights": 100}, "weights.* 100 values, expected 108"),
        ({"bias": 5}, "bias.* 5 values, expected 6"),
        ({"groups": 3, "weights": 72}, r"groups 3 must be >= 1 and divide both the input channels \(4\)"),
        ({"out": "2x6x5x5"}, "batch sizes differ: input has 1, output has 2"),
        ({"inp": "1x4x9"}, "input must be a 4-d NCHW memref"),
        ({"residual": "1x6x5x4"}, r"residual shape \[1, 6, 5, 4\] must equal the output shape \[1, 6, 5, 5\]"),
    ],
)
def test_conv_verifier_errors(kwargs, message):
    with pytest.raises(VerifyException, match=message):
        parse_module(_conv_text(**kwargs))


@pytest.mark.parametrize(
    "body, message",
    [
        (
            "nn.pool2d ins(%a : memref<1x2x8x8xf32>) outs(%b : memref<1x2x4x4xf32>) kind max kernel [2, 2] stride [2, 2] padding [2, 2]",
            r"padding \[2, 2\] must be at most half the kernel \[2, 2\]",
        ),
        (
            "nn.pool2d ins(%c : memref<1x5x8x8xf32>) outs(%b : memref<1x2x4x4xf32>) kind avg kernel [2, 2] stride [2, 2] padding [0, 0]",
            r"output batch and channels \(1, 2\) must equal the input's \(1, 5\)",
        ),
        (
            "nn.add ins(%a, %a : memref<1x2x8x8xf32>, memref<1x2x8x8xf32>) outs(%b : memref<1x2x4x4xf32>) activation none",
            r"output shape \[1, 2, 4, 4\] must equal the lhs shape \[1, 2, 8, 8\]",
        ),
        (
            "nn.concat ins(%a, %a : memref<1x2x8x8xf32>, memref<1x2x8x8xf32>) outs(%c : memref<1x5x8x8xf32>)",
            "output axis 1 has size 5, expected the sum of the inputs' sizes 4",
        ),
        (
            "nn.linear ins(%f : memref<2x6xf32>) outs(%g : memref<2x3xf32>) activation relu weights dense<1.0> : tensor<17xf32>",
            "weights.* 17 values, expected 18",
        ),
        (
            "nn.reshape ins(%f : memref<2x6xf32>) outs(%g : memref<2x3xf32>)",
            r"output memref<2x3xf32> holds 6 elements, input memref<2x6xf32> holds 12",
        ),
        ("nn.softmax ins(%a : memref<1x2x8x8xf32>) outs(%a : memref<1x2x8x8xf32>) axis 4", "axis 4 must be a dim"),
        (
            "nn.activation ins(%f : memref<2x6xf32>) outs(%f : memref<2x6xf32>) activation none",
            "activation none is a copy",
        ),
    ],
)
def test_other_verifier_errors(body: str, message: str):
    text = f"""
func.func @f(%a : memref<1x2x8x8xf32>, %b : memref<1x2x4x4xf32>, %c : memref<1x5x8x8xf32>, %f : memref<2x6xf32>, %g : memref<2x3xf32>) {{
  {body}
  func.return
}}"""
    with pytest.raises(VerifyException, match=message):
        parse_module(text)
