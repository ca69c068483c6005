"""`fuse-conv-chain`: runs [head conv] → depthwise → [1x1 project] as one tiled kernel.

    %e = memref.alloc()                          %s = memref.alloc() : memref<T x S x f32>
    nn.conv2d ins(%x) outs(%e) 1x1 relu6         nn.conv_chain ins(%x) outs(%y) scratch(%s) rows 2 {
    %d = memref.alloc()                    →       %e = memref.alloc()
    nn.conv2d ins(%e) outs(%d) dw 3x3 relu6        nn.conv2d ins(%x) outs(%e) 1x1 relu6
    nn.conv2d ins(%d, %r) outs(%y) 1x1 none        %d = memref.alloc()
                                                   nn.conv2d ins(%e) outs(%d) dw 3x3 relu6
                                                   nn.conv2d ins(%d, %r) outs(%y) 1x1 none
                                                 }

The cross-layer fusion of DNNFusion (Niu et al., PLDI'21) for the chains MobileNet-style nets are
made of: the inverted residual, with either end possibly absent (MobileNet-V2's first block has no
expand; blocks with squeeze-excitation end at the depthwise). The head may be any ungrouped conv:
a stem (3x3 stride 2 on the image) then heads the first block's chain. Unfused, the expanded tensor
(96 x 112 x 112 floats, 4.8 MB, in MobileNet-V2's second block) goes to memory and back, and so
does the depthwise output; fused, the backend computes the chain in bands of output rows, each
band's expanded rows and depthwise output in a per-thread slot of `%s` that stays in L2
(runtime/ops_chain.c; the same bits).

A chain is fused when its convs are consecutive ops (allocs between them aside), each intermediate
tensor is an alloc only its writer and its reader use, only the last conv has a residual, and its
largest intermediate tensor per image is at least `min_kib` KiB. `rows` is the most whose slot fits
`budget_kib` KiB (up to 4x that for chains with more weights: each band reads them all).

Peak activation memory never rises: `%s` (threads x slot floats, just before the chain) is placed
in the arena by plan-buffers like any tensor; the slots may take what the chain's intermediates
took plus the room below the function's peak of live bytes (a chain whose one-row slots do not fit
stays unfused); and since the arena is a first-fit packing that can land above that peak, the pass
plans both functions on copies and, while the fused arena is the larger, halves the rows of the
chain with the largest scratch (at one row, unfuses it). Leave the pass out of the pipeline
(`patdnnc --no-fuse`, `patdnn.compile(fuse=False)`) for the ablation.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import func, memref
from xdsl.dialects.builtin import IntegerAttr, MemRefType, ModuleOp, f32, i64
from xdsl.ir import Block, Operation, Region
from xdsl.passes import ModulePass

from patdnn.dialects import nn
from patdnn.dialects.common import weights_count
from patdnn.dialects.nn_chain import ChainParts, chain_parts, chain_slot_floats, is_dense, is_depthwise, is_pointwise
from patdnn.passes.plan_buffers import alloc_bytes, live_ranges, plan_function


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


def band_rows(parts: ChainParts, budget_bytes: int, threads: int, room_bytes: int) -> int | None:
    """Output rows per band: the most whose slot fits the chain's budget — `budget_bytes`, raised up
    to 4x for a chain with more weights than that (every band reads all of them, so 160 -> 960 -> 160
    @7x7, 1.2 MB of weights, runs as one band of 7 rows instead of 7 of one) — and whose `threads`
    slots together fit `room_bytes`; None when one row does not."""
    budget = min(max(budget_bytes, _weight_bytes(parts)), 4 * budget_bytes)

    def slots_bytes(rows: int) -> int:
        return 4 * chain_slot_floats(parts, rows) * threads

    if slots_bytes(1) > room_bytes:
        return None
    ho = parts.depthwise.output.type.get_shape()[2]
    rows = 1
    while rows < ho and slots_bytes(rows + 1) <= min(budget * threads, room_bytes):
        rows += 1
    return rows


class Liveness:
    """Live activation bytes at each op of a block before fusion (plan-buffers' live ranges): how
    much scratch a chain may take without raising the function's peak."""

    def __init__(self, block: Block):
        self.position, self.ranges = live_ranges(block)
        self.live = [0] * len(self.position)
        for alloc, (start, end) in self.ranges.items():
            for i in range(start, end + 1):
                self.live[i] += alloc_bytes(alloc)
        self.peak = max(self.live, default=0)

    def room(self, parts: ChainParts) -> int:
        """The peak minus every other buffer live anywhere during the chain (fused, the chain is one
        op, so its input and output are live together): scratch of at most this size keeps every
        position at or below the peak."""
        convs = [c for c in parts if c is not None]
        first, last = self.position[convs[0]], self.position[convs[-1]]
        removed = {c.output.owner for c in convs[:-1]}
        rest = sum(
            alloc_bytes(a)
            for a, (start, end) in self.ranges.items()
            if a not in removed and start <= last and end >= first
        )
        return self.peak - rest


def fuse_chain(parts: ChainParts, rows: int, threads: int) -> tuple[memref.AllocOp, nn.ConvChainOp]:
    """The chain's scratch (threads x slot floats) and an nn.conv_chain holding the chain's convs,
    each intermediate alloc before its writer (all detached from their block; the caller inserts
    both where the last conv was)."""
    chain = [c for c in parts if c is not None]
    body = Block()
    for i, conv in enumerate(chain):
        moved = [conv.output.owner, conv] if i + 1 < len(chain) else [conv]
        for op in moved:
            op.detach()
            body.add_op(op)
    scratch = memref.AllocOp([], [], MemRefType(f32, [threads, chain_slot_floats(parts, rows)]))
    return scratch, nn.ConvChainOp(chain[0].input, chain[-1].output, scratch.memref, rows, Region(body))


def fuse_block(block: Block, min_bytes: int, budget_bytes: int, threads: int) -> list[nn.ConvChainOp]:
    fused = []
    liveness = Liveness(block)  # chains never overlap, so each one's room is read before any fuses
    for depthwise in [op for op in block.ops if isinstance(op, nn.Conv2dOp)]:
        if depthwise.parent_block() is not block:  # already moved into a chain
            continue
        parts = find_chain(depthwise)
        if parts is None or max(_intermediates(parts)) // parts.depthwise.input.type.get_shape()[0] < min_bytes:
            continue
        rows = band_rows(parts, budget_bytes, threads, liveness.room(parts))
        if rows is None:
            continue
        last = [c for c in parts if c is not None][-1]
        anchor = last.next_op
        for op in fuse_chain(parts, rows, threads):
            if anchor is None:
                block.add_op(op)
            else:
                block.insert_op_before(op, anchor)
        fused.append(op)
    return fused


def resize_chain(chain: nn.ConvChainOp, rows: int) -> None:
    """Gives the chain bands of `rows` output rows and a scratch alloc of the size they need (as
    many slots as before)."""
    block, scratch = chain.parent_block(), chain.scratch.owner
    threads = scratch.memref.type.get_shape()[0]
    resized = memref.AllocOp([], [], MemRefType(f32, [threads, chain_slot_floats(chain_parts(chain), rows)]))
    block.insert_op_before(resized, scratch)
    scratch.memref.replace_all_uses_with(resized.memref)
    block.erase_op(scratch)
    chain.properties["rows"] = IntegerAttr(rows, i64)


def _shrink(chain: nn.ConvChainOp) -> None:
    """Halves the chain's rows, its scratch with them; at one row, unfuses it (its ops back in place)."""
    rows = chain.rows.value.data
    if rows > 1:
        resize_chain(chain, rows // 2)
        return
    block, scratch = chain.parent_block(), chain.scratch.owner
    for op in list(chain.body.block.ops):
        op.detach()
        block.insert_op_before(op, chain)
    block.erase_op(chain)
    block.erase_op(scratch)


def keep_arena(fn: func.FuncOp, chains: list[nn.ConvChainOp], unfused_arena: int) -> None:
    """Shrinks the chain with the largest scratch until plan-buffers' arena of the fused function
    (planned on a copy) is no larger than the unfused one's: the room rule bounds the live bytes,
    and this, the first-fit packing of them."""
    while chains and plan_function(fn.clone()) > unfused_arena:
        largest = max(chains, key=lambda c: alloc_bytes(c.scratch.owner))
        if largest.rows.value.data == 1:
            chains.remove(largest)
        _shrink(largest)


@dataclass(frozen=True)
class FuseConvChainPass(ModulePass):
    """Fuses [1x1] → depthwise → [1x1] conv chains into nn.conv_chain (see the module docstring)."""

    name = "fuse-conv-chain"

    min_kib: int = 0
    """Fuse only chains whose largest intermediate tensor per image is at least this many KiB."""

    budget_kib: int = 256
    """Per-thread scratch for a band (expanded rows + depthwise output): picks the band's rows."""

    threads: int = 1
    """Threads the model runs with: one scratch slot each (together no larger than what fusion removes)."""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for fn in op.walk():
            if isinstance(fn, func.FuncOp) and not fn.is_declaration:
                unfused_arena = plan_function(fn.clone())
                chains = fuse_block(fn.body.block, self.min_kib * 1024, self.budget_kib * 1024, max(1, self.threads))
                keep_arena(fn, chains, unfused_arena)
