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
from enum import StrEnum

import numpy as np
from xdsl.dialects.builtin import (
    I8,
    I64,
    ArrayAttr,
    BytesAttr,
    DenseArrayBase,
    DenseIntOrFPElementsAttr,
    Float32Type,
    IntAttr,
    MemRefType,
    StringAttr,
    i8,
    i64,
)
from xdsl.ir import Attribute, Dialect, ParametrizedAttribute, SpacedOpaqueSyntaxAttribute, SSAValue
from xdsl.irdl import (
    IRDLOperation,
    irdl_attr_definition,
    irdl_op_definition,
    operand_def,
    opt_prop_def,
    prop_def,
)
from xdsl.dialects.utils import EnumAttribute
from xdsl.parser import AttrParser, Parser
from xdsl.printer import Printer
from xdsl.utils.exceptions import VerifyException

# ---------------------------------------------------------------------------------------------
# Attributes
# ---------------------------------------------------------------------------------------------


@irdl_attr_definition
class PatternLibraryAttr(ParametrizedAttribute):
    """A library of KxK 0/1 kernel masks, e.g. `#pattern.library<3x3, ["010|111|000"]>`.

    Masks must have K*K entries, keep at least one, be pairwise distinct and keep the centre,
    unless the trailing keyword `off_centre` allows masks without it.
    """

    name = "pattern.library"

    kernel_size: IntAttr
    masks: ArrayAttr[StringAttr]
    allow_off_centre: IntAttr

    def __init__(self, kernel_size: int, masks: Sequence[str], allow_off_centre: bool = False):
        super().__init__(
            IntAttr(kernel_size),
            ArrayAttr([StringAttr(m.replace("|", "")) for m in masks]),
            IntAttr(int(allow_off_centre)),
        )

    @staticmethod
    def from_arrays(masks: Sequence[np.ndarray], allow_off_centre: bool = False) -> PatternLibraryAttr:
        """Builds a library from KxK 0/1 arrays."""
        k = masks[0].shape[0]
        texts = ["".join("1" if v else "0" for v in np.asarray(m).reshape(-1)) for m in masks]
        return PatternLibraryAttr(k, texts, allow_off_centre)

    # -- queries --------------------------------------------------------------------------
    @property
    def size(self) -> int:
        return self.kernel_size.data

    @property
    def num_patterns(self) -> int:
        return len(self.masks.data)

    def mask_text(self, index: int) -> str:
        return self.masks.data[index].data

    def taps(self, index: int) -> list[tuple[int, int]]:
        """The kept (row, col) positions of pattern `index`, row-major."""
        k = self.size
        return [divmod(i, k) for i, ch in enumerate(self.mask_text(index)) if ch == "1"]

    def entries(self) -> list[int]:
        """The number of kept entries of every pattern."""
        return [self.mask_text(i).count("1") for i in range(self.num_patterns)]

    def as_array(self) -> np.ndarray:
        """The masks as a (P, K, K) float32 0/1 array."""
        k = self.size
        return np.array(
            [[float(ch) for ch in self.mask_text(i)] for i in range(self.num_patterns)], dtype=np.float32
        ).reshape(self.num_patterns, k, k)

    def pretty(self, index: int) -> str:
        text, k = self.mask_text(index), self.size
        if len(text) != k * k:
            return text
        return "|".join(text[r * k : (r + 1) * k] for r in range(k))

    # -- verification ---------------------------------------------------------------------
    def verify(self) -> None:
        k = self.size
        if k < 1 or k > 7:
            raise VerifyException(f"pattern library kernel size {k}x{k} is not supported (1x1 to 7x7)")
        if not self.masks.data:
            raise VerifyException("pattern library is empty: it needs at least one mask")
        centre = (k * k) // 2
        seen: dict[str, int] = {}
        for i, attr in enumerate(self.masks.data):
            text = attr.data
            if len(text) != k * k:
                raise VerifyException(
                    f'pattern mask {i} ("{text}") has {len(text)} entries, expected {k * k} for a {k}x{k} kernel'
                )
            if set(text) - {"0", "1"}:
                raise VerifyException(f'pattern mask {i} ("{text}") may only contain 0 and 1')
            if "1" not in text:
                raise VerifyException(f'pattern mask {i} ("{self.pretty(i)}") keeps no entry')
            if text in seen:
                raise VerifyException(
                    f'pattern masks {seen[text]} and {i} are identical ("{self.pretty(i)}")'
                )
            seen[text] = i
            if k % 2 == 1 and text[centre] != "1" and not self.allow_off_centre.data:
                raise VerifyException(
                    f'pattern mask {i} ("{self.pretty(i)}") does not keep the centre entry '
                    "(add `off_centre` to the library to allow it)"
                )

    # -- syntax: <3x3, ["010|111|000", ...] (, off_centre)?> -------------------------------
    def print_parameters(self, printer: Printer) -> None:
        k = self.size
        printer.print_string(f"<{k}x{k}, [")
        printer.print_string(", ".join(f'"{self.pretty(i)}"' for i in range(self.num_patterns)))
        printer.print_string("]")
        if self.allow_off_centre.data:
            printer.print_string(", off_centre")
        printer.print_string(">")

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> list[Attribute]:
        with parser.in_angle_brackets():
            rows = parser.parse_integer(allow_boolean=False, allow_negative=False)
            parser.parse_shape_delimiter()
            cols = parser.parse_integer(allow_boolean=False, allow_negative=False)
            if rows != cols:
                parser.raise_error(f"pattern library kernels must be square, got {rows}x{cols}")
            parser.parse_punctuation(",")
            masks = parser.parse_comma_separated_list(parser.Delimiter.SQUARE, parser.parse_str_literal)
            off_centre = parser.parse_optional_punctuation(",") is not None
            if off_centre:
                parser.parse_keyword("off_centre")
        return [
            IntAttr(rows),
            ArrayAttr([StringAttr(m.replace("|", "")) for m in masks]),
            IntAttr(int(off_centre)),
        ]


