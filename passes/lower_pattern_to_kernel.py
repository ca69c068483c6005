"""`lower-pattern-to-kernel`: pattern.conv2d → kernel.pattern_conv with explicit per-pattern bodies.

Each library pattern gets one `kernel.pattern_body` holding one `kernel.load_tap` and one
`kernel.fma` per kept entry, in row-major tap order — the naive register-level form, one load per
tap; later passes (load-elim) share loads, (tile-tune) change the schedule properties.
"""

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import DictionaryAttr, IntegerAttr, ModuleOp, i64
from xdsl.ir import Block, Region
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)
from xdsl.utils.exceptions import PassFailedException

from patdnn.dialects import kernel, pattern


def build_pattern_body(library: pattern.PatternLibraryAttr, index: int) -> kernel.PatternBodyOp:
    block = Block()
    for entry, (row, col) in enumerate(library.taps(index)):
        load = kernel.LoadTapOp(row, col)
        block.add_ops([load, kernel.FmaOp(load.result, entry)])
    return kernel.PatternBodyOp(index, Region(block))


def _scheduled(op: pattern.Conv2dOp, key: str, default: int) -> int:
    """A per-layer decision from the op's `patdnn.schedule` (set by LR or tuning), else the default."""
    schedule = op.attributes.get("patdnn.schedule")
    if isinstance(schedule, DictionaryAttr) and isinstance(value := schedule.data.get(key), IntegerAttr):
        return value.value.data
    return default


@dataclass
class LowerConv(RewritePattern):
    tile_x: int

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: pattern.Conv2dOp, rewriter: PatternRewriter) -> None:
        bodies = [build_pattern_body(op.library, p) for p in range(op.library.num_patterns)]
        properties = kernel.copy_conv_properties(op)
        properties["tile_x"] = IntegerAttr(_scheduled(op, "tile_x", self.tile_x), i64)
        lowered = kernel.PatternConvOp.create(
            operands=[op.input, op.output],
            properties=properties,
            attributes=dict(op.attributes),
            regions=[Region(Block(bodies))],
        )
        rewriter.replace(op, lowered)


@dataclass(frozen=True)
class LowerPatternToKernelPass(ModulePass):
    """Lowers every pattern.conv2d to the register-level kernel dialect."""

    name = "lower-pattern-to-kernel"

    tile_x: int = 16
    """Output columns computed per register tile (a multiple of the target's vector width)."""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        if self.tile_x < 1:
            raise PassFailedException(f"lower-pattern-to-kernel: tile_x={self.tile_x} must be >= 1")
        PatternRewriteWalker(LowerConv(self.tile_x)).rewrite_module(op)
