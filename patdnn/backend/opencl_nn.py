"""OpenCL launches for `nn` dialect ops: each op runs one (concat: one per input) kernel of
runtime/opencl_kernels.cl, on (buffer, element offset) tensors, weights uploaded at init.

`nn_launches(emitter, op)` declares the op's weights on the host emitter (through the C target's
`declare_weights`, so blobs are resolved and checked the same way) and returns the launches.
"""

from __future__ import annotations

import numpy as np
from xdsl.ir import Operation, SSAValue

from patdnn.backend.c_emitter import EmitError
from patdnn.backend.c_nn import _weights as declare_nn_weights
from patdnn.backend.opencl_host import Launch, OpenCLHostEmitter, buf, num
from patdnn.dialects import nn
from patdnn.dialects.pattern import Activation

ACT_CODE = {Activation.NONE: 0, Activation.RELU: 1, Activation.RELU6: 2}  # as pdnn_act in the .cl
POOL_CODE = {nn.PoolKind.MAX: 0, nn.PoolKind.AVG: 1}
CONV_BLOCK = 4  # PDNN_CONV_BLOCK of runtime/opencl_kernels.cl


def _count(value: SSAValue) -> int:
    return int(np.prod(nn.shape_of(value)))


def _device_weights(emitter: OpenCLHostEmitter, op: Operation, kind: str) -> tuple[str, str]:
    """Buffer ids of the op's weights and bias ("-1": no bias)."""
    w, b = declare_nn_weights(emitter, op, kind)
    bias = emitter.upload_weights(b, op.bias) if op.bias is not None else "-1"
    return emitter.upload_weights(w, op.weights), bias


def nn_launches(emitter: OpenCLHostEmitter, op: Operation) -> list[Launch]:
    def tensor(value: SSAValue) -> list[str]:
        buffer_id, offset = emitter.tensor(value)
        return [buf(buffer_id), num(offset)]

    if isinstance(op, nn.Conv2dOp):
        w, b = _device_weights(emitter, op, "conv")
        n, cin, h, wd = nn.shape_of(op.input)
        _, cout, ho, wo = nn.shape_of(op.output)
        (kh, kw), (sh, sw), (ph, pw) = nn.pair(op.kernel), nn.pair(op.stride), nn.pair(op.padding)
        sizes = [cin, h, wd, cout, ho, wo, kh, kw, sh, sw, ph, pw, op.groups.value.data, ACT_CODE[op.activation.data]]
        residual = tensor(op.residual) if op.residual is not None else [*tensor(op.output)[:1], num(-1)]
        args = [*tensor(op.input), *tensor(op.output), *residual, buf(w), buf(b), *map(num, sizes)]
        groups = op.groups.value.data
        blocks = -(-(cout // groups) // CONV_BLOCK)  # output channels per work-item, within a group
        return [Launch.fixed("pdnn_conv2d", args, (wo, ho, n * groups * blocks))]
    if isinstance(op, nn.Pool2dOp):
        n, c, h, wd = nn.shape_of(op.input)
        _, _, ho, wo = nn.shape_of(op.output)
        (kh, kw), (sh, sw), (ph, pw) = nn.pair(op.kernel), nn.pair(op.stride), nn.pair(op.padding)
        sizes = [POOL_CODE[op.kind.data], h, wd, ho, wo, kh, kw, sh, sw, ph, pw]
        return [Launch.fixed("pdnn_pool2d", [*tensor(op.input), *tensor(op.output), *map(num, sizes)], (wo, ho, n * c))]
    if isinstance(op, nn.AdaptiveAvgPool2dOp):
        n, c, h, wd = nn.shape_of(op.input)
        _, _, ho, wo = nn.shape_of(op.output)
        args = [*tensor(op.input), *tensor(op.output), *map(num, (h, wd, ho, wo))]
        return [Launch.fixed("pdnn_adaptive_avg_pool2d", args, (wo, ho, n * c))]
    if isinstance(op, nn.AddOp):
        count = _count(op.output)
        args = [*tensor(op.lhs), *tensor(op.rhs), *tensor(op.output), num(count), num(ACT_CODE[op.activation.data])]
        return [Launch.fixed("pdnn_add", args, (count,))]
    if isinstance(op, nn.ActivationOp | nn.ReshapeOp):
        act = ACT_CODE[op.activation.data] if isinstance(op, nn.ActivationOp) else 0  # reshape: a copy
        count = _count(op.output)
        args = [*tensor(op.input), *tensor(op.output), num(count), num(act)]
        return [Launch.fixed("pdnn_activation", args, (count,))]
    if isinstance(op, nn.ConcatOp):
        outer = nn.shape_of(op.output)[0]
        out_buf, out_off = emitter.tensor(op.output)
        out_inner = _count(op.output) // outer
        launches, start = [], 0
        for value in op.inputs:
            inner = _count(value) // outer
            args = [*tensor(value), buf(out_buf), num(out_off + start), num(inner), num(out_inner)]
            launches.append(Launch.fixed("pdnn_concat_part", args, (inner, outer)))
            start += inner
        return launches
    if isinstance(op, nn.LinearOp):
        w, b = _device_weights(emitter, op, "fc")
        n, k = nn.shape_of(op.input)
        m = nn.shape_of(op.output)[1]
        args = [*tensor(op.input), *tensor(op.output), buf(w), buf(b), num(k), num(m), num(ACT_CODE[op.activation.data])]
        return [Launch.fixed("pdnn_linear", args, (m, n))]
    if isinstance(op, nn.SoftmaxOp):
        n, m = nn.shape_of(op.input)
        return [Launch.fixed("pdnn_softmax", [*tensor(op.input), *tensor(op.output), num(n), num(m)], (n,))]
    raise EmitError(f"'{op.name}' is not an nn op the OpenCL backend knows")