@irdl_attr_definition
class BlobRefAttr(ParametrizedAttribute):
    """A byte range of an external weights file:
    `#pattern.blob<"model.weights", offset = 0, size = 4096, sha256 = "…">`.

    `sha256` is the digest of the *whole file*; the runtime checks it and the file size before use.
    The file name is resolved against the weights directory given at run time.
    """

    name = "pattern.blob"

    file: StringAttr
    offset: IntAttr
    size: IntAttr
    sha256: StringAttr

    def __init__(self, file: str, offset: int, size: int, sha256: str):
        super().__init__(StringAttr(file), IntAttr(offset), IntAttr(size), StringAttr(sha256))

    def verify(self) -> None:
        digest = self.sha256.data
        if len(digest) != 64 or set(digest) - set("0123456789abcdef"):
            raise VerifyException(
                f'weights blob sha256 "{digest}" must be 64 lower-case hexadecimal digits'
            )
        if self.offset.data < 0 or self.offset.data % 4:
            raise VerifyException(f"weights blob offset {self.offset.data} must be a non-negative multiple of 4")
        if self.size.data < 0:
            raise VerifyException(f"weights blob size {self.size.data} must be non-negative")
        if not self.file.data:
            raise VerifyException("weights blob file name is empty")

    def print_parameters(self, printer: Printer) -> None:
        printer.print_string("<")
        printer.print_attribute(self.file)
        printer.print_string(
            f", offset = {self.offset.data}, size = {self.size.data}, sha256 = \"{self.sha256.data}\">"
        )

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> list[Attribute]:
        with parser.in_angle_brackets():
            file = parser.parse_str_literal("weights blob file name")
            values: dict[str, int | str] = {}
            for key in ("offset", "size", "sha256"):
                parser.parse_punctuation(",")
                parser.parse_keyword(key)
                parser.parse_punctuation("=")
                values[key] = parser.parse_str_literal() if key == "sha256" else parser.parse_integer()
        return [StringAttr(file), IntAttr(values["offset"]), IntAttr(values["size"]), StringAttr(values["sha256"])]


class Activation(StrEnum):
    NONE = "none"
    RELU = "relu"
    RELU6 = "relu6"


@irdl_attr_definition
class ActivationAttr(EnumAttribute[Activation], SpacedOpaqueSyntaxAttribute):
    """The activation fused into a convolution's epilogue."""

    name = "pattern.activation"


WeightsAttr = DenseIntOrFPElementsAttr | BlobRefAttr


def weights_count(weights: Attribute) -> int:
    """The number of f32 values a weights attribute holds (inline or in a blob)."""
    if isinstance(weights, BlobRefAttr):
        return weights.size.data // 4
    assert isinstance(weights, DenseIntOrFPElementsAttr)
    return weights.get_type().element_count()


