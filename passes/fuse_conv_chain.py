"""`fuse-conv-chain`: runs [1x1 expand] → depthwise → [1x1 project] as one tiled kernel.

    %e = memref.alloc()                          nn.conv_chain ins(%x) outs(%y) rows 2 {
    nn.conv2d ins(%x) outs(%e) 1x1 relu6           %e = memref.alloc()
    %d = memref.alloc()                    →        nn.conv2d ins(%x) outs(%e) 1x1 relu6
    nn.conv2d ins(%e) outs(%d) dw 3x3 relu6          %d = memref.alloc()
    nn.conv2d ins(%d, %r) outs(%y) 1x1 none          nn.conv2d ins(%e) outs(%d) dw 3x3 relu6
                                                     nn.conv2d ins(%d, %r) outs(%y) 1x1 none
                                                   }

The cross-layer fusion of DNNFusion (Niu et al., PLDI'21) for the chains MobileNet-style nets are
made of (the inverted residual; either 1x1 may be absent: MobileNet-V2's first block has no expand,
blocks with squeeze-excitation end at the depthwise). The conv before the depthwise may be any
ungrouped conv: a stem (3x3 stride 2 on the image) then heads the first block's chain, and its
output never exists whole either. Unfused, the expanded tensor (96 x 112 x 112
floats, 4.8 MB, in MobileNet-V2's second block) is written to memory by the expand and read back by
the depthwise, whose output makes the same trip to the project. Fused, the backend computes the
chain in bands of output rows, each band's expanded rows and depthwise output held in a per-thread
slot that stays in L2 (runtime/ops_chain.c; the same bits). plan-buffers then places no arena
space for them: the peak activation memory can only go down.

A chain is fused when its three (or two) convs are consecutive ops (allocs between them aside),
each intermediate tensor is an alloc that only its writer and its reader use, only the last conv has
a residual, and its largest intermediate tensor per image is at least `min_kib` KiB (below, it fits
in L2 between the ops anyway, and the unfused ops split their work across threads more evenly).
`rows` (output rows per band) is the largest whose slot fits in `budget_kib` KiB (up to 4x that for
chains whose weights are larger: each band reads them all). Then the peak activation memory is
kept: while the fused plan's arena plus `threads` slots of the largest chain exceeds the unfused
plan's arena, that chain's rows are halved (at one row, it is unfused again). Leave the pass
out of the pipeline (`patdnnc --no-fuse`, `patdnn.compile(fuse=False)`) for the ablation.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import func, memref
from xdsl.dialects.builtin import IntegerAttr, ModuleOp, i64
from xdsl.ir import Block, Operation, Region
from xdsl.passes import ModulePass

from patdnn.dialects import nn
from patdnn.dialects.common import weights_count
from patdnn.dialects.nn_chain import ChainParts, chain_parts, chain_slot_floats, is_dense, is_depthwise, is_pointwise
from patdnn.passes.plan_buffers import plan_function


def _sole_partner(conv: nn.Conv2dOp, buffer, want_writer: bool) -> nn.Conv2dOp | None:
    """The other conv using `buffer` (an alloc used by `conv` and exactly one more conv): its writer
    when `want_writer` (ungrouped, no residual), else its reader (a 1x1)."""
    if not isinstance(buffer.owner, memref.AllocOp):
        return None
    others = {use.operation for use in buffer.uses} - {conv}
    if len(others) != 1:
        return None
    other = next(iter(others))
    if not isinstance(other, nn.Conv2dOp) or not (is_dense(other) if want_writer else is_pointwise(other)):
        return None
    if want_writer:
        return other if other.output == buffer and other.input != buffer and other.residual is None else None
    return other if other.input == buffer and other.output != buffer and other.residual != buffer else None


def _consecutive(ops: list[Operation]) -> bool:
    """Whether only memref.allocs lie between the ops (in block order)."""
    op = ops[0].next_op
    for nxt in ops[1:]:
        while op is not nxt:
            if op is None or not isinstance(op, memref.AllocOp):
                return False
            op = op.next_op
        op = op.next_op
    return True


def find_chain(depthwise: nn.Conv2dOp) -> ChainParts | None:
    """The chain around `depthwise` that fuse-conv-chain may fuse, or None."""
    if not is_depthwise(depthwise):
        return None
    expand = _sole_partner(depthwise, depthwise.input, want_writer=True)
    project = _sole_partner(depthwise, depthwise.output, want_writer=False) if depthwise.residual is None else None
    if expand is None and project is None:
        return None
    parts = ChainParts(expand, depthwise, project)
    if not _consecutive([c for c in parts if c is not None]):
        return None
    return parts


def _intermediates(parts: ChainParts) -> list[int]:
    """Bytes of each tensor the fusion keeps out of memory (all images)."""
    buffers = [parts.depthwise.input] * (parts.expand is not None) + [parts.depthwise.output] * (
        parts.project is not None
    )
    return [4 * n * c * h * w for (n, c, h, w) in (b.type.get_shape() for b in buffers)]


def _weight_bytes(parts: ChainParts) -> int:
    """Bytes of the chain's weights (every band reads all of them)."""
    return sum(4 * weights_count(c.weights) for c in parts if c is not None)


