"""C for `nn` dialect ops: one call into the dense kernels of runtime/ops_dense.c per op.

`NN_HANDLERS` is the one place where an nn op class becomes a runtime call: each handler gets
the emitter state, the op and `name` (an operand's C expression) and returns the C statement
(to put inside the entry function's body); ops with weights declare them through
`declare_layer_weights`, which handles inline and blob weights alike. `emit_nn_op` looks an op
up in it; `print_nn_op` is the printer's handler. Generated code must `#include "patdnn_ops.h"`.
"""

from __future__ import annotations

from collections.abc import Callable

from xdsl.dialects import memref
from xdsl.ir import Operation, SSAValue

from patdnn.backend.activation import c_act
from patdnn.backend.c.state import CState
from patdnn.backend.common import EmitError, lookup
from patdnn.dialects import common, nn
from patdnn.dialects.nn_binary import binary_geometry
from patdnn.dialects.nn_chain import chain_parts
from patdnn.dialects.nn_layout import reduced_permutation, shuffle_view, split_dims
from patdnn.dialects.nn_prelu import prelu_geometry

POOL_C = {nn.PoolKind.MAX: "PDNN_POOL_MAX", nn.PoolKind.AVG: "PDNN_POOL_AVG"}
UPSAMPLE_C = {nn.UpsampleMode.NEAREST: "PDNN_UPSAMPLE_NEAREST", nn.UpsampleMode.BILINEAR: "PDNN_UPSAMPLE_BILINEAR"}

Name = Callable[[SSAValue], str]


def _call(function: str, *args: object) -> str:
    """The C statement calling a runtime kernel: `function(ctx, args...);`."""
    return f"{function}(ctx, {', '.join(map(str, args))});"


def _conv(emitter: CState, op: nn.Conv2dOp, name: Name) -> str:
    w, b = emitter.declare_layer_weights(op, "conv")
    n, cin, h, wd = common.shape_of(op.input)
    _, cout, ho, wo = common.shape_of(op.output)
    (kh, kw), (sh, sw), (ph, pw) = common.pair(op.kernel), common.pair(op.stride), common.pair(op.padding)
    groups = op.groups.value.data
    residual = name(op.residual) if op.residual is not None else "NULL"
    # a 1x1 kernel's one tap is where it is whatever the dilation: the runtime may vectorise it along channels
    if (kh, kw, ph, pw, groups) == (1, 1, 0, 0, 1):
        packed = f"{w}_cm"
        emitter.out.append(f"static float *{packed}; /* NULL: pdnn_conv1x1_cm runs pdnn_conv2d_dense */")
        emitter.init_lines.append(f"if (!{packed}) {packed} = pdnn_pack_cm({w}, {cout}, {cin}, {ho * wo});")
        io = (name(op.input), name(op.output), w, packed, b, residual)
        return _call("pdnn_conv1x1_cm", *io, n, cin, h, wd, cout, ho, wo, sh, sw, c_act(op.activation))
    io = (name(op.input), name(op.output), w, b, residual)
    window = (kh, kw, sh, sw, ph, pw, *common.dilation_of(op), groups)
    return _call("pdnn_conv2d_dense", *io, n, cin, h, wd, cout, ho, wo, *window, c_act(op.activation))


