"""OpenCL launches for `nn` dialect ops: each op runs one (concat: one per input) kernel of
runtime/opencl_kernels.cl, on (buffer, element offset) tensors, weights uploaded at init.

`NN_LAUNCHES` is the one place where an nn op class becomes OpenCL launches: each entry declares
the op's weights on the host emitter state (through the C target's `declare_layer_weights`, so
blobs are resolved and checked the same way and symbols are the C target's) and returns the
launches. `print_nn_op` is the printer's handler of those classes.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from xdsl.dialects import memref
from xdsl.ir import Operation, SSAValue

from patdnn.backend.activation import opencl_code
from patdnn.backend.common import EmitError, lookup
from patdnn.backend.opencl.state import Launch, OpenCLState, buf, layer_label, num
from patdnn.dialects import common, nn
from patdnn.dialects.common import ActivationAttr
from patdnn.dialects.nn_binary import BINARY_KINDS, binary_geometry
from patdnn.dialects.nn_layout import MAX_PERMUTE_RANK, reduced_permutation, shuffle_view, split_dims
from patdnn.dialects.nn_prelu import prelu_geometry

POOL_CODE = {nn.PoolKind.MAX: 0, nn.PoolKind.AVG: 1}
UPSAMPLE_CODE = {nn.UpsampleMode.NEAREST: 0, nn.UpsampleMode.BILINEAR: 1}  # as pdnn_upsample2d's mode
CONV_BLOCK = 4  # PDNN_CONV_BLOCK of runtime/opencl_kernels.cl


def act_code(emitter: OpenCLState, act: ActivationAttr) -> int:
    """The `int act` of a runtime kernel (a parametrised kind: an entry of the program's table)."""
    return opencl_code(act, emitter.act_table)


def _device_weights(emitter: OpenCLState, op: Operation, kind: str) -> tuple[str, str]:
    """Buffer ids of the op's weights and bias ("-1": no bias)."""
    w, b = emitter.declare_layer_weights(op, kind)
    bias = emitter.upload_weights(b, op.bias) if op.bias is not None else "-1"
    return emitter.upload_weights(w, op.weights), bias


def _tensor(emitter: OpenCLState, value: SSAValue) -> list[str]:
    buffer_id, offset = emitter.tensor(value)
    return [buf(buffer_id), num(offset)]


def _conv(emitter: OpenCLState, op: nn.Conv2dOp) -> list[Launch]:
    w, b = _device_weights(emitter, op, "conv")
    n, cin, h, wd = common.shape_of(op.input)
    _, cout, ho, wo = common.shape_of(op.output)
    (kh, kw), (sh, sw), (ph, pw) = common.pair(op.kernel), common.pair(op.stride), common.pair(op.padding)
    window = [kh, kw, sh, sw, ph, pw, *common.dilation_of(op)]
    sizes = [cin, h, wd, cout, ho, wo, *window, op.groups.value.data, act_code(emitter, op.activation)]
    output = _tensor(emitter, op.output)
    residual = _tensor(emitter, op.residual) if op.residual is not None else [output[0], num(-1)]
    args = [*_tensor(emitter, op.input), *output, *residual, buf(w), buf(b), *map(num, sizes)]
    groups = op.groups.value.data
    blocks = -(-(cout // groups) // CONV_BLOCK)  # output channels per work-item, within a group
    return [Launch.fixed("pdnn_conv2d", args, (wo, ho, n * groups * blocks))]


def _pool(emitter: OpenCLState, op: nn.Pool2dOp) -> list[Launch]:
    n, c, h, wd = common.shape_of(op.input)
    _, _, ho, wo = common.shape_of(op.output)
    (kh, kw), (sh, sw), (ph, pw) = common.pair(op.kernel), common.pair(op.stride), common.pair(op.padding)
    window = [kh, kw, sh, sw, ph, pw, *common.dilation_of(op), int(op.exclude_padding is not None)]
    sizes = [POOL_CODE[op.kind.data], h, wd, ho, wo, *window]  # ceil_mode: in ho, wo
    args = [*_tensor(emitter, op.input), *_tensor(emitter, op.output), *map(num, sizes)]
    return [Launch.fixed("pdnn_pool2d", args, (wo, ho, n * c))]


def _conv_transpose(emitter: OpenCLState, op: nn.ConvTranspose2dOp) -> list[Launch]:
    w, b = _device_weights(emitter, op, "convt")
    n, cin, h, wd = common.shape_of(op.input)
    _, cout, ho, wo = common.shape_of(op.output)
    (kh, kw), (sh, sw), (ph, pw) = common.pair(op.kernel), common.pair(op.stride), common.pair(op.padding)
    window = [kh, kw, sh, sw, ph, pw, *common.dilation_of(op), op.groups.value.data]
    sizes = [cin, h, wd, cout, ho, wo, *window, act_code(emitter, op.activation)]
    args = [*_tensor(emitter, op.input), *_tensor(emitter, op.output), buf(w), buf(b), *map(num, sizes)]
    return [Launch.fixed("pdnn_conv_transpose2d", args, (wo, ho, n * cout))]


def _upsample(emitter: OpenCLState, op: nn.Upsample2dOp) -> list[Launch]:
    n, c, h, wd = common.shape_of(op.input)
    _, _, ho, wo = common.shape_of(op.output)
    mode = [UPSAMPLE_CODE[op.mode.data], int(op.align_corners is not None)]
    scales = np.array(op.source_scales(), dtype=np.float32).view(np.int32)  # the f32 bits: arguments are ints
    args = [*_tensor(emitter, op.input), *_tensor(emitter, op.output), *map(num, [*mode, h, wd, ho, wo, *scales])]
    return [Launch.fixed("pdnn_upsample2d", args, (wo, ho, n * c))]


def _adaptive_avg_pool(emitter: OpenCLState, op: nn.AdaptiveAvgPool2dOp) -> list[Launch]:
    n, c, h, wd = common.shape_of(op.input)
    _, _, ho, wo = common.shape_of(op.output)
    args = [*_tensor(emitter, op.input), *_tensor(emitter, op.output), *map(num, (h, wd, ho, wo))]
    return [Launch.fixed("pdnn_adaptive_avg_pool2d", args, (wo, ho, n * c))]


def _add(emitter: OpenCLState, op: nn.AddOp) -> list[Launch]:
    count = common.element_count(op.output)
    args = [
        *_tensor(emitter, op.lhs),
        *_tensor(emitter, op.rhs),
        *_tensor(emitter, op.output),
        num(count),
        num(act_code(emitter, op.activation)),
    ]
    return [Launch.fixed("pdnn_add", args, (count,))]


def _prelu(emitter: OpenCLState, op: nn.PReluOp) -> list[Launch]:
    slopes = emitter.device_weights(f"{emitter.layer_symbol(op, 'prelu', group='nn')}_w", op.weights)
    outer, channels, inner, count = prelu_geometry(op)
    args = [*_tensor(emitter, op.input), *_tensor(emitter, op.output), buf(slopes)]
    args += [num(channels), num(inner), num(count)]
    return [Launch.fixed("pdnn_prelu", args, (inner, outer * channels))]


def _binary(emitter: OpenCLState, op: nn.BinaryOp) -> list[Launch]:
    dims, strides = binary_geometry(op)
    count = common.element_count(op.output)
    kind = BINARY_KINDS.index(op.kind.data)  # PDNN_BINARY_* order
    args = [*_tensor(emitter, op.lhs), *_tensor(emitter, op.rhs), *_tensor(emitter, op.output)]
    args += [num(v) for v in (count, *dims[1:], *strides, kind, act_code(emitter, op.activation))]
    return [Launch.fixed("pdnn_binary", args, (count,))]


def _activation(emitter: OpenCLState, op: nn.ActivationOp | nn.ReshapeOp) -> list[Launch]:
    act = act_code(emitter, op.activation) if isinstance(op, nn.ActivationOp) else 0  # reshape: a copy
    count = common.element_count(op.output)
    args = [*_tensor(emitter, op.input), *_tensor(emitter, op.output), num(count), num(act)]
    return [Launch.fixed("pdnn_activation", args, (count,))]


def _concat(emitter: OpenCLState, op: nn.ConcatOp) -> list[Launch]:
    outer = split_dims(common.shape_of(op.output), op.axis_index(), op.axis_index())[0]
    out_buf, out_off = emitter.tensor(op.output)
    out_inner = common.element_count(op.output) // outer
    launches, start = [], 0
    for value in op.inputs:
        inner = common.element_count(value) // outer
        args = [*_tensor(emitter, value), buf(out_buf), num(out_off + start), num(inner), num(out_inner)]
        launches.append(Launch.fixed("pdnn_concat_part", args, (inner, outer)))
        start += inner
    return launches


def _linear(emitter: OpenCLState, op: nn.LinearOp) -> list[Launch]:
    w, b = _device_weights(emitter, op, "fc")
    n, k = common.shape_of(op.input)
    m = common.shape_of(op.output)[1]
    args = [
        *_tensor(emitter, op.input),
        *_tensor(emitter, op.output),
        buf(w),
        buf(b),
        num(k),
        num(m),
        num(act_code(emitter, op.activation)),
    ]
    return [Launch.fixed("pdnn_linear", args, (m, n))]


def _softmax(emitter: OpenCLState, op: nn.SoftmaxOp) -> list[Launch]:
    outer, m, inner = split_dims(common.shape_of(op.input), op.axis_index(), op.axis_index())
    io = [*_tensor(emitter, op.input), *_tensor(emitter, op.output)]
    if inner == 1 and op.log is None:
        return [Launch.fixed("pdnn_softmax", [*io, num(outer), num(m)], (outer,))]
    args = [*io, num(m), num(inner), num(int(op.log is not None))]
    return [Launch.fixed("pdnn_softmax_axis", args, (inner, outer))]


# -- layout and normalisation ------------------------------------------------------------------


def _permute_launch(emitter: OpenCLState, op: Operation, dims: list[int], perm: list[int]) -> list[Launch]:
    io = [*_tensor(emitter, op.input), *_tensor(emitter, op.output)]
    count = common.element_count(op.output)
    if perm == sorted(perm):  # nothing moves: a copy
        return [Launch.fixed("pdnn_activation", [*io, num(count), num(0)], (count,))]
    in_strides = [int(np.prod(dims[k + 1 :])) for k in range(len(dims))]
    pad = MAX_PERMUTE_RANK - len(dims)
    out_dims = [1] * pad + [dims[p] for p in perm]
    strides = [0] * pad + [in_strides[p] for p in perm]
    rows = count // out_dims[-1]
    args = [*io, *map(num, out_dims[1:]), *map(num, strides), num(rows)]
    return [Launch.fixed("pdnn_permute", args, (out_dims[-1], rows))]


def _permute(emitter: OpenCLState, op: nn.PermuteOp) -> list[Launch]:
    return _permute_launch(emitter, op, *reduced_permutation(common.shape_of(op.input), list(op.perm.get_values())))


def _channel_shuffle(emitter: OpenCLState, op: nn.ChannelShuffleOp) -> list[Launch]:
    return _permute_launch(emitter, op, *shuffle_view(common.shape_of(op.input), op.groups.value.data))


def _slice(emitter: OpenCLState, op: nn.SliceOp) -> list[Launch]:
    axis = op.axis.value.data
    outer, in_len, inner = split_dims(common.shape_of(op.input), axis, axis)
    out_len = common.shape_of(op.output)[axis]
    sizes = [in_len, out_len, inner, op.start.value.data, op.step.value.data]
    args = [*_tensor(emitter, op.input), *_tensor(emitter, op.output), *map(num, sizes)]
    return [Launch.fixed("pdnn_slice", args, (inner, out_len, outer))]


def _layer_norm(emitter: OpenCLState, op: nn.LayerNormOp) -> list[Launch]:
    prefix = emitter.layer_symbol(op, "norm", group="nn")
    params = [
        emitter.device_weights(f"{prefix}_{suffix}", getattr(op, key))
        for key, suffix in (("weights", "w"), ("bias", "b"))
    ]
    axes = list(op.axes.get_values())
    outer, m, inner = split_dims(common.shape_of(op.input), axes[0], axes[-1])
    eps_bits = int(np.array(op.eps.value.data, np.float32).view(np.int32))
    args = [
        *_tensor(emitter, op.input),
        *_tensor(emitter, op.output),
        *map(buf, params),
        num(m),
        num(inner),
        num(eps_bits),
    ]
    return [Launch.fixed("pdnn_layer_norm", args, (inner, outer))]


def _mean(emitter: OpenCLState, op: nn.MeanOp) -> list[Launch]:
    axes = list(op.axes.get_values())
    outer, m, inner = split_dims(common.shape_of(op.input), axes[0], axes[-1])
    args = [*_tensor(emitter, op.input), *_tensor(emitter, op.output), num(m), num(inner)]
    return [Launch.fixed("pdnn_mean_axes", args, (inner, outer))]


def _scale_shift(emitter: OpenCLState, op: nn.ScaleShiftOp) -> list[Launch]:
    w, b = _device_weights(emitter, op, "affine")
    outer, c, inner = split_dims(common.shape_of(op.input), 1, 1)
    sizes = [c, inner, act_code(emitter, op.activation)]
    args = [*_tensor(emitter, op.input), *_tensor(emitter, op.output), buf(w), buf(b), *map(num, sizes)]
    return [Launch.fixed("pdnn_scale_shift", args, (inner, outer * c))]


def _constant(emitter: OpenCLState, op: nn.ConstantOp) -> list[Launch]:
    """The values are uploaded once at init; a buffer plan-buffers bound to the constant
    (`patdnn.constant`) is that device buffer (no launch), any other output gets a copy."""
    symbol = f"{emitter.layer_symbol(op, 'const', group='nn')}_w"
    emitter.declare_weights(symbol, op.weights)
    values = emitter.upload_weights(symbol, op.weights)
    owner = op.output.owner
    if isinstance(owner, memref.AllocOp) and nn.CONSTANT_ATTR in owner.attributes:
        emitter.tensors[op.output] = (values, 0)
        return []
    count = common.element_count(op.output)
    args = [buf(values), num(0), *_tensor(emitter, op.output), num(count), num(0)]
    return [Launch.fixed("pdnn_activation", args, (count,))]  # activation 0: a copy


NN_LAUNCHES: dict[type[Operation], Callable[[OpenCLState, Operation], list[Launch]]] = {
    nn.Conv2dOp: _conv,
    nn.Pool2dOp: _pool,
    nn.ConvTranspose2dOp: _conv_transpose,
    nn.Upsample2dOp: _upsample,
    nn.AdaptiveAvgPool2dOp: _adaptive_avg_pool,
    nn.AddOp: _add,
    nn.BinaryOp: _binary,
    nn.PReluOp: _prelu,
    nn.ActivationOp: _activation,
    nn.ReshapeOp: _activation,
    nn.ConcatOp: _concat,
    nn.LinearOp: _linear,
    nn.SoftmaxOp: _softmax,
    nn.ConstantOp: _constant,
    nn.PermuteOp: _permute,
    nn.ChannelShuffleOp: _channel_shuffle,
    nn.SliceOp: _slice,
    nn.LayerNormOp: _layer_norm,
    nn.ScaleShiftOp: _scale_shift,
    nn.MeanOp: _mean,
}


def nn_launches(emitter: OpenCLState, op: Operation) -> list[Launch]:
    """The launches running `op` (an nn dialect op); declares and uploads its weights."""
    handler = lookup(NN_LAUNCHES, op)
    if handler is None:
        raise EmitError(f"'{op.name}' is not an nn op the OpenCL backend knows")
    return handler(emitter, op)


def print_nn_op(emitter: OpenCLState, op: Operation) -> str:
    """The printer's handler of every op class in NN_LAUNCHES: the enqueues of its launches."""
    return emitter.launch(layer_label(op, op.name), nn_launches(emitter, op))