def band_rows(parts: ChainParts, budget_bytes: int) -> int:
    """The most output rows per band whose slot fits the chain's budget, at least 1: `budget_bytes`,
    raised up to 4x for a chain with more weights than that — every band reads all of them, so
    160 -> 960 -> 160 @7x7 (1.2 MB of weights) runs as one band of 7 rows instead of 7 of one."""
    budget = min(max(budget_bytes, _weight_bytes(parts)), 4 * budget_bytes)
    ho = parts.depthwise.output.type.get_shape()[2]
    rows = 1
    while rows < ho and 4 * chain_slot_floats(parts, rows + 1) <= budget:
        rows += 1
    return rows


def _unfuse(chain: nn.ConvChainOp) -> None:
    """Puts the chain's ops back where it is, unfused."""
    block = chain.parent_block()
    for op in list(chain.body.block.ops):
        op.detach()
        block.insert_op_before(op, chain)
    block.erase_op(chain)


def keep_peak_memory(fn: func.FuncOp, chains: list[nn.ConvChainOp], unfused_arena: int, threads: int) -> None:
    """Shrinks bands until the fused plan's arena plus the chains' per-thread slots is no larger
    than the unfused plan's arena (the peak activation memory must not rise): the chain with the
    largest slot first, halving its rows; a chain that exceeds it at one row is unfused."""
    while chains:
        slots = {c: 4 * chain_slot_floats(chain_parts(c), c.rows.value.data) * threads for c in chains}
        if plan_function(fn) + max(slots.values()) <= unfused_arena:
            return
        largest = max(chains, key=lambda c: slots[c])
        rows = largest.rows.value.data
        if rows == 1:
            chains.remove(largest)
            _unfuse(largest)
        else:
            largest.properties["rows"] = IntegerAttr(rows // 2, i64)


def fuse_chain(parts: ChainParts, rows: int) -> nn.ConvChainOp:
    """An nn.conv_chain holding the chain's convs, each intermediate alloc before its writer (all
    detached from their block; the caller inserts the chain where the last conv was)."""
    chain = [c for c in parts if c is not None]
    body = Block()
    for i, conv in enumerate(chain):
        moved = [conv.output.owner, conv] if i + 1 < len(chain) else [conv]
        for op in moved:
            op.detach()
            body.add_op(op)
    return nn.ConvChainOp(chain[0].input, chain[-1].output, rows, Region(body))


def fuse_block(block: Block, min_bytes: int, budget_bytes: int) -> list[nn.ConvChainOp]:
    fused = []
    for depthwise in [op for op in block.ops if isinstance(op, nn.Conv2dOp)]:
        if depthwise.parent_block() is not block:  # already moved into a chain
            continue
        parts = find_chain(depthwise)
        if parts is None or max(_intermediates(parts)) // parts.depthwise.input.type.get_shape()[0] < min_bytes:
            continue
        last = [c for c in parts if c is not None][-1]
        anchor = last.next_op
        chain = fuse_chain(parts, band_rows(parts, budget_bytes))
        if anchor is None:
            block.add_op(chain)
        else:
            block.insert_op_before(chain, anchor)
        fused.append(chain)
    return fused


@dataclass(frozen=True)
class FuseConvChainPass(ModulePass):
    """Fuses [1x1] → depthwise → [1x1] conv chains into nn.conv_chain (see the module docstring)."""

    name = "fuse-conv-chain"

    min_kib: int = 0
    """Fuse only chains whose largest intermediate tensor per image is at least this many KiB."""

    budget_kib: int = 256
    """Per-thread scratch for a band (expanded rows + depthwise output): picks the band's rows."""

    threads: int = 1
    """Threads the model runs with (one slot each): the arena plus all slots stays within the unfused arena."""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for fn in op.walk():
            if isinstance(fn, func.FuncOp) and not fn.is_declaration:
                unfused_arena = plan_function(fn)  # plan-buffers runs again after this pass
                chains = fuse_block(fn.body.block, self.min_kib * 1024, self.budget_kib * 1024)
                keep_peak_memory(fn, chains, unfused_arena, max(1, self.threads))
