"""`plan-buffers`: places every intermediate buffer (`memref.alloc`) of a function in one arena.

Live ranges are op indices from the op that writes a buffer to the last op that reads it; buffers
whose ranges overlap get disjoint 64-byte-aligned offsets (first fit in a few orders — largest
first, the usual offline heuristic, near-optimal for CNN chains, and three others that place a fused
chain's short-lived scratch better — keeping the smallest arena). Results are attributes the C emitter reads:
`patdnn.offset` on each alloc, `patdnn.arena_bytes` (peak activation memory) on the function.

An alloc that only an `nn.constant` writes (a learned tensor the model reads) takes no arena space:
it gets `patdnn.constant` instead of an offset, and the backends bind it to the constant's weights
(read-only, loaded once at init; nothing is copied per run). Written by any other op too, it is an
ordinary buffer, live from the constant op (its first use) to its last reader, and the constant op
copies its values in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from xdsl.context import Context
from xdsl.dialects import func, memref
from xdsl.dialects.builtin import IntegerAttr, MemRefType, ModuleOp, UnitAttr, i64
from xdsl.ir import Block, Operation
from xdsl.passes import ModulePass

from patdnn.dialects.common import round_up
from patdnn.dialects.nn import CONSTANT_ATTR, constant_bound

ALIGN = 64


def alloc_bytes(alloc: memref.AllocOp) -> int:
    mtype = alloc.memref.type
    assert isinstance(mtype, MemRefType)
    size = int(np.prod(mtype.get_shape())) * 4
    return round_up(size, ALIGN)


def _top_level(op: Operation | None, position: dict) -> Operation | None:
    """The op of the function's body that is or holds `op` (a conv inside an nn.conv_chain reads a
    buffer at the chain's place)."""
    while op is not None and op not in position:
        op = op.parent_op()
    return op


def live_ranges(block: Block) -> tuple[dict[Operation, int], dict[memref.AllocOp, tuple[int, int]]]:
    """Each op's position in `block`, and the live range (first to last op using it, by position)
    of each alloc that needs arena space (not one bound to an nn.constant)."""
    ops = list(block.ops)
    position = {op: i for i, op in enumerate(ops)}
    ranges = {}
    for alloc in (op for op in ops if isinstance(op, memref.AllocOp) and not constant_bound(op)):
        uses = [position[top] for use in alloc.memref.uses if (top := _top_level(use.operation, position)) is not None]
        ranges[alloc] = (min(uses, default=position[alloc]), max(uses, default=position[alloc]))
    return position, ranges


def first_fit(allocs: list[memref.AllocOp], ranges: dict) -> tuple[dict[memref.AllocOp, int], int]:
    """Offsets placing `allocs` in this order, each at the lowest offset free during its live range
    (64-byte aligned sizes), and the arena size."""
    placed: list[tuple[int, int, int, int]] = []  # (start, end, offset, size)
    offsets, arena = {}, 0
    for alloc in allocs:
        start, end = ranges[alloc]
        size = alloc_bytes(alloc)
        busy = sorted((o, o + s) for (s0, e0, o, s) in placed if not (e0 < start or end < s0))
        offset = 0
        for lo, hi in busy:
            if offset + size <= lo:
                break
            offset = max(offset, hi)
        placed.append((start, end, offset, size))
        offsets[alloc] = offset
        arena = max(arena, offset + size)
    return offsets, arena


def plan_function(fn: func.FuncOp) -> int:
    for op in fn.body.block.ops:
        if isinstance(op, memref.AllocOp):
            if constant_bound(op):
                op.attributes[CONSTANT_ATTR] = UnitAttr()
                op.attributes.pop("patdnn.offset", None)
            else:
                op.attributes.pop(CONSTANT_ATTR, None)
    position, ranges = live_ranges(fn.body.block)
    # first fit in four orders, the smallest arena kept: largest first (the usual heuristic), by
    # first use, longest-lived first, and largest first with the buffers of one op (a fused chain's
    # scratch) last, into the gaps the others leave
    orders = (
        lambda a: (-alloc_bytes(a), position[a]),
        lambda a: (ranges[a][0], -alloc_bytes(a)),
        lambda a: (ranges[a][0] - ranges[a][1], -alloc_bytes(a)),
        lambda a: (ranges[a][0] == ranges[a][1], -alloc_bytes(a), position[a]),
    )
    offsets, arena = min((first_fit(sorted(ranges, key=order), ranges) for order in orders), key=lambda p: p[1])
    for alloc, offset in offsets.items():
        alloc.attributes["patdnn.offset"] = IntegerAttr(offset, i64)
    fn.attributes["patdnn.arena_bytes"] = IntegerAttr(arena, i64)
    return arena


@dataclass(frozen=True)
class PlanBuffersPass(ModulePass):
    """Assigns arena offsets to intermediate buffers; reports peak activation memory."""

    name = "plan-buffers"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for fn in op.ops:
            if isinstance(fn, func.FuncOp) and not fn.is_declaration:
                plan_function(fn)