def verify_weights(weights: Attribute, expected: int, what: str) -> None:
    """Checks an inline or blob weights attribute holds `expected` f32 values."""
    if isinstance(weights, BlobRefAttr):
        if weights.size.data != 4 * expected:
            raise VerifyException(
                f"{what} blob holds {weights.size.data} bytes, expected {4 * expected} ({expected} f32 values)"
            )
        return
    assert isinstance(weights, DenseIntOrFPElementsAttr)
    wtype = weights.get_type()
    if not isinstance(wtype.get_element_type(), Float32Type):
        raise VerifyException(f"{what} must be f32, got {wtype.get_element_type()}")
    if wtype.element_count() != expected:
        raise VerifyException(f"{what}: {wtype.element_count()} values, expected {expected}")


# ---------------------------------------------------------------------------------------------
# pattern.conv2d
# ---------------------------------------------------------------------------------------------


def shape_of(value: SSAValue) -> tuple[int, ...]:
    return tuple(value.type.get_shape())  # type: ignore[union-attr]


def _channels(value: SSAValue) -> int:
    shape = shape_of(value)
    return shape[1] if len(shape) == 4 else 0


SCHEDULE_ATTR = "patdnn.schedule"
"""Discardable DictionaryAttr on a pattern.conv2d: its schedule (tile_x, tile_y, channel_block, …),
set by tile-tune or the LR, read by lower-pattern-to-kernel."""


def kernel_ids(op) -> np.ndarray:
    """The pattern ids of a pattern convolution as an (out, in) int64 array (-1: removed)."""
    ids = np.frombuffer(op.kernels.data.data, dtype=np.int8).astype(np.int64)
    return ids.reshape(shape_of(op.output)[1], shape_of(op.input)[1])


def _pair(values: DenseArrayBase) -> tuple[int, int]:
    items = tuple(values.get_values())
    return (items[0], items[1]) if len(items) == 2 else (-1, -1)


def _conv_out(size: int, pad: int, k: int, stride: int) -> int:
    return (size + 2 * pad - k) // stride + 1


class PatternConvBase(IRDLOperation):
    """The operands and semantic properties every pattern convolution op has (pattern.conv2d,
    kernel.pattern_conv); `verify_conv_operands` checks them."""

    input = operand_def(MemRefType)
    output = operand_def(MemRefType)

    library = prop_def(PatternLibraryAttr)
    kernels = prop_def(DenseArrayBase[I8])
    weights = prop_def(WeightsAttr)
    bias = opt_prop_def(WeightsAttr)
    stride = prop_def(DenseArrayBase[I64])
    padding = prop_def(DenseArrayBase[I64])
    dilation = prop_def(DenseArrayBase[I64])
    activation = prop_def(ActivationAttr)


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
        def pair(v: int | Sequence[int]) -> DenseArrayBase:
            return DenseArrayBase.from_list(i64, [v, v] if isinstance(v, int) else list(v))

        props: dict[str, Attribute] = {
            "library": library,
            "kernels": DenseArrayBase(i8, _i8_bytes(kernels)),
            "weights": weights,
            "stride": pair(stride),
            "padding": pair(padding),
            "dilation": pair(dilation),
            "activation": ActivationAttr(activation),
        }
        if bias is not None:
            props["bias"] = bias
        super().__init__(operands=[input, output], properties=props)

    def verify_(self) -> None:
        verify_conv_operands(self)

    # -- custom syntax ------------------------------------------------------------------
    def print(self, printer: Printer) -> None:
        printer.print_string(" ins(")
        printer.print_operand(self.input)
        printer.print_string(" : ")
        printer.print_attribute(self.input.type)
        printer.print_string(") outs(")
        printer.print_operand(self.output)
        printer.print_string(" : ")
        printer.print_attribute(self.output.type)
        printer.print_string(")")
        printer.print_string(f" stride {list(self.stride.get_values())}")
        printer.print_string(f" padding {list(self.padding.get_values())}")
        if _pair(self.dilation) != (1, 1):
            printer.print_string(f" dilation {list(self.dilation.get_values())}")
        printer.print_string(f" activation {self.activation.data.value}")
        printer.print_string(" library ")
        printer.print_attribute(self.library)
        printer.print_string(" kernels ")
        printer.print_string(_format_kernel_rows(self.kernels, _channels(self.input)))
        printer.print_string(" weights ")
        printer.print_attribute(self.weights)
        if self.bias is not None:
            printer.print_string(" bias ")
            printer.print_attribute(self.bias)
        printer.print_op_attributes(self.attributes)

    @classmethod
    def parse(cls, parser: Parser) -> Conv2dOp:
        def typed_operand(keyword: str) -> SSAValue:
            parser.parse_keyword(keyword)
            with parser.in_parens():
                operand = parser.parse_unresolved_operand()
                parser.parse_punctuation(":")
                return parser.resolve_operand(operand, parser.parse_type())

        def int_pair() -> DenseArrayBase:
            items = parser.parse_comma_separated_list(parser.Delimiter.SQUARE, parser.parse_integer)
            return DenseArrayBase.from_list(i64, items)

        input, output = typed_operand("ins"), typed_operand("outs")
        props: dict[str, Attribute] = {}
        for keyword in ("stride", "padding"):
            parser.parse_keyword(keyword)
            props[keyword] = int_pair()
        has_dilation = parser.parse_optional_keyword("dilation") is not None
        props["dilation"] = int_pair() if has_dilation else DenseArrayBase.from_list(i64, [1, 1])
        parser.parse_keyword("activation")
        act_pos = parser.pos
        act_name = parser.parse_identifier("activation (none, relu or relu6)")
        if act_name not in {a.value for a in Activation}:
            parser.raise_error(f"unknown activation '{act_name}', expected none, relu or relu6", act_pos, parser.pos)
        props["activation"] = ActivationAttr(Activation(act_name))
        parser.parse_keyword("library")
        props["library"] = parser.parse_attribute()
        parser.parse_keyword("kernels")
        props["kernels"] = DenseArrayBase(i8, _i8_bytes(_parse_kernel_rows(parser)))
        parser.parse_keyword("weights")
        props["weights"] = parser.parse_attribute()
        if parser.parse_optional_keyword("bias") is not None:
            props["bias"] = parser.parse_attribute()
        attrs = parser.parse_optional_attr_dict()
        return cls.create(operands=[input, output], properties=props, attributes=attrs)


