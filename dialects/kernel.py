"""The `kernel` dialect: the register-level form of a pattern convolution, just above C.

`kernel.pattern_conv` carries everything `pattern.conv2d` does plus the schedule (register tile,
channel blocks, filter order, FKW index) and one `kernel.pattern_body` per library pattern. A body
says, for ONE kept kernel of that pattern and one column of vectors of the register tile
(`tile_y` output rows), which input vectors are loaded (`kernel.load_tap`: input row relative to
the tile's first input row, kernel column) and which accumulator row each weight entry feeds
(`kernel.fma`): loads and FMAs are explicit, so passes can count and share them (load-elim). The
emitter wraps the bodies in the loops (column tiles → row tiles → channel blocks → filters →
kernels of a pattern) and replicates a body over the `tile_x / vector width` vectors of a row;
the code size is O(patterns), never O(weights).

    kernel.pattern_conv ins(%x : memref<1x8x9x9xf32>) outs(%y : memref<1x4x9x9xf32>) {…props…} {
      kernel.pattern_body {pattern = 0 : i64} {
        %a = kernel.load_tap {row = 0 : i64, col = 1 : i64}
        kernel.fma %a {entry = 0 : i64, acc_row = 0 : i64}
        …
      }
      …
    }
"""

from __future__ import annotations

from xdsl.dialects.builtin import I32, I64, DenseArrayBase, IntegerAttr, i64
from xdsl.ir import Attribute, Dialect, ParametrizedAttribute, Region, SSAValue, TypeAttribute
from xdsl.irdl import (
    IRDLOperation,
    ParsePropInAttrDict,
    irdl_attr_definition,
    irdl_op_definition,
    operand_def,
    opt_prop_def,
    prop_def,
    region_def,
    result_def,
    traits_def,
)
from xdsl.traits import HasParent, NoTerminator
from xdsl.utils.exceptions import VerifyException

from patdnn.dialects.common import PatternConvBase, ceil_div, verify_conv_operands


@irdl_attr_definition
class VecType(ParametrizedAttribute, TypeAttribute):
    """One SIMD register of f32 lanes (the width comes from the target ISA)."""

    name = "kernel.vec"


@irdl_op_definition
class PatternConvOp(PatternConvBase):
    """A scheduled pattern convolution; semantics as `pattern.conv2d`.

    Schedule properties: `tile_x` output columns per register tile (rounded up to the target's
    vector width), `tile_y` output rows per register tile (default 1), `channel_block` input
    channels per cache block (default: all), `filter_group` 0 for PatDNN's loop (one loop per
    pattern and filter over channel blocks, load-elim's bodies) or N > 0 for the tap-list form
    (L1 channel blocks swept by groups of N filters, one loop per filter and block; see
    patdnn/backend/c_pattern_taps.py), `filter_order` an optional permutation of the filters
    (results are still written to the original channel positions). FKW index (set by fkw-pack;
    derived from `kernels` when absent): `fkw_segments` holds (first kernel, end kernel, first
    weight) per (channel block, filter, pattern), `fkw_channels` the input channel of every kept
    kernel in FKW order.
    """

    name = "kernel.pattern_conv"

    tile_x = prop_def(IntegerAttr[I64])
    tile_y = opt_prop_def(IntegerAttr[I64])
    channel_block = opt_prop_def(IntegerAttr[I64])
    filter_group = opt_prop_def(IntegerAttr[I64])
    filter_order = opt_prop_def(DenseArrayBase[I64])
    fkw_segments = opt_prop_def(DenseArrayBase[I32])
    fkw_channels = opt_prop_def(DenseArrayBase[I32])

    body = region_def("single_block")
    traits = traits_def(NoTerminator())
    irdl_options = (ParsePropInAttrDict(),)

    assembly_format = (
        "`ins` `(` $input `:` type($input) `)` `outs` `(` $output `:` type($output) `)` attr-dict-with-keyword $body"
    )

    def verify_(self) -> None:
        verify_conv_operands(self)
        for name in ("tile_x", "tile_y", "channel_block"):
            value = self.schedule_value(name)
            if value < 1:
                raise VerifyException(f"{name} {value} must be >= 1")
        if self.schedule_value("filter_group") < 0:
            raise VerifyException(f"filter_group {self.schedule_value('filter_group')} must be >= 0")
        out_rows = self.output.type.get_shape()[2]  # type: ignore[union-attr]
        if self.schedule_value("tile_y") > out_rows:
            raise VerifyException(f"tile_y {self.schedule_value('tile_y')} exceeds the {out_rows} output rows")
        seen = set()
        for op in self.body.block.ops:
            if not isinstance(op, PatternBodyOp):
                raise VerifyException(f"kernel.pattern_conv may only contain kernel.pattern_body, found {op.name}")
            pattern = op.pattern.value.data
            if not 0 <= pattern < self.library.num_patterns or pattern in seen:
                raise VerifyException(f"pattern_body {pattern} is out of range or repeated")
            seen.add(pattern)
            self._verify_body(op, pattern)
        missing = sorted(set(range(self.library.num_patterns)) - seen)
        if missing:
            raise VerifyException(f"kernel.pattern_conv has no pattern_body for patterns {missing}")
        if self.filter_order is not None:
            order = sorted(self.filter_order.get_values())
            if order != list(range(self.output.type.get_shape()[1])):  # type: ignore[union-attr]
                raise VerifyException("filter_order must be a permutation of the output channels")
        self._verify_fkw()

    def schedule_value(self, name: str) -> int:
        """tile_x, tile_y, channel_block or filter_group, with the defaults of absent properties."""
        value = getattr(self, name)
        if value is not None:
            return value.value.data
        if name == "filter_group":
            return 0
        return 1 if name == "tile_y" else self.input.type.get_shape()[1]  # type: ignore[union-attr]

    def max_input_row(self) -> int:
        """Input rows a body may load, relative to its tile: (tile_y - 1) * stride + (K - 1) * dilation + 1."""
        span = (self.library.size - 1) * self.dilation.get_values()[0] + 1
        return (self.schedule_value("tile_y") - 1) * self.stride.get_values()[0] + span

    def _verify_fkw(self) -> None:
        if (self.fkw_segments is None) != (self.fkw_channels is None):
            raise VerifyException("fkw_segments and fkw_channels come together (run fkw-pack)")
        if self.fkw_segments is None or self.fkw_channels is None:
            return
        cout, cin = self.output.type.get_shape()[1], self.input.type.get_shape()[1]  # type: ignore[union-attr]
        blocks = ceil_div(cin, min(self.schedule_value("channel_block"), cin))
        expected = blocks * cout * self.library.num_patterns * 3
        if len(self.fkw_segments) != expected:
            raise VerifyException(
                f"fkw_segments has {len(self.fkw_segments)} values, expected {expected} "
                f"(3 per channel block x filter x pattern)"
            )
        kept = sum(1 for v in self.kernels.iter_values() if v >= 0)
        if len(self.fkw_channels) != kept:
            raise VerifyException(f"fkw_channels has {len(self.fkw_channels)} values, the layer keeps {kept} kernels")

    def _verify_body(self, body: PatternBodyOp, pattern: int) -> None:
        k, entries = self.library.size, self.library.entries()[pattern]
        rows, tile_y = self.max_input_row(), self.schedule_value("tile_y")
        for op in body.body.block.ops:
            if isinstance(op, LoadTapOp) and not (0 <= op.row.value.data < rows and 0 <= op.col.value.data < k):
                raise VerifyException(
                    f"load_tap ({op.row.value.data}, {op.col.value.data}) in pattern {pattern} lies outside the "
                    f"{rows}x{k} input window of a {tile_y}-row tile"
                )
            if isinstance(op, FmaOp) and not 0 <= op.entry.value.data < entries:
                raise VerifyException(
                    f"fma entry {op.entry.value.data} in pattern {pattern} is out of range: the pattern keeps {entries}"
                )
            if isinstance(op, FmaOp) and not 0 <= op.row_index() < tile_y:
                raise VerifyException(
                    f"fma acc_row {op.row_index()} in pattern {pattern} is out of range: the tile has {tile_y} rows"
                )

    def bodies(self) -> dict[int, PatternBodyOp]:
        return {op.pattern.value.data: op for op in self.body.block.ops if isinstance(op, PatternBodyOp)}