def _conv_chain(emitter: CState, op: nn.ConvChainOp, name: Name) -> str:
    """One pdnn_conv_chain call (runtime/ops_chain.c); its weights are packed channels-last at init,
    and its bands' intermediate values live in the slots of its `scratch` buffer (one per thread)."""
    parts = chain_parts(op)
    weights, acts = [], []  # per conv of expand, depthwise, project: (weights, bias), activation
    for conv in parts:
        weights += emitter.declare_layer_weights(conv, "conv") if conv is not None else ("NULL", "NULL")
        acts.append(c_act(conv.activation) if conv is not None else 0)
    dw, last = parts.depthwise, parts.project or parts.depthwise
    n, cin, h, wd = common.shape_of(op.input)
    _, cout, ho, wo = common.shape_of(op.output)
    cmid = common.shape_of(dw.output)[1]
    (kh, kw), stride, padding = common.pair(dw.kernel), common.pair(dw.stride), common.pair(dw.padding)
    packed = f"{emitter.layer_symbol(op, 'chain', group='nn')}_packed"
    head = parts.expand  # its input and window ({h, w, kh, kw, sh, sw, ph, pw, dh, dw}); a 1x1 without one
    head_window = (
        (
            h,
            wd,
            *common.pair(head.kernel),
            *common.pair(head.stride),
            *common.pair(head.padding),
            *common.dilation_of(head),
        )
        if head is not None
        else (h, wd, 1, 1, 1, 1, 0, 0, 1, 1)
    )
    emitter.out += [
        f"static pdnn_chain_weights *{packed};",
        f"static const pdnn_chain_head {packed}_head = {{{', '.join(map(str, head_window))}}};",
    ]
    emitter.init_lines.append(
        f"if (!{packed}) {packed} = pdnn_conv_chain_pack({', '.join(weights)}, {cin}, {cmid}, {cout}, {kh}, {kw}, "
        f"&{packed}_head);"
    )
    rows = op.rows.value.data
    slots, slot = common.shape_of(op.scratch)  # the threads it has slots for, floats per slot
    residual = name(last.residual) if last.residual is not None else "NULL"
    window = (kh, kw, *stride, *padding, *common.dilation_of(dw))
    io = (packed, name(op.input), name(op.output), residual, *acts)
    scratch = (name(op.scratch), slots, slot)
    dw_in = common.shape_of(dw.input)[2:]  # the depthwise's input: the expand's output
    return _call("pdnn_conv_chain", *io, n, *dw_in, ho, wo, *window, rows, *scratch)


def _pool(emitter: CState, op: nn.Pool2dOp, name: Name) -> str:
    n, c, h, wd = common.shape_of(op.input)
    _, _, ho, wo = common.shape_of(op.output)
    (kh, kw), (sh, sw), (ph, pw) = common.pair(op.kernel), common.pair(op.stride), common.pair(op.padding)
    if not op.is_plain():  # PyTorch's windows with dilation, ceil_mode or count_include_pad=False
        window = (kh, kw, sh, sw, ph, pw, *common.dilation_of(op), int(op.exclude_padding is not None))
        io = (name(op.input), name(op.output), POOL_C[op.kind.data])
        return _call("pdnn_pool2d_window", *io, n, c, h, wd, ho, wo, *window)
    return _call(
        "pdnn_pool2d",
        name(op.input),
        name(op.output),
        POOL_C[op.kind.data],
        n,
        c,
        h,
        wd,
        ho,
        wo,
        kh,
        kw,
        sh,
        sw,
        ph,
        pw,
    )


def _conv_transpose(emitter: CState, op: nn.ConvTranspose2dOp, name: Name) -> str:
    w, b = emitter.declare_layer_weights(op, "convt")
    n, cin, h, wd = common.shape_of(op.input)
    _, cout, ho, wo = common.shape_of(op.output)
    (kh, kw), (sh, sw), (ph, pw) = common.pair(op.kernel), common.pair(op.stride), common.pair(op.padding)
    window = (kh, kw, sh, sw, ph, pw, *common.dilation_of(op), op.groups.value.data)
    io = (name(op.input), name(op.output), w, b)
    return _call("pdnn_conv_transpose2d", *io, n, cin, h, wd, cout, ho, wo, *window, c_act(op.activation))


def _upsample(emitter: CState, op: nn.Upsample2dOp, name: Name) -> str:
    n, c, h, wd = common.shape_of(op.input)
    _, _, ho, wo = common.shape_of(op.output)
    mode = UPSAMPLE_C[op.mode.data]
    scales = ", ".join(f"{float(s).hex()}f" for s in op.source_scales())  # exact f32 values
    io = (name(op.input), name(op.output), mode, int(op.align_corners is not None))
    return _call("pdnn_upsample2d", *io, n, c, h, wd, ho, wo, scales)


