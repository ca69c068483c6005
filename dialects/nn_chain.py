"""`nn.conv_chain`: convolutions fused into one tiled kernel (DNNFusion's idea; fuse-conv-chain).

    %s = memref.alloc() : memref<2x60432xf32>
    nn.conv_chain ins(%x : memref<1x16x112x112xf32>) outs(%y : memref<1x24x56x56xf32>) scratch(%s : memref<2x60432xf32>) rows 2 {
      %e = memref.alloc() : memref<1x96x112x112xf32>
      nn.conv2d ins(%x : …) outs(%e : …) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation relu6 …
      %d = memref.alloc() : memref<1x96x56x56xf32>
      nn.conv2d ins(%e : …) outs(%d : …) kernel [3, 3] stride [2, 2] padding [1, 1] groups 96 activation relu6 …
      nn.conv2d ins(%d : …) outs(%y : …) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation none …
    }

The body is the chain itself, unchanged: an optional *expand* conv (a 1x1, or any dense conv —
groups 1, any window: a network's stem), a *depthwise* conv (any kernel, stride, padding, dilation)
and an optional 1x1 *project* conv (at least one of expand and project), each reading the one before; only the last may take a residual (read from outside the body, like
`%x`). The body's `memref.alloc`s name the intermediate tensors but are never allocated whole: the
backend runs the chain in bands of `rows` output rows, each band's expanded rows and depthwise
output living in one slot per thread of `scratch` (threads x slot floats, at least
`chain_slot_floats`; an ordinary buffer that plan-buffers places in the arena, live only at the
chain, so the peak activation memory is planned with it; runtime/ops_chain.c), and gives the same
bits as the ops run one after another. `chain_parts(op)` returns the three convs (None where absent).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from xdsl.dialects import memref
from xdsl.dialects.builtin import I64, IntegerAttr, MemRefType, i64
from xdsl.ir import Block, Operation, Region, SSAValue
from xdsl.irdl import IRDLOperation, irdl_op_definition, operand_def, prop_def, region_def, traits_def
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import NoTerminator
from xdsl.utils.exceptions import VerifyException

from patdnn.dialects.common import (
    check_batched_io,
    check_buffer,
    dilation_of,
    pair,
    parse_io,
    parse_typed_operand,
    print_io,
)


class ChainParts(NamedTuple):
    expand: Operation | None  # nn.conv2d, groups 1 (1x1, or a stem's 3x3 / 7x7), or None
    depthwise: Operation  # nn.conv2d, groups == channels
    project: Operation | None  # nn.conv2d 1x1 (or None)


def is_pointwise(conv: Operation) -> bool:
    """A 1x1, stride-1, unpadded, ungrouped nn.conv2d (its dilation moves nothing)."""
    return (
        conv.name == "nn.conv2d"
        and pair(conv.kernel) == (1, 1)
        and pair(conv.stride) == (1, 1)
        and pair(conv.padding) == (0, 0)
        and conv.groups.value.data == 1
    )


def is_dense(conv: Operation) -> bool:
    """An ungrouped nn.conv2d (any kernel, stride, padding, dilation): what may head a chain."""
    return conv.name == "nn.conv2d" and conv.groups.value.data == 1


def is_depthwise(conv: Operation) -> bool:
    """An nn.conv2d with one input channel per output channel (groups == C_in == C_out > 1)."""
    if conv.name != "nn.conv2d":
        return False
    cin, cout = conv.input.type.get_shape()[1], conv.output.type.get_shape()[1]
    return conv.groups.value.data == cin == cout > 1


def chain_parts(op: ConvChainOp) -> ChainParts:
    """The convs of the chain's body, checked: raises VerifyException naming what is wrong."""
    convs = [o for o in op.body.block.ops if not isinstance(o, memref.AllocOp)]
    if any(o.name != "nn.conv2d" for o in convs):
        bad = next(o.name for o in convs if o.name != "nn.conv2d")
        raise VerifyException(f"nn.conv_chain: the body holds memref.alloc and nn.conv2d only, got {bad}")
    depthwise = [i for i, c in enumerate(convs) if is_depthwise(c)]
    if len(depthwise) != 1 or not 2 <= len(convs) <= 3:
        raise VerifyException("nn.conv_chain: the body must be [1x1] -> depthwise -> [1x1] (two or three nn.conv2d)")
    i = depthwise[0]
    expand = convs[0] if i == 1 else None
    project = convs[i + 1] if i + 1 < len(convs) else None
    if len(convs) != 1 + (expand is not None) + (project is not None):
        raise VerifyException(
            "nn.conv_chain: the body must be [1x1] -> depthwise -> [1x1]: one conv on each side at most"
        )
    if i > 1 or (expand is not None and not is_dense(expand)) or (project is not None and not is_pointwise(project)):
        raise VerifyException(
            "nn.conv_chain: the conv before the depthwise must have groups 1, the one after must be 1x1, stride 1, "
            "unpadded, groups 1"
        )
    chain = [c for c in (expand, convs[i], project) if c is not None]
    if chain[0].input != op.input or chain[-1].output != op.output:
        raise VerifyException("nn.conv_chain: the first conv must read the chain's input, the last write its output")
    for before, after in zip(chain, chain[1:]):
        buffer = before.output
        if not isinstance(buffer.owner, memref.AllocOp) or buffer.owner.parent_block() is not op.body.block:
            raise VerifyException("nn.conv_chain: an intermediate tensor must be a memref.alloc of the body")
        if after.input != buffer or {u.operation for u in buffer.uses} != {before, after}:
            raise VerifyException("nn.conv_chain: each intermediate tensor is written by one conv and read by the next")
    if any(c.residual is not None for c in chain[:-1]):
        raise VerifyException("nn.conv_chain: only the last conv may add a residual")
    return ChainParts(expand, convs[i], project)


