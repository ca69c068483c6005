"""Convolution variants, resampling and pooling modes in C vs torch: dilated convolutions (dense,
grouped, depthwise), transposed convolutions, nearest / bilinear upsampling and pooling with
ceil_mode, count_include_pad=False and dilation.

As in test_nn_ops: every case goes into ONE module per backend (scalar, NEON via SIMDe, AVX2 and
AVX-512 on the host, NEON on aarch64 under qemu for the small cases), run with 2 threads, each
case compared with torch (max error <= 1e-4 of the output scale). Shapes are odd on purpose
(channel counts not multiples of 4/8/16, batch 2, strides, padding). The OpenCL side is
tests/opencl/test_opencl_resample.py (the same cases); the pattern-pruned dilated convolutions are
in tests/test_pattern_conv.py (DILATED_CASES).
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from op_cases import Built, host_and_qemu_tests, rand, results_for
from test_nn_ops import _act
from xdsl.utils.exceptions import VerifyException

from patdnn.context import parse_module
from patdnn.dialects import nn
from patdnn.nn_builder import weights_attrs
from patdnn.testing import need_toolchain


def dilated_conv(n, cin, cout, h, w, k, stride, padding, dilation, groups=1, act="none", residual=False, blob=False):
    def make(rng, blob_dir) -> Built:
        x = rand(rng, n, cin, h, w)
        weight = rand(rng, cout, cin // groups, k, k, scale=1.0 / np.sqrt(cin // groups * k * k))
        b = rand(rng, cout)
        t = [torch.from_numpy(a) for a in (x, weight, b)]
        y = F.conv2d(*t, stride=stride, padding=padding, dilation=dilation, groups=groups)
        wattr, battr = weights_attrs([weight, b], blob_dir / f"dil{rng.integers(1 << 30)}.weights" if blob else None)
        inputs = [x]
        if residual:
            inputs.append(rand(rng, *y.shape))
            y = y + torch.from_numpy(inputs[1])

        def op(ins, out):
            res = ins[1] if residual else None
            window = dict(kernel=k, stride=stride, padding=padding, groups=groups, dilation=dilation)
            return nn.Conv2dOp(ins[0], out, wattr, battr, activation=act, residual=res, **window)

        return Built(inputs, tuple(y.shape), op, _act(y, act).numpy())

    return make


def conv_transpose(n, cin, cout, h, w, k, stride, padding, output_padding=0, groups=1, dilation=1, act="none"):
    def make(rng, blob_dir) -> Built:
        x = rand(rng, n, cin, h, w)
        weight = rand(rng, cin, cout // groups, k, k, scale=1.0 / np.sqrt(cin // groups * k * k))
        b = rand(rng, cout)
        t = [torch.from_numpy(a) for a in (x, weight, b)]
        y = F.conv_transpose2d(*t, stride, padding, output_padding, groups, dilation)
        wattr, battr = weights_attrs([weight, b])
        window = dict(kernel=k, stride=stride, padding=padding, output_padding=output_padding, groups=groups)

        def op(ins, out):
            return nn.ConvTranspose2dOp(ins[0], out, wattr, battr, activation=act, dilation=dilation, **window)

        return Built([x], tuple(y.shape), op, _act(y, act).numpy())

    return make


def upsample(n, c, h, w, mode, size=None, scale=None, align_corners=False):
    def make(rng, blob_dir) -> Built:
        x = rand(rng, n, c, h, w)
        extra = {"align_corners": align_corners} if mode == "bilinear" else {}
        y = F.interpolate(torch.from_numpy(x), size=size, scale_factor=scale, mode=mode, **extra)
        scales = None if scale is None else ((scale, scale) if isinstance(scale, float) else scale)
        return Built(
            [x], tuple(y.shape), lambda ins, out: nn.Upsample2dOp(ins[0], out, mode, align_corners, scales), y.numpy()
        )

    return make


def pool(kind, n, c, h, w, k, stride, padding=0, dilation=1, ceil_mode=False, count_include_pad=True):
    def make(rng, blob_dir) -> Built:
        x = rand(rng, n, c, h, w)
        t = torch.from_numpy(x)
        if kind == "max":
            y = F.max_pool2d(t, k, stride, padding, dilation, ceil_mode)
        else:
            y = F.avg_pool2d(t, k, stride, padding, ceil_mode, count_include_pad)
        flags = dict(dilation=dilation, ceil_mode=ceil_mode, exclude_padding=not count_include_pad)
        return Built(
            [x], tuple(y.shape), lambda ins, out: nn.Pool2dOp(ins[0], out, kind, k, stride, padding, **flags), y.numpy()
        )

    return make


CASES = {
    # dilated convolutions (DeepLab's ASPP: 3x3, padding = dilation)
    "dil2_dense_same": dilated_conv(2, 5, 7, 11, 13, 3, 1, 2, 2),
    "dil3_dense_stride2": dilated_conv(1, 6, 9, 17, 14, 3, 2, 3, 3, act="relu"),
    "dil2_dense_pad1_rect": dilated_conv(1, 3, 5, 9, 12, 3, 1, (1, 3), (2, 3), act="relu6"),
    "dil2_grouped": dilated_conv(2, 6, 9, 10, 9, 3, 1, 2, 2, groups=3),
    "dil3_depthwise": dilated_conv(2, 7, 7, 13, 11, 3, 1, 3, 3, groups=7, act="relu"),
    "dil2_depthwise_stride2": dilated_conv(1, 5, 5, 15, 16, 3, 2, 1, 2, groups=5),
    "dil2_residual_blob": dilated_conv(1, 4, 6, 8, 9, 3, 1, 2, 2, residual=True, act="relu", blob=True),
    "dil2_5x5": dilated_conv(1, 3, 4, 14, 13, 5, 1, 4, 2),
    "dil2_depthwise_wide_rows": dilated_conv(1, 4, 4, 9, 37, 3, 1, 2, 2, groups=4),  # not the 3x3 row loop
    # a column matrix over 2 MB: gathered and multiplied in row blocks (the last one partial)
    "dil23_grouped_row_blocked": dilated_conv(1, 16, 6, 87, 85, 3, 1, (2, 3), (2, 3), groups=2, act="relu"),
    "dil2_1x1_channel_vectors": dilated_conv(1, 5, 64, 7, 7, 1, 1, 0, 2),  # one tap: the 1x1 paths
    # transposed convolutions
    "convt_s2_p1_op1": conv_transpose(2, 6, 5, 7, 9, 3, 2, 1, 1),
    "convt_s2_k4_p1": conv_transpose(1, 5, 7, 6, 5, 4, 2, 1, act="relu"),
    "convt_s2_k2": conv_transpose(1, 9, 3, 5, 7, 2, 2, 0),
    "convt_s3_p2_op2": conv_transpose(1, 4, 6, 5, 6, 3, 3, 2, 2),
    "convt_depthwise": conv_transpose(2, 6, 6, 7, 8, 3, 2, 1, 1, groups=6),
    "convt_grouped_dil2": conv_transpose(1, 4, 6, 6, 5, 3, 1, 1, groups=2, dilation=2),
    "convt_s1": conv_transpose(1, 3, 4, 6, 7, 3, 1, 1, act="relu6"),
    # upsampling
    "nearest_x2": upsample(2, 3, 5, 7, "nearest", scale=2.0),
    "nearest_x1_5": upsample(1, 5, 7, 9, "nearest", scale=1.5),
    "nearest_x2_7_rect": upsample(1, 2, 5, 6, "nearest", scale=(2.7, 1.3)),
    "nearest_size": upsample(1, 3, 7, 5, "nearest", size=(11, 13)),
    "nearest_down": upsample(2, 2, 9, 11, "nearest", size=(4, 6)),
    "bilinear_x2": upsample(2, 3, 6, 7, "bilinear", scale=2.0),
    "bilinear_x1_7": upsample(1, 4, 7, 5, "bilinear", scale=1.7),
    "bilinear_size": upsample(1, 3, 5, 9, "bilinear", size=(13, 10)),
    "bilinear_align_x2": upsample(1, 5, 6, 7, "bilinear", scale=2.0, align_corners=True),
    "bilinear_align_size": upsample(2, 2, 5, 8, "bilinear", size=(9, 17), align_corners=True),
    "bilinear_align_to1": upsample(1, 2, 5, 6, "bilinear", size=(1, 4), align_corners=True),
    "bilinear_down": upsample(1, 3, 11, 10, "bilinear", size=(6, 4)),
    # pooling modes
    "max_ceil_3s2": pool("max", 2, 5, 14, 13, 3, 2, ceil_mode=True),
    "max_ceil_3s2_p1": pool("max", 1, 3, 10, 11, 3, 2, 1, ceil_mode=True),
    "max_ceil_2s2_odd": pool("max", 1, 4, 9, 7, 2, 2, ceil_mode=True),
    "max_dil2": pool("max", 1, 3, 11, 12, 3, 1, 1, dilation=2),
    "max_dil2_ceil_s2": pool("max", 2, 3, 12, 13, 3, 2, 1, dilation=2, ceil_mode=True),
    "avg_ceil_3s2": pool("avg", 1, 5, 13, 14, 3, 2, ceil_mode=True),
    "avg_ceil_3s2_p1": pool("avg", 2, 3, 10, 9, 3, 2, 1, ceil_mode=True),
    "avg_exclude_pad": pool("avg", 1, 4, 9, 10, 3, 1, 1, count_include_pad=False),
    "avg_exclude_pad_ceil": pool("avg", 1, 3, 11, 8, 3, 2, 1, ceil_mode=True, count_include_pad=False),
    "avg_ceil_2s2_odd": pool("avg", 1, 2, 7, 9, 2, 2, ceil_mode=True),
}
QEMU_CASES = [
    "dil2_dense_same",
    "dil3_depthwise",
    "dil2_residual_blob",
    "dil23_grouped_row_blocked",
    "convt_s2_p1_op1",
    "convt_grouped_dil2",
    "nearest_x1_5",
    "bilinear_x1_7",
    "bilinear_align_size",
    "max_dil2_ceil_s2",
    "avg_exclude_pad_ceil",
]


test_host_matches_torch, test_aarch64_matches_torch, test_simde_bit_identical_to_aarch64 = host_and_qemu_tests(
    CASES, QEMU_CASES
)


def test_nearest_index_is_exact_at_awkward_scales(tmp_path_factory):
    """A non-integer scale whose source index sits on a float rounding edge: one wrong index would
    show as an O(1) error, so nearest must match torch exactly."""
    need_toolchain("host", "scalar")
    for case in ("nearest_x1_5", "nearest_x2_7_rect", "nearest_size", "nearest_down"):
        actual, expected = results_for("scalar", "host", list(CASES), tmp_path_factory, CASES)[case]
        np.testing.assert_array_equal(actual, expected, case)


# ---------------------------------------------------------------------------------------------
# Verifiers and syntax
# ---------------------------------------------------------------------------------------------

X = "memref<1x4x9x9xf32>"


def _module(body: str, out_type: str) -> str:
    return f"func.func @f(%a : {X}) {{\n  %b = memref.alloc() : {out_type}\n  {body}\n  func.return\n}}"


W = "weights dense<1.0> : tensor<1xf32>"


@pytest.mark.parametrize(
    "body,out,message",
    [
        (
            f"nn.conv2d ins(%a : {X}) outs(%b : memref<1x1x9x9xf32>) kernel [3, 3] stride [1, 1] padding [1, 1] "
            f"dilation [2, 2] groups 1 activation none {W}",
            "memref<1x1x9x9xf32>",
            "output height 9 does not match the input: (9 + 2*1 - (2*(3 - 1) + 1)) / 1 + 1 = 7",
        ),
        (
            f"nn.conv2d ins(%a : {X}) outs(%b : memref<1x1x9x9xf32>) kernel [3, 3] stride [1, 1] padding [1, 1] "
            f"dilation [0, 2] groups 1 activation none {W}",
            "memref<1x1x9x9xf32>",
            "dilation [0, 2] must be two integers >= 1",
        ),
        (
            f"nn.pool2d ins(%a : {X}) outs(%b : memref<1x4x5x5xf32>) kind max kernel [3, 3] stride [2, 2] "
            "padding [0, 0] ceil_mode",
            "memref<1x4x5x5xf32>",
            "output height 5 does not match the input: ceil((9 + 2*0 - 3) / 2) (less one if it starts past "
            "the input) + 1 = 4",
        ),
        (
            f"nn.pool2d ins(%a : {X}) outs(%b : memref<1x4x7x7xf32>) kind avg kernel [3, 3] stride [1, 1] "
            "padding [0, 0] dilation [2, 2]",
            "memref<1x4x7x7xf32>",
            "dilation applies to max pooling only",
        ),
        (
            f"nn.pool2d ins(%a : {X}) outs(%b : memref<1x4x7x7xf32>) kind max kernel [3, 3] stride [1, 1] "
            "padding [0, 0] exclude_padding",
            "memref<1x4x7x7xf32>",
            "exclude_padding applies to average pooling only",
        ),
        (
            f"nn.conv_transpose2d ins(%a : {X}) outs(%b : memref<1x2x18x18xf32>) kernel [3, 3] stride [2, 2] "
            f"padding [1, 1] output_padding [0, 0] groups 1 activation none {W}",
            "memref<1x2x18x18xf32>",
            "output height 18 does not match the input: (9 - 1)*2 - 2*1 + 1*(3 - 1) + 0 + 1 = 17",
        ),
        (
            f"nn.conv_transpose2d ins(%a : {X}) outs(%b : memref<1x2x19x19xf32>) kernel [3, 3] stride [2, 2] "
            f"padding [1, 1] output_padding [2, 2] groups 1 activation none {W}",
            "memref<1x2x19x19xf32>",
            "output_padding [2, 2] must be smaller than the stride [2, 2] or the dilation [1, 1]",
        ),
        (
            f"nn.upsample2d ins(%a : {X}) outs(%b : memref<1x4x18x17xf32>) mode nearest scale [2.0, 2.0]",
            "memref<1x4x18x17xf32>",
            "output size [18, 17] does not match the input [9, 9] times scale [2.0, 2.0]",
        ),
        (
            f"nn.upsample2d ins(%a : {X}) outs(%b : memref<1x4x18x18xf32>) mode nearest align_corners",
            "memref<1x4x18x18xf32>",
            "align_corners applies to bilinear upsampling only",
        ),
    ],
)
def test_verifier_errors(body: str, out: str, message: str):
    with pytest.raises(VerifyException, match=re.escape(message)):
        parse_module(_module(body, out)).verify()


def test_custom_syntax_round_trips_and_defaults_print_nothing():
    text = f"""func.func @f(%a : {X}) {{
  %b = memref.alloc() : memref<1x4x5x5xf32>
  nn.conv2d ins(%a : {X}) outs(%b : memref<1x4x5x5xf32>) kernel [3, 3] stride [1, 1] padding [0, 0] dilation [2, 2] groups 4 activation relu weights dense<1.0> : tensor<36xf32>
  %c = memref.alloc() : memref<1x4x5x5xf32>
  nn.pool2d ins(%a : {X}) outs(%c : memref<1x4x5x5xf32>) kind avg kernel [3, 3] stride [2, 2] padding [1, 1] ceil_mode exclude_padding
  %d = memref.alloc() : memref<1x4x3x3xf32>
  nn.pool2d ins(%a : {X}) outs(%d : memref<1x4x3x3xf32>) kind max kernel [3, 3] stride [2, 2] padding [0, 0] dilation [2, 2] ceil_mode
  %e = memref.alloc() : memref<1x2x18x18xf32>
  nn.conv_transpose2d ins(%a : {X}) outs(%e : memref<1x2x18x18xf32>) kernel [3, 3] stride [2, 2] padding [1, 1] output_padding [1, 1] groups 2 activation none weights dense<1.0> : tensor<36xf32>
  %f = memref.alloc() : memref<1x4x13x13xf32>
  nn.upsample2d ins(%a : {X}) outs(%f : memref<1x4x13x13xf32>) mode nearest scale [1.5, 1.5]
  %g = memref.alloc() : memref<1x4x4x17xf32>
  nn.upsample2d ins(%a : {X}) outs(%g : memref<1x4x4x17xf32>) mode bilinear align_corners
  %h = memref.alloc() : memref<1x4x9x9xf32>
  nn.conv2d ins(%a : {X}) outs(%h : memref<1x4x9x9xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] dilation [1, 1] groups 4 activation none weights dense<1.0> : tensor<4xf32>
  func.return
}}"""
    module = parse_module(text)
    module.verify()
    printed = str(module)
    for fragment in (
        "padding [0, 0] dilation [2, 2] groups 4 activation relu",
        "kind avg kernel [3, 3] stride [2, 2] padding [1, 1] ceil_mode exclude_padding",
        "kind max kernel [3, 3] stride [2, 2] padding [0, 0] dilation [2, 2] ceil_mode",
        "padding [1, 1] output_padding [1, 1] groups 2 activation none",
        "mode nearest scale [1.5, 1.5]",
        "mode bilinear align_corners",
    ):
        assert fragment in printed
    assert "dilation [1, 1]" not in printed  # the default prints nothing: the text of old layers stays
    assert str(parse_module(printed)) == printed


def test_lr_refuses_what_it_cannot_describe(tmp_path):
    """LR has no field for dilation or the pooling modes: one line, not a silently different model."""
    from patdnn.lr.errors import LrError
    from patdnn.lr.printer import module_to_lr

    body = (
        f"nn.pool2d ins(%input : {X}) outs(%output : memref<1x4x5x5xf32>) kind avg kernel [3, 3] "
        "stride [2, 2] padding [1, 1] ceil_mode exclude_padding"
    )
    text = f"func.func @m(%input : {X}, %output : memref<1x4x5x5xf32>) {{\n  {body}\n  func.return\n}}"
    with pytest.raises(LrError, match=re.escape("has ceil_mode and exclude_padding, which LR cannot describe")):
        module_to_lr(parse_module(text), tmp_path, "w.bin")