def _adaptive_avg_pool(emitter: CState, op: nn.AdaptiveAvgPool2dOp, name: Name) -> str:
    n, c, h, wd = common.shape_of(op.input)
    _, _, ho, wo = common.shape_of(op.output)
    return _call("pdnn_adaptive_avg_pool2d", name(op.input), name(op.output), n, c, h, wd, ho, wo)


def _add(emitter: CState, op: nn.AddOp, name: Name) -> str:
    return _call(
        "pdnn_add", name(op.lhs), name(op.rhs), name(op.output), common.element_count(op.output), c_act(op.activation)
    )


def _binary(emitter: CState, op: nn.BinaryOp, name: Name) -> str:
    dims, strides = binary_geometry(op)
    kind = f"PDNN_BINARY_{op.kind.data.upper()}"
    return _call(
        "pdnn_binary", name(op.lhs), name(op.rhs), name(op.output), *dims, *strides, kind, c_act(op.activation)
    )


def _prelu(emitter: CState, op: nn.PReluOp, name: Name) -> str:
    slopes = f"{emitter.layer_symbol(op, 'prelu', group='nn')}_w"
    emitter.declare_weights(slopes, op.weights)
    return _call("pdnn_prelu", name(op.input), name(op.output), slopes, *prelu_geometry(op))


def _activation(emitter: CState, op: nn.ActivationOp, name: Name) -> str:
    return _call(
        "pdnn_activation", name(op.input), name(op.output), common.element_count(op.output), c_act(op.activation)
    )


def _reshape(emitter: CState, op: nn.ReshapeOp, name: Name) -> str:
    return _call("pdnn_copy", name(op.input), name(op.output), common.element_count(op.output))


