"""OpenCL launches for `nn` dialect ops: each op runs one (concat: one per input) kernel of
runtime/opencl_kernels.cl, on (buffer, element offset) tensors, weights uploaded at init.

`NN_LAUNCHES` is the one place where an nn op class becomes OpenCL launches: each entry declares
the op's weights on the host emitter state (through the C target's `declare_layer_weights`, so
blobs are resolved and checked the same way and symbols are the C target's) and returns the
launches. `print_nn_op` is the printer's handler of those classes.
"""

from __future__ import annotations

from collections.abc import Callable

from xdsl.dialects import memref
from xdsl.ir import Operation, SSAValue

from patdnn.backend.common import EmitError, lookup
from patdnn.backend.opencl.state import Launch, OpenCLState, buf, layer_label, num
from patdnn.dialects import common, nn
from patdnn.dialects.common import Activation

ACT_CODE = {Activation.NONE: 0, Activation.RELU: 1, Activation.RELU6: 2}  # as pdnn_act in the .cl
POOL_CODE = {nn.PoolKind.MAX: 0, nn.PoolKind.AVG: 1}
CONV_BLOCK = 4  # PDNN_CONV_BLOCK of runtime/opencl_kernels.cl


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
    sizes = [cin, h, wd, cout, ho, wo, kh, kw, sh, sw, ph, pw, op.groups.value.data, ACT_CODE[op.activation.data]]
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
    sizes = [POOL_CODE[op.kind.data], h, wd, ho, wo, kh, kw, sh, sw, ph, pw]
    args = [*_tensor(emitter, op.input), *_tensor(emitter, op.output), *map(num, sizes)]
    return [Launch.fixed("pdnn_pool2d", args, (wo, ho, n * c))]


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
        num(ACT_CODE[op.activation.data]),
    ]
    return [Launch.fixed("pdnn_add", args, (count,))]


def _activation(emitter: OpenCLState, op: nn.ActivationOp | nn.ReshapeOp) -> list[Launch]:
    act = ACT_CODE[op.activation.data] if isinstance(op, nn.ActivationOp) else 0  # reshape: a copy
    count = common.element_count(op.output)
    args = [*_tensor(emitter, op.input), *_tensor(emitter, op.output), num(count), num(act)]
    return [Launch.fixed("pdnn_activation", args, (count,))]


def _concat(emitter: OpenCLState, op: nn.ConcatOp) -> list[Launch]:
    outer = common.shape_of(op.output)[0]
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
        num(ACT_CODE[op.activation.data]),
    ]
    return [Launch.fixed("pdnn_linear", args, (m, n))]


def _softmax(emitter: OpenCLState, op: nn.SoftmaxOp) -> list[Launch]:
    n, m = common.shape_of(op.input)
    args = [*_tensor(emitter, op.input), *_tensor(emitter, op.output), num(n), num(m)]
    return [Launch.fixed("pdnn_softmax", args, (n,))]


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
    nn.AdaptiveAvgPool2dOp: _adaptive_avg_pool,
    nn.AddOp: _add,
    nn.ActivationOp: _activation,
    nn.ReshapeOp: _activation,
    nn.ConcatOp: _concat,
    nn.LinearOp: _linear,
    nn.SoftmaxOp: _softmax,
    nn.ConstantOp: _constant,
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