@irdl_op_definition
class PatternBodyOp(IRDLOperation):
    """The register-level work of one kept kernel of `pattern` for one output vector."""

    name = "kernel.pattern_body"

    pattern = prop_def(IntegerAttr[I64])
    body = region_def("single_block")
    traits = traits_def(NoTerminator(), HasParent(PatternConvOp))
    irdl_options = (ParsePropInAttrDict(),)

    assembly_format = "attr-dict-with-keyword $body"

    def __init__(self, pattern: int, body: Region):
        super().__init__(properties={"pattern": IntegerAttr(pattern, i64)}, regions=[body])


@irdl_op_definition
class LoadTapOp(IRDLOperation):
    """Loads the input vector at (row, col): `row` counts input rows from the tile's first input
    row (an output row r reads rows r * stride + kernel row), `col` is the kernel column (the
    emitter reads it from that column's tap-shifted input copy, stride and padding applied)."""

    name = "kernel.load_tap"

    row = prop_def(IntegerAttr[I64])
    col = prop_def(IntegerAttr[I64])
    result = result_def(VecType)
    traits = traits_def(HasParent(PatternBodyOp))
    irdl_options = (ParsePropInAttrDict(),)

    assembly_format = "attr-dict"

    def __init__(self, row: int, col: int):
        super().__init__(
            properties={"row": IntegerAttr(row, i64), "col": IntegerAttr(col, i64)}, result_types=[VecType()]
        )


@irdl_op_definition
class FmaOp(IRDLOperation):
    """acc[acc_row] += value * (weight `entry` of the current kernel, broadcast)."""

    name = "kernel.fma"

    value = operand_def(VecType)
    entry = prop_def(IntegerAttr[I64])
    acc_row = opt_prop_def(IntegerAttr[I64])
    traits = traits_def(HasParent(PatternBodyOp))
    irdl_options = (ParsePropInAttrDict(),)

    assembly_format = "$value attr-dict"

    def __init__(self, value: SSAValue, entry: int, acc_row: int = 0):
        properties = {"entry": IntegerAttr(entry, i64), "acc_row": IntegerAttr(acc_row, i64)}
        super().__init__(operands=[value], properties=properties)

    def row_index(self) -> int:
        return self.acc_row.value.data if self.acc_row is not None else 0


Kernel = Dialect("kernel", [PatternConvOp, PatternBodyOp, LoadTapOp, FmaOp], [VecType])


def copy_conv_properties(op: IRDLOperation) -> dict[str, Attribute]:
    """The semantic properties shared by `pattern.conv2d` and `kernel.pattern_conv`."""
    names = ("library", "kernels", "weights", "bias", "stride", "padding", "dilation", "activation")
    return {name: op.properties[name] for name in names if name in op.properties}