def _concat(emitter: CState, op: nn.ConcatOp, name: Name) -> str:
    outer = split_dims(common.shape_of(op.output), op.axis_index(), op.axis_index())[0]
    inner = [common.element_count(v) // outer for v in op.inputs]
    ins = ", ".join(name(v) for v in op.inputs)
    sizes = ", ".join(str(s) for s in inner)
    return (
        f"{{ const float *const ins[] = {{{ins}}}; static const int64_t inner[] = {{{sizes}}}; "
        f"pdnn_concat(ctx, ins, inner, {len(inner)}, {name(op.output)}, {outer}); }}"
    )


def _linear(emitter: CState, op: nn.LinearOp, name: Name) -> str:
    w, b = emitter.declare_layer_weights(op, "fc")
    n, k = common.shape_of(op.input)
    m = common.shape_of(op.output)[1]
    return _call("pdnn_linear", name(op.input), name(op.output), w, b, n, k, m, c_act(op.activation))


def _softmax(emitter: CState, op: nn.SoftmaxOp, name: Name) -> str:
    axis = op.axis_index()
    outer, m, inner = split_dims(common.shape_of(op.input), axis, axis)
    if inner == 1 and op.log is None:
        return _call("pdnn_softmax", name(op.input), name(op.output), outer, m)
    return _call("pdnn_softmax_axis", name(op.input), name(op.output), outer, m, inner, int(op.log is not None))


# -- layout and normalisation (runtime/ops_layout.c) -------------------------------------------


def _permute_call(name: Name, op: nn.PermuteOp | nn.ChannelShuffleOp, dims: list[int], perm: list[int]) -> str:
    if perm == sorted(perm):  # nothing moves (size-1 dims only): a copy
        return _call("pdnn_copy", name(op.input), name(op.output), common.element_count(op.output))
    shape, order = ", ".join(map(str, dims)), ", ".join(map(str, perm))
    return (
        f"{{ static const int64_t shape[] = {{{shape}}}; static const int perm[] = {{{order}}}; "
        f"pdnn_permute(ctx, {name(op.input)}, {name(op.output)}, {len(dims)}, shape, perm); }}"
    )


def _permute(emitter: CState, op: nn.PermuteOp, name: Name) -> str:
    return _permute_call(name, op, *reduced_permutation(common.shape_of(op.input), list(op.perm.get_values())))


def _channel_shuffle(emitter: CState, op: nn.ChannelShuffleOp, name: Name) -> str:
    return _permute_call(name, op, *shuffle_view(common.shape_of(op.input), op.groups.value.data))


def _slice(emitter: CState, op: nn.SliceOp, name: Name) -> str:
    axis = op.axis.value.data
    outer, in_len, inner = split_dims(common.shape_of(op.input), axis, axis)
    out_len = common.shape_of(op.output)[axis]
    io = (name(op.input), name(op.output))
    return _call("pdnn_slice", *io, outer, in_len, out_len, inner, op.start.value.data, op.step.value.data)


def _layer_norm(emitter: CState, op: nn.LayerNormOp, name: Name) -> str:
    prefix = emitter.layer_symbol(op, "norm", group="nn")
    params = []
    for key, suffix in (("weights", "w"), ("bias", "b")):
        params.append(f"{prefix}_{suffix}" if getattr(op, key) is not None else "NULL")
        if getattr(op, key) is not None:
            emitter.declare_weights(params[-1], getattr(op, key))
    axes = list(op.axes.get_values())
    dims = split_dims(common.shape_of(op.input), axes[0], axes[-1])
    eps = f"{op.eps.value.data!r}f"
    return _call("pdnn_layer_norm", name(op.input), name(op.output), *params, *dims, eps)


def _scale_shift(emitter: CState, op: nn.ScaleShiftOp, name: Name) -> str:
    w, b = emitter.declare_layer_weights(op, "affine")
    outer, c, inner = split_dims(common.shape_of(op.input), 1, 1)
    return _call("pdnn_scale_shift", name(op.input), name(op.output), w, b, outer, c, inner, c_act(op.activation))


def _mean(emitter: CState, op: nn.MeanOp, name: Name) -> str:
    axes = list(op.axes.get_values())
    dims = split_dims(common.shape_of(op.input), axes[0], axes[-1])
    return _call("pdnn_mean_axes", name(op.input), name(op.output), *dims)


def _constant(emitter: CState, op: nn.ConstantOp, name: Name) -> str:
    """A buffer plan-buffers bound to the constant (`patdnn.constant`) becomes the weights pointer
    itself (read-only, resolved at init: nothing runs per call); any other output gets a copy."""
    symbol = f"{emitter.layer_symbol(op, 'const', group='nn')}_w"
    emitter.declare_weights(symbol, op.weights)
    owner = op.output.owner
    if isinstance(owner, memref.AllocOp) and nn.CONSTANT_ATTR in owner.attributes:
        emitter.value_names[op.output] = f"((float *){symbol})"
        return f"/* {symbol}: read in place */"
    return _call("pdnn_copy", symbol, name(op.output), common.element_count(op.output))


NN_HANDLERS: dict[type[Operation], Callable[[CState, Operation, Name], str]] = {
    nn.Conv2dOp: _conv,
    nn.ConvChainOp: _conv_chain,
    nn.Pool2dOp: _pool,
    nn.ConvTranspose2dOp: _conv_transpose,
    nn.Upsample2dOp: _upsample,
    nn.AdaptiveAvgPool2dOp: _adaptive_avg_pool,
    nn.AddOp: _add,
    nn.BinaryOp: _binary,
    nn.PReluOp: _prelu,
    nn.ActivationOp: _activation,
    nn.ReshapeOp: _reshape,
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


def emit_nn_op(emitter: CState, op: Operation, value_names: dict[SSAValue, str]) -> str:
    """The C statement running `op` (an nn dialect op) on the buffers `value_names` gives its
    operands; declares its weights on `emitter`."""
    handler = lookup(NN_HANDLERS, op)
    if handler is None:
        raise EmitError(f"'{op.name}' is not an nn op the C backend knows")

    def name(value: SSAValue) -> str:
        if value not in value_names:
            raise EmitError(f"'{op.name}': operand {value} has no C name")
        return value_names[value]

    return handler(emitter, op, name)


def print_nn_op(emitter: CState, op: Operation) -> str:
    """The printer's handler of every op class in NN_HANDLERS."""
    return emit_nn_op(emitter, op, emitter.value_names)
