"""The `kernel` dialect: the register-level form of a pattern convolution, just above C.

`kernel.pattern_conv` carries everything `pattern.conv2d` does plus the schedule (register tile,
filter order, …) and one `kernel.pattern_body` per library pattern. A body says, for ONE output
vector and ONE kept kernel of that pattern, which input taps are loaded and which weight entry
multiplies each: loads and FMAs are explicit, so passes can count, share and reorder them. The
emitter wraps the bodies in the loops (filters → rows → register tiles → kernels of a pattern),
replicating a body over the vectors of the register tile; the code size is O(patterns), never
O(weights).

    kernel.pattern_conv ins(%x : memref<1x8x9x9xf32>) outs(%y : memref<1x4x9x9xf32>) {…props…} {
      kernel.pattern_body {pattern = 0 : i64} {
        %a = kernel.load_tap {row = 0 : i64, col = 1 : i64}
        kernel.fma %a {entry = 0 : i64}
        …
      }
      …
    }
"""

from __future__ import annotations

from xdsl.dialects.builtin import I64, DenseArrayBase, IntegerAttr, i64
from xdsl.ir import Attribute, Dialect, ParametrizedAttribute, Region, SSAValue, TypeAttribute
from xdsl.irdl import (
    ParsePropInAttrDict,
    IRDLOperation,
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

from patdnn.dialects.pattern import PatternConvBase, verify_conv_operands


@irdl_attr_definition
class VecType(ParametrizedAttribute, TypeAttribute):
    """One SIMD register of f32 lanes (the width comes from the target ISA)."""

    name = "kernel.vec"


@irdl_op_definition
class PatternConvOp(PatternConvBase):
    """A scheduled pattern convolution; semantics as `pattern.conv2d`.

    Schedule properties: `tile_x` output columns per register tile (a multiple of every target's
    vector width that is used), `filter_order` an optional permutation of the filters (results
    are still written to the original channel positions).
    """

    name = "kernel.pattern_conv"

    tile_x = prop_def(IntegerAttr[I64])
    filter_order = opt_prop_def(DenseArrayBase[I64])

    body = region_def("single_block")
    traits = traits_def(NoTerminator())
    irdl_options = (ParsePropInAttrDict(),)

    assembly_format = "`ins` `(` $input `:` type($input) `)` `outs` `(` $output `:` type($output) `)` attr-dict-with-keyword $body"

    def verify_(self) -> None:
        verify_conv_operands(self)
        if self.tile_x.value.data < 1:
            raise VerifyException(f"tile_x {self.tile_x.value.data} must be >= 1")
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

    def _verify_body(self, body: PatternBodyOp, pattern: int) -> None:
        k, entries = self.library.size, self.library.entries()[pattern]
        for op in body.body.block.ops:
            if isinstance(op, LoadTapOp) and not (0 <= op.row.value.data < k and 0 <= op.col.value.data < k):
                raise VerifyException(
                    f"load_tap ({op.row.value.data}, {op.col.value.data}) in pattern {pattern} lies outside the {k}x{k} kernel"
                )
            if isinstance(op, FmaOp) and not 0 <= op.entry.value.data < entries:
                raise VerifyException(
                    f"fma entry {op.entry.value.data} in pattern {pattern} is out of range: the pattern keeps {entries}"
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
    """Loads the input vector that kernel tap (row, col) multiplies, for the current output vector
    (stride and padding applied by the emitter)."""

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
    """acc += value * (weight `entry` of the current kernel, broadcast)."""

    name = "kernel.fma"

    value = operand_def(VecType)
    entry = prop_def(IntegerAttr[I64])
    traits = traits_def(HasParent(PatternBodyOp))
    irdl_options = (ParsePropInAttrDict(),)

    assembly_format = "$value attr-dict"

    def __init__(self, value: SSAValue, entry: int):
        super().__init__(operands=[value], properties={"entry": IntegerAttr(entry, i64)})


Kernel = Dialect("kernel", [PatternConvOp, PatternBodyOp, LoadTapOp, FmaOp], [VecType])


def copy_conv_properties(op: IRDLOperation) -> dict[str, Attribute]:
    """The semantic properties shared by `pattern.conv2d` and `kernel.pattern_conv`."""
    names = ("library", "kernels", "weights", "bias", "stride", "padding", "dilation", "activation")
    return {name: op.properties[name] for name in names if name in op.properties}
