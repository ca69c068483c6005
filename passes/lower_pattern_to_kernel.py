"""`lower-pattern-to-kernel`: pattern.conv2d → kernel.pattern_conv with explicit per-pattern bodies.

Each library pattern gets one `kernel.pattern_body` holding, for every output row of the register
tile and every kept entry (row-major tap order), one `kernel.load_tap` and one `kernel.fma` — the
naive register-level form, one load per tap and row; `load-elim` then shares the loads that rows
and taps have in common. The schedule (tile_x, tile_y, channel_block, filter_group) comes from the op's
`patdnn.schedule` (set by tile-tune or written in the LR), else from this pass's options.

A `tile_y` larger than the layer's output rows is clamped to them; the change is reported as a
`patdnn.notes.Note` warning (`layer 'conv1': tile_y 64 clamped to 15 (the layer's output rows)`),
which patdnn-opt and patdnnc print as one `note: ...` line on stderr. The C emitter reports its
own changes the same way (tile_x rounded to the vector width, channel_block clamped to the input
channels: patdnn/backend/c/pattern_loop.py).
"""

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import DictionaryAttr, IntegerAttr, ModuleOp, i64
from xdsl.ir import Block, Region
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import PatternRewriter, PatternRewriteWalker, RewritePattern, op_type_rewrite_pattern
from xdsl.utils.exceptions import PassFailedException

from patdnn.dialects import common, kernel, pattern
from patdnn.notes import layer_title, note


def build_pattern_body(
    library: common.PatternLibraryAttr, index: int, rows: int = 1, stride: int = 1, dilation: int = 1
) -> kernel.PatternBodyOp:
    """Kernel row r of output row `acc_row` reads input row acc_row * stride + r * dilation (the
    column stays the kernel column: its tap-shifted plane holds the dilation)."""
    block = Block()
    for acc_row in range(rows):
        for entry, (row, col) in enumerate(library.taps(index)):
            load = kernel.LoadTapOp(acc_row * stride + row * dilation, col)
            block.add_ops([load, kernel.FmaOp(load.result, entry, acc_row)])
    return kernel.PatternBodyOp(index, Region(block))


def scheduled(op: pattern.Conv2dOp, key: str, default: int | None) -> int | None:
    """A per-layer decision from the op's `patdnn.schedule` (set by LR or tuning), else the default."""
    schedule = op.attributes.get(pattern.SCHEDULE_ATTR)
    if isinstance(schedule, DictionaryAttr) and isinstance(value := schedule.data.get(key), IntegerAttr):
        return value.value.data
    return default


@dataclass
class LowerConv(RewritePattern):
    tile_x: int
    tile_y: int

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: pattern.Conv2dOp, rewriter: PatternRewriter) -> None:
        out_rows = common.shape_of(op.output)[2]
        asked = scheduled(op, "tile_y", self.tile_y) or 1
        rows = max(1, min(asked, out_rows))
        if rows != asked:
            note(
                f"{layer_title(op, 'a pattern convolution')}: tile_y {asked} clamped to {rows} (the layer's output rows)"
            )
        stride, dilation = op.stride.get_values()[0], op.dilation.get_values()[0]
        bodies = [build_pattern_body(op.library, p, rows, stride, dilation) for p in range(op.library.num_patterns)]
        properties = kernel.copy_conv_properties(op)
        properties["tile_x"] = IntegerAttr(scheduled(op, "tile_x", self.tile_x), i64)
        properties["tile_y"] = IntegerAttr(rows, i64)
        for key in ("channel_block", "filter_group"):
            if (value := scheduled(op, key, None)) is not None:
                properties[key] = IntegerAttr(value, i64)
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
    """Output columns per register tile (rounded up to the target's vector width), where a layer's
    `patdnn.schedule` does not say."""

    tile_y: int = 1
    """Output rows per register tile, where a layer's `patdnn.schedule` does not say."""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for name in ("tile_x", "tile_y"):
            if getattr(self, name) < 1:
                raise PassFailedException(f"lower-pattern-to-kernel: {name}={getattr(self, name)} must be >= 1")
        PatternRewriteWalker(LowerConv(self.tile_x, self.tile_y)).rewrite_module(op)