def verify_conv_operands(op) -> None:  # op: Conv2dOp | kernel.PatternConvOp (same properties)
    """Verifies the operands and the semantic properties of a pattern convolution."""
    for name, value in (("input", op.input), ("output", op.output)):
        vtype = value.type
        assert isinstance(vtype, MemRefType)
        shape = vtype.get_shape()
        if len(shape) != 4 or any(d < 0 for d in shape):
            raise VerifyException(f"{name} must be a static 4-d NCHW memref, got {vtype}")
        if not isinstance(vtype.get_element_type(), Float32Type):
            raise VerifyException(f"{name} element type must be f32, got {vtype.get_element_type()}")
    (n, cin, h, w), (n_out, cout, ho, wo) = shape_of(op.input), shape_of(op.output)
    if n != n_out:
        raise VerifyException(f"batch sizes differ: input has {n}, output has {n_out}")

    stride, padding, dilation = _pair(op.stride), _pair(op.padding), _pair(op.dilation)
    for name, value, low in (("stride", stride, 1), ("padding", padding, 0), ("dilation", dilation, 1)):
        if value == (-1, -1) or min(value) < low:
            items = list(getattr(op, name).get_values())
            raise VerifyException(f"{name} {items} must be two integers >= {low}")
    if dilation != (1, 1):
        raise VerifyException(f"dilation {list(dilation)} is not supported: only [1, 1]")

    k = op.library.size
    for axis, size, out, p, s in (("height", h, ho, padding[0], stride[0]), ("width", w, wo, padding[1], stride[1])):
        expected = _conv_out(size, p, k, s)
        if expected < 1:
            raise VerifyException(f"input {axis} {size} is too small for a {k}x{k} kernel with padding {p}")
        if out != expected:
            raise VerifyException(
                f"output {axis} {out} does not match the input: ({size} + 2*{p} - {k}) / {s} + 1 = {expected}"
            )

    ids = np.frombuffer(op.kernels.data.data, dtype=np.int8)
    if ids.size != cout * cin:
        raise VerifyException(
            f"kernels has {ids.size} pattern ids, expected {cout}x{cin} = {cout * cin} (one per out/in channel pair)"
        )
    num_patterns = op.library.num_patterns
    bad = np.nonzero((ids < -1) | (ids >= num_patterns))[0]
    if bad.size:
        o, i = divmod(int(bad[0]), cin)
        raise VerifyException(
            f"kernel ({o}, {i}) has pattern id {int(ids[bad[0]])}, expected -1 (removed) "
            f"or 0..{num_patterns - 1} (library size {num_patterns})"
        )
    entries = np.array(op.library.entries() + [0], dtype=np.int64)  # id -1 -> 0 entries
    expected_weights = int(entries[ids.astype(np.int64)].sum())
    verify_weights(op.weights, expected_weights, "weights")
    if op.bias is not None:
        verify_weights(op.bias, cout, "bias")


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
