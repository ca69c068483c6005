"""The nn layout and normalisation ops (permute, channel_shuffle, slice, concat along any axis,
layer_norm, softmax / log-softmax along any axis, scale_shift, mean) in C vs torch.

As in test_nn_ops: every case goes into ONE module per backend (scalar, NEON via SIMDe, AVX2 and
AVX-512 on the host, NEON on aarch64 under qemu for the small cases), run with 2 threads, each
case compared with torch (max error <= 1e-4 of the output scale). Shapes are odd on purpose
(channel counts not multiples of 4/8/16, batch 2, rank 2 to 6).
"""

from __future__ import annotations

import re
import subprocess

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from op_cases import Built, Case, host_and_qemu_tests, rand
from test_nn_ops import _act
from xdsl.utils.exceptions import VerifyException

from patdnn.context import parse_module
from patdnn.dialects import nn
from patdnn.nn_builder import weights_attrs
from patdnn.runtime import RUNTIME_DIR
from patdnn.testing import need_toolchain


def permute(shape, perm):
    def make(rng, blob_dir) -> Built:
        x = rand(rng, *shape)
        y = torch.from_numpy(x).permute(*perm).contiguous()
        return Built([x], tuple(y.shape), lambda ins, out: nn.PermuteOp(ins[0], out, perm), y.numpy())

    return make


