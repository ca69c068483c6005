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

from patdnn.backend.c.state import CState
from patdnn.backend.common import EmitError, lookup
from patdnn.dialects import common, nn
from patdnn.dialects.common import Activation

ACT_C = {Activation.NONE: "PDNN_ACT_NONE", Activation.RELU: "PDNN_ACT_RELU", Activation.RELU6: "PDNN_ACT_RELU6"}
POOL_C = {nn.PoolKind.MAX: "PDNN_POOL_MAX", nn.PoolKind.AVG: "PDNN_POOL_AVG"}

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
    if (kh, kw, ph, pw, groups) == (1, 1, 0, 0, 1):  # the runtime may vectorise it along channels
        packed = f"{w}_cm"
        emitter.out.append(f"static float *{packed}; /* NULL: pdnn_conv1x1_cm runs pdnn_conv2d_dense */")
        emitter.init_lines.append(f"if (!{packed}) {packed} = pdnn_pack_cm({w}, {cout}, {cin}, {ho * wo});")
        io = (name(op.input), name(op.output), w, packed, b, residual)
        return _call("pdnn_conv1x1_cm", *io, n, cin, h, wd, cout, ho, wo, sh, sw, ACT_C[op.activation.data])
    io = (name(op.input), name(op.output), w, b, residual)
    window = (kh, kw, sh, sw, ph, pw, groups)
    return _call("pdnn_conv2d_dense", *io, n, cin, h, wd, cout, ho, wo, *window, ACT_C[op.activation.data])


def _pool(emitter: CState, op: nn.Pool2dOp, name: Name) -> str:
    n, c, h, wd = common.shape_of(op.input)
    _, _, ho, wo = common.shape_of(op.output)
    (kh, kw), (sh, sw), (ph, pw) = common.pair(op.kernel), common.pair(op.stride), common.pair(op.padding)
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


def _adaptive_avg_pool(emitter: CState, op: nn.AdaptiveAvgPool2dOp, name: Name) -> str:
    n, c, h, wd = common.shape_of(op.input)
    _, _, ho, wo = common.shape_of(op.output)
    return _call("pdnn_adaptive_avg_pool2d", name(op.input), name(op.output), n, c, h, wd, ho, wo)


def _add(emitter: CState, op: nn.AddOp, name: Name) -> str:
    return _call(
        "pdnn_add",
        name(op.lhs),
        name(op.rhs),
        name(op.output),
        common.element_count(op.output),
        ACT_C[op.activation.data],
    )


def _activation(emitter: CState, op: nn.ActivationOp, name: Name) -> str:
    return _call(
        "pdnn_activation", name(op.input), name(op.output), common.element_count(op.output), ACT_C[op.activation.data]
    )


def _reshape(emitter: CState, op: nn.ReshapeOp, name: Name) -> str:
    return _call("pdnn_copy", name(op.input), name(op.output), common.element_count(op.output))


def _concat(emitter: CState, op: nn.ConcatOp, name: Name) -> str:
    outer = common.shape_of(op.output)[0]
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
    return _call("pdnn_linear", name(op.input), name(op.output), w, b, n, k, m, ACT_C[op.activation.data])


def _softmax(emitter: CState, op: nn.SoftmaxOp, name: Name) -> str:
    n, m = common.shape_of(op.input)
    return _call("pdnn_softmax", name(op.input), name(op.output), n, m)


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
    nn.Pool2dOp: _pool,
    nn.AdaptiveAvgPool2dOp: _adaptive_avg_pool,
    nn.AddOp: _add,
    nn.ActivationOp: _activation,
    nn.ReshapeOp: _reshape,
    nn.ConcatOp: _concat,
    nn.LinearOp: _linear,
    nn.SoftmaxOp: _softmax,
    nn.ConstantOp: _constant,
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