CHAIN_LANES = 16  # the widest vector of any C build (AVX-512): channels are padded to it at most


def chain_slot_floats(parts: ChainParts, rows: int) -> int:
    """Floats of one thread's scratch slot for bands of `rows` output rows: the padded expanded rows
    a band reads and its depthwise output, channels-last, channels padded to whole vectors, and for
    a head conv other than a 1x1 the band's input columns (an upper bound of runtime/ops_chain.c's own
    count, which it checks at run time)."""
    dw = parts.depthwise
    _, cmid, _, w = dw.input.type.get_shape()
    wo = dw.output.type.get_shape()[3]
    (kh, _), (sh, _), (_, pw) = pair(dw.kernel), pair(dw.stride), pair(dw.padding)
    cap = (rows - 1) * sh + (kh - 1) * dilation_of(dw)[0] + 1
    cmidp = -(-cmid // CHAIN_LANES) * CHAIN_LANES
    columns = 0  # a head other than a 1x1 reads its input through per-pixel columns (im2col)
    if parts.expand is not None and not is_pointwise(parts.expand):
        columns = cap * w * (parts.expand.input.type.get_shape()[1] * int(np.prod(pair(parts.expand.kernel))))
    return cap * (w + 2 * pw) * cmidp + rows * wo * cmidp + columns


@irdl_op_definition
class ConvChainOp(IRDLOperation):
    """[1x1] -> depthwise -> [1x1] convolutions run as one kernel in bands of `rows` output rows
    (see the module docstring)."""

    name = "nn.conv_chain"

    input = operand_def(MemRefType)
    output = operand_def(MemRefType)
    scratch = operand_def(MemRefType)
    rows = prop_def(IntegerAttr[I64])
    body = region_def("single_block")

    traits = traits_def(NoTerminator())

    def __init__(self, input: SSAValue, output: SSAValue, scratch: SSAValue, rows: int, body: Region):
        super().__init__(operands=[input, output, scratch], properties={"rows": IntegerAttr(rows, i64)}, regions=[body])

    def verify_(self) -> None:
        check_batched_io(self, 4)
        rows, ho = self.rows.value.data, self.output.type.get_shape()[2]
        if not 1 <= rows <= ho:
            raise VerifyException(f"nn.conv_chain: rows must be in [1, {ho}] (the output's height), got {rows}")
        parts = chain_parts(self)
        slots = check_buffer("nn.conv_chain: scratch", self.scratch, [])
        if len(slots) != 2:
            raise VerifyException(
                f"nn.conv_chain: scratch must be a 2-d (threads x floats) memref, got {self.scratch.type}"
            )
        if slots[0] < 1 or slots[1] < chain_slot_floats(parts, rows):
            need = chain_slot_floats(parts, rows)
            raise VerifyException(
                f"nn.conv_chain: scratch must be (threads x >= {need}) floats for rows {rows}, got {list(slots)}"
            )

    def print(self, printer: Printer) -> None:
        print_io(printer, [self.input], self.output)
        printer.print_string(" scratch(")
        printer.print_operand(self.scratch)
        printer.print_string(" : ")
        printer.print_attribute(self.scratch.type)
        printer.print_string(f") rows {self.rows.value.data}")
        printer.print_op_attributes(self.attributes, print_keyword=True)
        printer.print_string(" ")
        printer.print_region(self.body, print_entry_block_args=False)

    @classmethod
    def parse(cls, parser: Parser) -> ConvChainOp:
        (input, *_), output = parse_io(parser)
        scratch = parse_typed_operand(parser, "scratch")
        parser.parse_keyword("rows")
        props = {"rows": IntegerAttr(parser.parse_integer(allow_negative=False), i64)}
        attrs = parser.parse_optional_attr_dict_with_keyword()
        body = parser.parse_region()
        if not body.blocks:
            body.add_block(Block())
        return cls.create(
            operands=[input, output, scratch],
            properties=props,
            attributes=attrs.data if attrs is not None else {},
            regions=[body],
        )


CHAIN_OPS = [ConvChainOp]