def shuffle(shape, groups):
    def make(rng, blob_dir) -> Built:
        x = rand(rng, *shape)
        n, c = shape[:2]
        y = torch.from_numpy(x).view(n, groups, c // groups, *shape[2:]).transpose(1, 2).reshape(shape)
        return Built([x], shape, lambda ins, out: nn.ChannelShuffleOp(ins[0], out, groups), y.numpy())

    return make


def slice_(shape, axis, start, size, step=1):
    def make(rng, blob_dir) -> Built:
        x = rand(rng, *shape)
        index = [slice(None)] * len(shape)
        index[axis] = slice(start, start + size * step, step)
        y = np.ascontiguousarray(x[tuple(index)])
        return Built([x], y.shape, lambda ins, out: nn.SliceOp(ins[0], out, axis, start, step), y)

    return make


def concat(shapes, axis):
    def make(rng, blob_dir) -> Built:
        xs = [rand(rng, *s) for s in shapes]
        y = np.concatenate(xs, axis=axis)
        return Built(xs, y.shape, lambda ins, out: nn.ConcatOp(ins, out, axis), y)

    return make


def layer_norm(shape, axes, affine=True, eps=1e-5, blob=False):
    def make(rng, blob_dir) -> Built:
        x = rand(rng, *shape, scale=3.0) + 2.0  # an offset: the mean matters
        norm = [shape[a] for a in axes]
        w = rand(rng, *norm) if affine else None
        b = rand(rng, *norm) if affine else None
        t = torch.from_numpy(x)
        last = list(range(axes[-1] + 1, len(shape)))  # move the normalised dims last for torch
        moved = t.movedim(last, list(range(axes[0], axes[0] + len(last)))) if last else t
        y = F.layer_norm(
            moved, norm, None if w is None else torch.from_numpy(w), None if b is None else torch.from_numpy(b), eps
        )
        y = y.movedim(list(range(axes[0], axes[0] + len(last))), last) if last else y
        wattr, battr = (
            weights_attrs([w.ravel(), b.ravel()], blob_dir / f"ln{rng.integers(1 << 30)}.weights" if blob else None)
            if affine
            else (None, None)
        )
        return Built([x], shape, lambda ins, out: nn.LayerNormOp(ins[0], out, axes, eps, wattr, battr), y.numpy())

    return make


def softmax(shape, axis, log=False, scale=3.0):
    def make(rng, blob_dir) -> Built:
        x = rand(rng, *shape, scale=scale)
        fn = torch.log_softmax if log else torch.softmax
        y = fn(torch.from_numpy(x), dim=axis)
        return Built([x], shape, lambda ins, out: nn.SoftmaxOp(ins[0], out, axis, log), y.numpy())

    return make


def scale_shift(shape, act="none", bias=True):
    def make(rng, blob_dir) -> Built:
        x = rand(rng, *shape, scale=4.0)
        w, b = rand(rng, shape[1]), rand(rng, shape[1]) if bias else None
        view = (1, shape[1]) + (1,) * (len(shape) - 2)
        y = torch.from_numpy(x) * torch.from_numpy(w).view(view)
        y = y + torch.from_numpy(b).view(view) if bias else y
        wattr, battr = weights_attrs([w, b], None)
        return Built([x], shape, lambda ins, out: nn.ScaleShiftOp(ins[0], out, wattr, battr, act), _act(y, act).numpy())

    return make


def mean(shape, axes, keepdim):
    def make(rng, blob_dir) -> Built:
        x = rand(rng, *shape)
        y = torch.from_numpy(x).mean(dim=axes, keepdim=keepdim)
        return Built([x], tuple(y.shape), lambda ins, out: nn.MeanOp(ins[0], out, axes), y.numpy())

    return make


CASES: dict[str, Case] = {
    "permute_nchw_to_nhwc_batch2": permute((2, 7, 5, 9), (0, 2, 3, 1)),
    "permute_nhwc_to_nchw": permute((1, 5, 9, 13), (0, 3, 1, 2)),
    "permute_5d_shuffle_form": permute((2, 3, 5, 3, 7), (0, 2, 1, 3, 4)),
    "permute_6d": permute((2, 3, 1, 4, 5, 3), (5, 0, 3, 2, 4, 1)),
    "permute_2d_transpose": permute((37, 19), (1, 0)),
    "permute_3d_size1_dims": permute((1, 11, 1), (2, 0, 1)),
    "shuffle_g2_batch2": shuffle((2, 6, 5, 7), 2),
    "shuffle_g3_c57": shuffle((1, 57, 3, 5), 3),
    "shuffle_2d_g4": shuffle((3, 20), 4),
    "slice_channels_batch2": slice_((2, 9, 5, 7), 1, 3, 5),
    "slice_width_step2": slice_((1, 3, 5, 11), 3, 0, 6, 2),
    "slice_rows_step3": slice_((2, 5, 13, 4), 2, 1, 4, 3),
    "slice_batch": slice_((3, 4, 3, 3), 0, 1, 2),
    "slice_2d_last": slice_((4, 37), 1, 30, 7),
    "concat_axis0": concat([(2, 3, 4, 5), (1, 3, 4, 5)], 0),
    "concat_axis2_batch2": concat([(2, 3, 4, 5), (2, 3, 1, 5), (2, 3, 7, 5)], 2),
    "concat_axis3": concat([(1, 3, 4, 5), (1, 3, 4, 2)], 3),
    "concat_5d_axis4": concat([(2, 3, 2, 2, 3), (2, 3, 2, 2, 5)], 4),
    "layer_norm_channels_nchw_batch2": layer_norm((2, 13, 5, 7), [1]),
    "layer_norm_channels_no_affine": layer_norm((1, 96, 3, 3), [1], affine=False, eps=1e-6),
    "layer_norm_last_nhwc_blob": layer_norm((2, 5, 7, 37), [3], blob=True),
    "layer_norm_last_2d": layer_norm((3, 300), [1], eps=1e-3),
    "layer_norm_last_two_dims": layer_norm((2, 3, 5, 6), [2, 3]),
    "layer_norm_3d_no_affine": layer_norm((2, 17, 11), [2], affine=False),
    "softmax_channels_nchw": softmax((2, 11, 5, 7), 1),
    "log_softmax_channels": softmax((2, 11, 5, 7), 1, log=True),
    "log_softmax_2d_last": softmax((3, 1000), 1, log=True, scale=20.0),
    "softmax_axis0": softmax((5, 3, 4), 0),
    "softmax_3d_middle_large": softmax((2, 9, 300), 1, scale=50.0),
    "softmax_4d_last": softmax((2, 3, 4, 19), 3),
    "scale_shift_relu_batch2": scale_shift((2, 13, 7, 9), "relu"),
    "scale_shift_relu6_no_bias": scale_shift((1, 5, 11, 3), "relu6", bias=False),
    "scale_shift_2d": scale_shift((3, 37)),
    "mean_channels_keepdim": mean((2, 13, 5, 7), [1], True),
    "mean_channels_squeezed": mean((2, 13, 5, 7), [1], False),
    "mean_spatial_squeezed": mean((2, 5, 9, 11), [2, 3], False),
    "mean_batch": mean((3, 4, 5), [0], True),
}
QEMU_CASES = [
    "permute_nchw_to_nhwc_batch2",
    "permute_6d",
    "shuffle_g2_batch2",
    "slice_width_step2",
    "concat_axis2_batch2",
    "layer_norm_channels_nchw_batch2",
    "layer_norm_last_nhwc_blob",
    "softmax_channels_nchw",
    "log_softmax_channels",
    "scale_shift_relu_batch2",
    "mean_channels_keepdim",
]


# softmax is exempt from bit identity: expf is each target's libm
test_host_matches_torch, test_aarch64_matches_torch, test_simde_bit_identical_to_aarch64 = host_and_qemu_tests(
    CASES, QEMU_CASES, exempt_from_bit_identity=lambda case: "softmax" in case
)


# ---------------------------------------------------------------------------------------------
# Verifiers and syntax
# ---------------------------------------------------------------------------------------------

T = "memref<2x6x5x7xf32>"


@pytest.mark.parametrize(
    "body,message",
    [
        (f"nn.permute ins(%a : {T}) outs(%b : memref<2x5x7x6xf32>) perm [0, 2, 2, 1]", "must be a permutation"),
        (f"nn.permute ins(%a : {T}) outs(%b : {T}) perm [0, 2, 3, 1]", "must be [2, 5, 7, 6]"),
        (f"nn.channel_shuffle ins(%a : {T}) outs(%b : {T}) groups 4", "divide the channels (6)"),
        (f"nn.slice ins(%a : {T}) outs(%b : memref<2x3x5x7xf32>) axis 1 start 4 step 1", "must select within"),
        (f"nn.slice ins(%a : {T}) outs(%b : memref<2x3x5x6xf32>) axis 1 start 0 step 1", "except along axis 1"),
        (f"nn.layer_norm ins(%a : {T}) outs(%b : {T}) axes [1, 3] eps 1.0e-05", "ascending contiguous"),
        (f"nn.mean ins(%a : {T}) outs(%b : memref<2x6xf32>) axes [1]", "must be [2, 1, 5, 7] or [2, 5, 7]"),
        (f"nn.softmax ins(%a : {T}) outs(%b : {T}) axis 4", "axis 4 must be a dim"),
        (f"nn.concat ins(%a, %a : {T}, {T}) outs(%b : memref<2x6x5x14xf32>) axis 2", "except along axis 2"),
    ],
)
def test_verifier_errors(body: str, message: str):
    out_type = body.split("outs(%b : ")[1].split(")")[0]
    text = f"func.func @f(%a : {T}) {{\n  %b = memref.alloc() : {out_type}\n  {body}\n  func.return\n}}"
    with pytest.raises(VerifyException, match=re.escape(message)):
        parse_module(text).verify()


def test_custom_syntax_round_trips():
    text = f"""func.func @f(%a : {T}, %w : memref<6xf32>) {{
  %b = memref.alloc() : memref<2x5x7x6xf32>
  nn.permute ins(%a : {T}) outs(%b : memref<2x5x7x6xf32>) perm [0, 2, 3, 1]
  %c = memref.alloc() : {T}
  nn.channel_shuffle ins(%a : {T}) outs(%c : {T}) groups 3
  %d = memref.alloc() : memref<2x2x5x7xf32>
  nn.slice ins(%a : {T}) outs(%d : memref<2x2x5x7xf32>) axis 1 start 1 step 2
  nn.layer_norm ins(%a : {T}) outs(%c : {T}) axes [1] eps 1.0e-06 weights dense<1.0> : tensor<6xf32>
  nn.layer_norm ins(%a : {T}) outs(%c : {T}) axes [2, 3] eps 0.001
  nn.scale_shift ins(%a : {T}) outs(%c : {T}) activation relu weights dense<2.0> : tensor<6xf32>
  %e = memref.alloc() : memref<2x1x5x7xf32>
  nn.mean ins(%a : {T}) outs(%e : memref<2x1x5x7xf32>) axes [1]
  nn.softmax ins(%a : {T}) outs(%c : {T}) axis 1 log
  %g = memref.alloc() : memref<4x6x5x7xf32>
  nn.concat ins(%a, %a : {T}, {T}) outs(%g : memref<4x6x5x7xf32>) axis 0
  func.return
}}"""
    module = parse_module(text)
    module.verify()
    printed = str(module)
    assert str(parse_module(printed)) == printed
    for expected in (
        "perm [0, 2, 3, 1]",
        "groups 3",
        "axis 1 start 1 step 2",
        "axes [1] eps 1.0e-06 weights",
        "axes [2, 3] eps 0.001",
        "activation relu weights",
        "axis 1 log",
        "axis 0",
    ):
        assert expected in printed


@pytest.mark.parametrize("target,march", [("host", "x86-64-v3"), ("host", "x86-64-v4"), ("aarch64", None)])
def test_layout_kernels_compile_warning_free(target: str, march: str | None, tmp_path):
    need_toolchain(target)
    cc = "gcc" if target == "host" else "aarch64-linux-gnu-gcc"
    flags = [f"-march={march}"] if target == "host" else ["-mcpu=cortex-a76"]
    source = RUNTIME_DIR / "ops_layout.c"
    cmd = [cc, "-O3", "-std=c11", "-Wall", "-Wextra", "-Wpedantic", "-Werror", *flags, f"-I{RUNTIME_DIR}", "-c"]
    proc = subprocess.run([*cmd, str(source), "-o", str(tmp_path / "ops_layout.o")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
