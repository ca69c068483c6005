"""The `pattern` dialect: pattern-sparse convolutions (PatDNN, ASPLOS'20).

A pattern-pruned 3x3 convolution keeps, in every kernel (one (out, in) channel pair), only the
entries of one mask of a small *pattern library* (4 entries with the centre is the usual case),
and removes whole kernels (*connectivity pruning*). `pattern.conv2d` stores exactly that:

* `library`  — the masks, `#pattern.library<3x3, ["010|111|000", ...]>` (row-major, `|` between rows);
* `kernels`  — one pattern id per (out, in) kernel, row-major over (out, in); -1 marks a removed kernel;
* `weights`  — the kept values only, f32, in **FKW order**: for each filter (output channel) in order,
  for each pattern id in library order, for each input channel (ascending) whose kernel uses that
  pattern, the mask's kept entries in row-major order. Inline (`dense<...> : tensor<Nxf32>`) for
  small cases, or a `#pattern.blob<...>` reference to an external weights file for real layers.

Because the weight order follows from `kernels`, every index array the code generator needs
(per-filter offsets, per-pattern counts, input-channel ids) is derived from the ids alone;
weights never have to be read at compile time.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from xdsl.dialects.builtin import BytesAttr, DenseArrayBase, i8
from xdsl.ir import Attribute, Dialect, SSAValue
from xdsl.irdl import irdl_op_definition
from xdsl.parser import Parser
from xdsl.printer import Printer

from patdnn.dialects.common import (
    Activation,
    ActivationAttr,
    BlobRefAttr,
    PatternConvBase,
    PatternLibraryAttr,
    activation_attr,
    create_parsed,
    pair,
    pair_attr,
    parse_activation,
    parse_int_list,
    parse_optional_int_list,
    parse_typed_operand,
    parse_weights,
    print_activation,
    print_int_list,
    print_io,
    print_weights,
    shape_of,
    verify_conv_operands,
)

SCHEDULE_ATTR = "patdnn.schedule"
"""Discardable DictionaryAttr on a pattern.conv2d: its schedule (tile_x, tile_y, channel_block, …),
set by tile-tune or the LR, read by lower-pattern-to-kernel."""


def _channels(value: SSAValue) -> int:
    shape = shape_of(value)
    return shape[1] if len(shape) == 4 else 0


# ---------------------------------------------------------------------------------------------
# pattern.conv2d
# ---------------------------------------------------------------------------------------------


@irdl_op_definition
class Conv2dOp(PatternConvBase):
    """A pattern-sparse 2-D convolution on NCHW f32 buffers, `output = act(conv(input) + bias)`.

    See the module docstring for the meaning of `library`, `kernels` and the weight order.
    Custom syntax:

        pattern.conv2d ins(%x : memref<1x8x9x9xf32>) outs(%y : memref<1x4x9x9xf32>)
            stride [1, 1] padding [1, 1] activation relu
            library #pattern.library<3x3, ["010|111|000", "010|110|010"]>
            kernels [[0, 1], [-1, 0], ...]          (one row per filter)
            weights dense<[...]> : tensor<16xf32>  (or a #pattern.blob<...>)
            bias dense<[...]> : tensor<4xf32>       (optional)
    """

    name = "pattern.conv2d"

    def __init__(
        self,
        input: SSAValue,
        output: SSAValue,
        library: PatternLibraryAttr,
        kernels: Sequence[int] | np.ndarray,
        weights: Attribute,
        bias: Attribute | None = None,
        stride: int | Sequence[int] = 1,
        padding: int | Sequence[int] = 0,
        dilation: int | Sequence[int] = 1,
        activation: Activation = Activation.NONE,
    ):
        props: dict[str, Attribute] = {
            "library": library,
            "kernels": DenseArrayBase(i8, _i8_bytes(kernels)),
            "weights": weights,
            "stride": pair_attr(stride),
            "padding": pair_attr(padding),
            "dilation": pair_attr(dilation),
            "activation": activation_attr(activation),
        }
        if bias is not None:
            props["bias"] = bias
        super().__init__(operands=[input, output], properties=props)

    def verify_(self) -> None:
        verify_conv_operands(self)

    # -- custom syntax ------------------------------------------------------------------
    def print(self, printer: Printer) -> None:
        print_io(printer, [self.input], self.output)
        print_int_list(printer, "stride", self.stride)
        print_int_list(printer, "padding", self.padding)
        if pair(self.dilation) != (1, 1):
            print_int_list(printer, "dilation", self.dilation)
        print_activation(printer, self)
        printer.print_string(" library ")
        printer.print_attribute(self.library)
        printer.print_string(" kernels ")
        printer.print_string(_format_kernel_rows(self.kernels, _channels(self.input)))
        print_weights(printer, self)
        printer.print_op_attributes(self.attributes)

    @classmethod
    def parse(cls, parser: Parser) -> Conv2dOp:
        input, output = parse_typed_operand(parser, "ins"), parse_typed_operand(parser, "outs")
        props: dict[str, Attribute] = {k: parse_int_list(parser, k) for k in ("stride", "padding")}
        dilation = parse_optional_int_list(parser, "dilation")
        props["dilation"] = pair_attr(1) if dilation is None else dilation
        props["activation"] = parse_activation(parser)
        parser.parse_keyword("library")
        props["library"] = parser.parse_attribute()
        parser.parse_keyword("kernels")
        props["kernels"] = DenseArrayBase(i8, _i8_bytes(_parse_kernel_rows(parser)))
        parse_weights(parser, props)
        return create_parsed(cls, parser, [input, output], props)


def _i8_bytes(values: Sequence[int] | np.ndarray) -> BytesAttr:
    arr = np.asarray(values, dtype=np.int64).reshape(-1)
    if arr.size and (arr.min() < -128 or arr.max() > 127):
        raise ValueError("pattern ids must fit in i8")
    return BytesAttr(arr.astype(np.int8).tobytes())


def _format_kernel_rows(kernels: DenseArrayBase, row_length: int) -> str:
    ids = np.frombuffer(kernels.data.data, dtype=np.int8).tolist()
    if row_length <= 0 or len(ids) % row_length:
        return "[" + ", ".join(map(str, ids)) + "]"
    rows = [ids[r : r + row_length] for r in range(0, len(ids), row_length)]
    return "[" + ", ".join("[" + ", ".join(map(str, row)) + "]" for row in rows) + "]"


def _parse_kernel_rows(parser: Parser) -> list[int]:
    """Parses `[[0, 1], [-1, 2]]` (one row per filter) or a flat `[0, 1, -1, 2]`."""
    values: list[int] = []

    def integer() -> int:
        start = parser.pos
        value = parser.parse_integer()
        if not -128 <= value <= 127:
            parser.raise_error(f"pattern id {value} does not fit in i8", start, parser.pos)
        return value

    def element() -> None:
        if parser.parse_optional_punctuation("[") is not None:
            if parser.parse_optional_punctuation("]") is None:
                values.append(integer())
                while parser.parse_optional_punctuation(",") is not None:
                    values.append(integer())
                parser.parse_punctuation("]")
        else:
            values.append(integer())

    parser.parse_comma_separated_list(parser.Delimiter.SQUARE, element)
    return values


Pattern = Dialect("pattern", [Conv2dOp], [PatternLibraryAttr, BlobRefAttr, ActivationAttr])
