"""C for `nn` dialect ops: one call into the dense kernels of runtime/ops_dense.c per op.

`emit_nn_op(emitter, op, value_names)` returns the C statement for one op (to put inside the
entry function's body) and declares the op's weights through `emitter.declare_weights`, which
handles inline and blob weights alike. Generated code must `#include "patdnn_ops.h"`.
"""

from __future__ import annotations

import re

import numpy as np
from xdsl.ir import Operation, SSAValue

from patdnn.backend.c_emitter import CEmitter, EmitError
from patdnn.dialects import nn
from patdnn.dialects.pattern import Activation

ACT_C = {Activation.NONE: "PDNN_ACT_NONE", Activation.RELU: "PDNN_ACT_RELU", Activation.RELU6: "PDNN_ACT_RELU6"}
POOL_C = {nn.PoolKind.MAX: "PDNN_POOL_MAX", nn.PoolKind.AVG: "PDNN_POOL_AVG"}

_COUNTER = "_nn_layer_count"  # per-emitter counter of nn layers with weights (unique symbols)


def _symbol_prefix(emitter: CEmitter, op: Operation, kind: str) -> str:
    index = getattr(emitter, _COUNTER, 0)
    setattr(emitter, _COUNTER, index + 1)
    name = f"nn{index}_{kind}"
    if "layer" in op.attributes:
        name += "_" + re.sub(r"[^A-Za-z0-9_]", "_", str(op.attributes["layer"]).strip('"'))
    return name


def _weights(emitter: CEmitter, op: Operation, kind: str) -> tuple[str, str]:
    """Declares the op's weights (and bias); returns the C expressions for both ("NULL": no bias)."""
    prefix = _symbol_prefix(emitter, op, kind)
    emitter.declare_weights(f"{prefix}_w", op.weights)
    if op.bias is None:
        return f"{prefix}_w", "NULL"
    emitter.declare_weights(f"{prefix}_b", op.bias)
    return f"{prefix}_w", f"{prefix}_b"


def _count(value: SSAValue) -> int:
    return int(np.prod(nn.shape_of(value)))


def emit_nn_op(emitter: CEmitter, op: Operation, value_names: dict[SSAValue, str]) -> str:
    """The C statement running `op` (an nn dialect op); declares its weights on `emitter`."""

    def name(value: SSAValue) -> str:
        if value not in value_names:
            raise EmitError(f"'{op.name}': operand {value} has no C name")
        return value_names[value]

    if isinstance(op, nn.Conv2dOp):
        w, b = _weights(emitter, op, "conv")
        n, cin, h, wd = nn.shape_of(op.input)
        _, cout, ho, wo = nn.shape_of(op.output)
        (kh, kw), (sh, sw), (ph, pw) = nn.pair(op.kernel), nn.pair(op.stride), nn.pair(op.padding)
        groups = op.groups.value.data
        residual = name(op.residual) if op.residual is not None else "NULL"
        if (kh, kw, ph, pw, groups) == (1, 1, 0, 0, 1):  # the runtime may vectorise it along channels
            packed = f"{w}_cm"
            emitter.out.append(f"static float *{packed}; /* NULL: pdnn_conv1x1_cm runs pdnn_conv2d_dense */")
            emitter.init_lines.append(f"if (!{packed}) {packed} = pdnn_pack_cm({w}, {cout}, {cin}, {ho * wo});")
            args = [n, cin, h, wd, cout, ho, wo, sh, sw]
            return (
                f"pdnn_conv1x1_cm(ctx, {name(op.input)}, {name(op.output)}, {w}, {packed}, {b}, {residual}, "
                f"{', '.join(map(str, args))}, {ACT_C[op.activation.data]});"
            )
        args = [n, cin, h, wd, cout, ho, wo, kh, kw, sh, sw, ph, pw, groups]
        return (
            f"pdnn_conv2d_dense(ctx, {name(op.input)}, {name(op.output)}, {w}, {b}, {residual}, "
            f"{', '.join(map(str, args))}, {ACT_C[op.activation.data]});"
        )
    if isinstance(op, nn.Pool2dOp):
        n, c, h, wd = nn.shape_of(op.input)
        _, _, ho, wo = nn.shape_of(op.output)
        (kh, kw), (sh, sw), (ph, pw) = nn.pair(op.kernel), nn.pair(op.stride), nn.pair(op.padding)
        args = [n, c, h, wd, ho, wo, kh, kw, sh, sw, ph, pw]
        return (
            f"pdnn_pool2d(ctx, {name(op.input)}, {name(op.output)}, {POOL_C[op.kind.data]}, "
            f"{', '.join(map(str, args))});"
        )
    if isinstance(op, nn.AdaptiveAvgPool2dOp):
        n, c, h, wd = nn.shape_of(op.input)
        _, _, ho, wo = nn.shape_of(op.output)
        return f"pdnn_adaptive_avg_pool2d(ctx, {name(op.input)}, {name(op.output)}, {n}, {c}, {h}, {wd}, {ho}, {wo});"
    if isinstance(op, nn.AddOp):
        return (
            f"pdnn_add(ctx, {name(op.lhs)}, {name(op.rhs)}, {name(op.output)}, {_count(op.output)}, "
            f"{ACT_C[op.activation.data]});"
        )
    if isinstance(op, nn.ActivationOp):
        return (
            f"pdnn_activation(ctx, {name(op.input)}, {name(op.output)}, {_count(op.output)}, "
            f"{ACT_C[op.activation.data]});"
        )
    if isinstance(op, nn.ReshapeOp):
        return f"pdnn_copy(ctx, {name(op.input)}, {name(op.output)}, {_count(op.output)});"
    if isinstance(op, nn.ConcatOp):
        out_shape = nn.shape_of(op.output)
        outer = out_shape[0]
        inner = [_count(v) // outer for v in op.inputs]
        ins = ", ".join(name(v) for v in op.inputs)
        sizes = ", ".join(str(s) for s in inner)
        return (
            f"{{ const float *const ins[] = {{{ins}}}; static const int64_t inner[] = {{{sizes}}}; "
            f"pdnn_concat(ctx, ins, inner, {len(inner)}, {name(op.output)}, {outer}); }}"
        )
    if isinstance(op, nn.LinearOp):
        w, b = _weights(emitter, op, "fc")
        n, k = nn.shape_of(op.input)
        m = nn.shape_of(op.output)[1]
        return (
            f"pdnn_linear(ctx, {name(op.input)}, {name(op.output)}, {w}, {b}, {n}, {k}, {m}, "
            f"{ACT_C[op.activation.data]});"
        )
    if isinstance(op, nn.SoftmaxOp):
        n, m = nn.shape_of(op.input)
        return f"pdnn_softmax(ctx, {name(op.input)}, {name(op.output)}, {n}, {m});"
    raise EmitError(f"'{op.name}' is not an nn op the C backend knows")
