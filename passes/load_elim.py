"""`load-elim`: register-level load redundancy elimination inside pattern bodies.

After lowering, a body loads one input vector per (tile row, tap). Loads at the same (input row,
kernel column) are the same vector: a tap (r, c) of output row y and a tap (r - 1, c) of output
row y + 1 read one input row (rows of a register tile overlap), and with a multi-row tile every
interior input row is read by up to K kernel rows. This pass keeps the first such load and points
every FMA at it, so each distinct input vector is loaded once per kernel — e.g. a 4-row tile of
the pattern `010|111|000` goes from 16 loads to 13. The FMAs keep their order (results are bit for
bit the same).

Filter-level sharing (filters of a group reusing one loaded input tile) is not done here: with
PatDNN's connectivity pruning two filters rarely keep the same (channel, pattern) kernel, so the
generated code instead keeps a channel block of the input in L1 while every filter of a thread
sweeps it (see `channel_block`, chosen by tile-tune).
"""

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass

from patdnn.dialects import kernel


def eliminate_redundant_loads(body: kernel.PatternBodyOp) -> int:
    """Merges loads of the same (row, col) in one body; returns how many were removed."""
    first: dict[tuple[int, int], kernel.LoadTapOp] = {}
    removed = 0
    for op in list(body.body.block.ops):
        if not isinstance(op, kernel.LoadTapOp):
            continue
        key = (op.row.value.data, op.col.value.data)
        if key in first:
            op.result.replace_all_uses_with(first[key].result)
            op.detach()
            op.erase()
            removed += 1
        else:
            first[key] = op
    return removed


@dataclass(frozen=True)
class LoadElimPass(ModulePass):
    """Shares identical input-vector loads within each kernel.pattern_body."""

    name = "load-elim"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for inner in op.walk():
            if isinstance(inner, kernel.PatternBodyOp):
                eliminate_redundant_loads(inner)
