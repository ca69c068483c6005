"""`fuse-residual-add`: folds a residual connection into the convolution that feeds it.

    nn.conv2d ins(%x) outs(%t)  activation none           nn.conv2d ins(%x, %r) outs(%y)
    nn.add ins(%t, %r) outs(%y) activation relu     →                activation relu

The convolution adds `%r` to its results before the activation, while they are still in cache:
the separate pass over memory (ResNet-50: 16 adds, ~0.8 ms of 36 on one core) and the buffer
`%t` go away. Each output is computed as before — conv + bias, then + residual, then the
activation — so the bits do not change.

The fused convolution takes the add's place (every operand of the add is ready there), so it
reads `%x` later: fused only when `%t` is an intermediate buffer (`memref.alloc`) that only this
convolution writes and only this add reads, the convolution has no activation or residual yet, no op
between the two writes `%x`, and `%y` is not `%x` or `%r`. (ResNet's downsample blocks compute `%r`
between the two: it is ready at the add.)
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import func, memref
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Block, Operation, SSAValue
from xdsl.passes import ModulePass

from patdnn.dialects import nn
from patdnn.dialects.common import Activation


def _fusable_conv(buffer: SSAValue, add: nn.AddOp) -> nn.Conv2dOp | None:
    """The convolution writing `buffer` if `buffer` is an alloc used by it and by `add` only."""
    if not isinstance(buffer.owner, memref.AllocOp):
        return None
    users = {use.operation for use in buffer.uses}
    convs = [op for op in users if isinstance(op, nn.Conv2dOp) and op.output == buffer]
    if len(convs) != 1 or users != {convs[0], add}:
        return None
    conv = convs[0]
    if conv.input == buffer or conv.residual is not None or conv.activation.data != Activation.NONE:
        return None
    return conv


def _writes(op: Operation, value: SSAValue) -> bool:
    """Whether `op` may write `value`: as its `output` (nn, pattern, block ops); other ops, as any operand."""
    output = getattr(op, "output", None)
    return output == value if isinstance(output, SSAValue) else value in op.operands


def _not_written_between(first: Operation, last: Operation, value: SSAValue) -> bool:
    op = first.next_op
    while op is not None and op is not last:
        if _writes(op, value):
            return False
        op = op.next_op
    return op is last


def fuse_block(block: Block) -> int:
    fused = 0
    for add in [op for op in block.ops if isinstance(op, nn.AddOp)]:
        for mine, other in ((add.lhs, add.rhs), (add.rhs, add.lhs)):
            conv = _fusable_conv(mine, add)
            if conv is None or mine == other or add.output in (conv.input, other, mine):
                continue
            if not _not_written_between(conv, add, conv.input):
                continue
            # every property of the conv carries over (only the activation becomes the add's), so
            # one added to nn.conv2d later cannot be dropped here
            fused_conv = nn.Conv2dOp.create(
                operands=[conv.input, other, add.output],
                properties={**conv.properties, "activation": add.activation},
                attributes=dict(conv.attributes),
            )
            block.insert_op_before(fused_conv, add)
            block.erase_op(conv)
            block.erase_op(add)
            block.erase_op(mine.owner)
            fused += 1
            break
    return fused


@dataclass(frozen=True)
class FuseResidualAddPass(ModulePass):
    """Folds `nn.add` of a convolution's result into that `nn.conv2d` (see the module docstring)."""

    name = "fuse-residual-add"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for fn in op.walk():
            if isinstance(fn, func.FuncOp) and not fn.is_declaration:
                fuse_block(fn.body.block)
