"""What patdnn's dialects share: attributes, integer/shape helpers, and the verify, parse and
print pieces of their ops. Registers nothing; each dialect file lists the attributes it owns.

* Attributes: `#pattern.library<…>` (the pattern masks of pattern.conv2d and kernel.pattern_conv),
  `#pattern.blob<…>` (external weights), `#pattern<activation …>`; `WeightsAttr` (inline or blob
  f32 weights of every layer op) with `weights_count` / `verify_weights`.
* Integers and shapes: `ceil_div`, `round_up`, `shape_of`, `pair` / `pair_attr` (the two values
  of a kernel/stride/padding property), `window_out` (a sliding window's output size).
* Verifiers: `check_buffer`, `check_batched_io`, `verify_pairs`, `verify_window` (the one
  output-size check of every convolution and pooling), `verify_conv_window`.
* Syntax: `ins(… : …) outs(… : …)`, `kernel [3, 3]`-style integer lists, `activation relu`,
  `weights … bias …`.
* Pattern convolutions (`pattern.conv2d`, `kernel.pattern_conv`): `PatternConvBase`,
  `verify_conv_operands`, `kernel_ids`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import StrEnum

import numpy as np
from xdsl.dialects.builtin import (
    I8,
    I64,
    ArrayAttr,
    DenseArrayBase,
    DenseIntOrFPElementsAttr,
    Float32Type,
    FloatData,
    IntAttr,
    IntegerAttr,
    MemRefType,
    StringAttr,
    i64,
)
from xdsl.ir import Attribute, Operation, ParametrizedAttribute, SpacedOpaqueSyntaxAttribute, SSAValue
from xdsl.irdl import IRDLOperation, irdl_attr_definition, operand_def, opt_prop_def, prop_def
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
                raise VerifyException(f'pattern masks {seen[text]} and {i} are identical ("{self.pretty(i)}")')
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
        return [IntAttr(rows), ArrayAttr([StringAttr(m.replace("|", "")) for m in masks]), IntAttr(int(off_centre))]


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
            raise VerifyException(f'weights blob sha256 "{digest}" must be 64 lower-case hexadecimal digits')
        if self.offset.data < 0 or self.offset.data % 4:
            raise VerifyException(f"weights blob offset {self.offset.data} must be a non-negative multiple of 4")
        if self.size.data < 0:
            raise VerifyException(f"weights blob size {self.size.data} must be non-negative")
        if not self.file.data:
            raise VerifyException("weights blob file name is empty")

    def print_parameters(self, printer: Printer) -> None:
        printer.print_string("<")
        printer.print_attribute(self.file)
        printer.print_string(f', offset = {self.offset.data}, size = {self.size.data}, sha256 = "{self.sha256.data}">')

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
    """The kinds of fused activation. leaky_relu takes a slope; hardtanh two bounds, clamp_min /
    clamp_max one (a clamp with only that bound); the others take no parameter."""

    NONE = "none"
    RELU = "relu"
    RELU6 = "relu6"
    SIGMOID = "sigmoid"
    TANH = "tanh"
    SILU = "silu"
    HARDSWISH = "hardswish"
    HARDSIGMOID = "hardsigmoid"
    GELU = "gelu"  # the erf form (aten.gelu, approximate='none')
    GELU_TANH = "gelu_tanh"  # approximate='tanh'
    LEAKY_RELU = "leaky_relu"
    HARDTANH = "hardtanh"
    CLAMP_MIN = "clamp_min"
    CLAMP_MAX = "clamp_max"


ACTIVATION_PARAMS = {Activation.LEAKY_RELU: 1, Activation.HARDTANH: 2, Activation.CLAMP_MIN: 1, Activation.CLAMP_MAX: 1}
"""How many parameters each parametrised kind takes (every other kind takes none)."""


@irdl_attr_definition
class ActivationAttr(ParametrizedAttribute, SpacedOpaqueSyntaxAttribute):
    """The activation fused into an op's epilogue: `#pattern<activation relu>`,
    `#pattern<activation leaky_relu(0.01)>`, `#pattern<activation hardtanh(-1.0, 2.0)>`.

    `.data` is the kind (an `Activation`), `.params` its parameters (floats, as written: a
    slope of 0.01 is applied as the f32 0.01f, like PyTorch's)."""

    name = "pattern.activation"

    kind: StringAttr
    values: ArrayAttr[FloatData]

    def __init__(self, kind: Activation | str, params: Sequence[float] = ()):
        super().__init__(StringAttr(Activation(kind).value), ArrayAttr([FloatData(float(p)) for p in params]))

    @property
    def data(self) -> Activation:
        return Activation(self.kind.data)

    @property
    def params(self) -> tuple[float, ...]:
        return tuple(p.data for p in self.values.data)

    def verify(self) -> None:
        problem = activation_problem(self.kind.data, self.params)
        if problem:
            raise VerifyException(problem)

    def text(self) -> str:
        """`relu`, `leaky_relu(0.01)`, `hardtanh(-1.0, 2.0)`: the form ops print."""
        return activation_text(self.kind.data, self.params)

    @staticmethod
    def from_text(text: str) -> ActivationAttr:
        """The attribute of a text form (`relu`, `leaky_relu(0.01)`); ValueError if malformed."""
        match = re.fullmatch(r"\s*(\w+)\s*(?:\((.*)\))?\s*", text)
        if match is None or match[1] not in {a.value for a in Activation}:
            raise ValueError(f"unknown activation '{text}'")
        params = [float(p) for p in match[2].split(",")] if match[2] else []
        problem = activation_problem(match[1], params)
        if problem:
            raise ValueError(problem)
        return ActivationAttr(match[1], params)

    def print_parameters(self, printer: Printer) -> None:
        printer.print_string(self.text())

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> list[Attribute]:
        kind, params = _parse_activation_text(parser)
        return [StringAttr(kind), ArrayAttr([FloatData(p) for p in params])]


def activation_text(kind: str, params: Sequence[float]) -> str:
    return f"{kind}({', '.join(repr(p) for p in params)})" if params else kind


def activation_problem(kind: str, params: Sequence[float]) -> str | None:
    """Why `kind(params)` is not an activation (None if it is)."""
    if kind not in {a.value for a in Activation}:
        return f"unknown activation '{kind}'"
    expected = ACTIVATION_PARAMS.get(Activation(kind), 0)
    if len(params) != expected:
        return f"activation {kind} takes {expected} parameter(s), got {len(params)}"
    if any(np.isnan(params)):
        return f"activation {activation_text(kind, params)} has a NaN parameter"
    if kind == Activation.HARDTANH and not params[0] <= params[1]:
        return f"activation {activation_text(kind, params)}: the lower bound is above the upper one"
    return None


def activation_attr(value: ActivationAttr | Activation | str) -> ActivationAttr:
    """An op constructor's `activation` argument as the attribute: an attribute, a kind, or the
    text form (`"leaky_relu(0.01)"`)."""
    if isinstance(value, ActivationAttr):
        return value
    return ActivationAttr.from_text(value)


def _parse_activation_text(parser: AttrParser) -> tuple[str, list[float]]:
    """`relu`, `leaky_relu(0.01)`, `hardtanh(-1.0, 2.0)`: the kind and its parameters, checked."""
    pos = parser.pos
    names = ", ".join(a.value for a in Activation)
    kind = parser.parse_identifier(f"activation ({names})")
    if kind not in {a.value for a in Activation}:
        parser.raise_error(f"unknown activation '{kind}', expected one of {names}", pos, parser.pos)
    params: list[float] = []
    if parser.parse_optional_punctuation("(") is not None:
        params = parser.parse_comma_separated_list(parser.Delimiter.NONE, lambda: float(parser.parse_number()))
        parser.parse_punctuation(")")
    problem = activation_problem(kind, params)
    if problem:
        parser.raise_error(problem, pos, parser.pos)
    return kind, params


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
# Integers and shapes
# ---------------------------------------------------------------------------------------------


def ceil_div(a: int, b: int) -> int:
    """a / b rounded up (b > 0)."""
    return -(-a // b)


def round_up(value: int, multiple: int) -> int:
    """The smallest multiple of `multiple` that is >= `value`."""
    return ceil_div(value, multiple) * multiple


def shape_of(value: SSAValue) -> tuple[int, ...]:
    """The shape of a shaped (memref) value."""
    return tuple(value.type.get_shape())  # type: ignore[union-attr]


def element_count(value: SSAValue) -> int:
    """The number of elements of a shaped (memref) value."""
    return int(np.prod(shape_of(value)))


def pair(values: DenseArrayBase) -> tuple[int, int]:
    """The two integers of a kernel/stride/padding property; (-1, -1) if it does not hold two."""
    items = tuple(values.get_values())
    return (items[0], items[1]) if len(items) == 2 else (-1, -1)


def pair_attr(value: int | Sequence[int]) -> DenseArrayBase:
    """A kernel/stride/padding property from one integer (both axes) or a sequence."""
    return DenseArrayBase.from_list(i64, [value, value] if isinstance(value, int) else list(value))


def window_out(size: int, pad: int, k: int, stride: int, dilation: int = 1, ceil_mode: bool = False) -> int:
    """Output size of a sliding window, PyTorch's formula: the kernel spans (k - 1) * dilation + 1
    inputs; with `ceil_mode` the last window may run past the input but must start inside it or
    its left padding (pooling's ceil_mode)."""
    span = (k - 1) * dilation + 1
    if not ceil_mode:
        return (size + 2 * pad - span) // stride + 1
    out = -(-(size + 2 * pad - span) // stride) + 1
    if (out - 1) * stride >= size + pad:
        out -= 1
    return out


# ---------------------------------------------------------------------------------------------
# Verifiers
# ---------------------------------------------------------------------------------------------


def check_buffer(name: str, value: SSAValue, ranks: Sequence[int]) -> tuple[int, ...]:
    """Checks `value` is a static f32 memref of one of `ranks` (any rank if empty); returns its shape."""
    vtype = value.type
    if not isinstance(vtype, MemRefType):
        raise VerifyException(f"{name} must be a memref, got {vtype}")
    shape = tuple(vtype.get_shape())
    layout = " or ".join({4: "4-d NCHW", 2: "2-d NxK"}.get(r, f"{r}-d") for r in ranks)
    if any(d < 0 for d in shape):
        raise VerifyException(f"{name} must be a static memref, got {vtype}")
    if ranks and len(shape) not in ranks:
        raise VerifyException(f"{name} must be a {layout} memref, got {vtype}")
    if not isinstance(vtype.get_element_type(), Float32Type):
        raise VerifyException(f"{name} element type must be f32, got {vtype.get_element_type()}")
    return shape


def check_batched_io(op: Operation, rank: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Checks `op.input` / `op.output` are static f32 memrefs of `rank` with the same batch size;
    returns their shapes (shared by the conv and linear ops of the nn and block dialects)."""
    in_shape = check_buffer("input", op.input, [rank])
    out_shape = check_buffer("output", op.output, [rank])
    _check_batch(in_shape[0], out_shape[0])
    return in_shape, out_shape


def _check_batch(n: int, n_out: int) -> None:
    if n != n_out:
        raise VerifyException(f"batch sizes differ: input has {n}, output has {n_out}")


def verify_pairs(op: Operation, names_and_lows: Sequence[tuple[str, int]]) -> None:
    """Checks each named property holds two integers >= its lower bound."""
    for name, low in names_and_lows:
        value = pair(getattr(op, name))
        if value == (-1, -1) or min(value) < low:
            raise VerifyException(f"{name} {list(getattr(op, name).get_values())} must be two integers >= {low}")


def verify_window(
    in_shape: Sequence[int],
    out_shape: Sequence[int],
    kernel: tuple[int, int],
    stride: tuple[int, int],
    padding: tuple[int, int],
    dilation: tuple[int, int] = (1, 1),
    ceil_mode: bool = False,
) -> None:
    """Checks the output height/width (NCHW) follow from input, kernel, stride, padding and
    dilation (and pooling's ceil_mode), as in PyTorch."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    for axis, size, out, k, p, s, d in (
        ("height", in_shape[2], out_shape[2], kh, ph, sh, dh),
        ("width", in_shape[3], out_shape[3], kw, pw, sw, dw),
    ):
        expected = window_out(size, p, k, s, d, ceil_mode)
        span = f"({d}*({k} - 1) + 1)" if d != 1 else f"{k}"
        formula = f"({size} + 2*{p} - {span}) / {s}"
        if expected < 1:
            raise VerifyException(f"input {axis} {size} is too small for a {kh}x{kw} kernel with padding {p}")
        if out != expected:
            rounded = f"ceil({formula}) (less one if it starts past the input)" if ceil_mode else formula
            raise VerifyException(f"output {axis} {out} does not match the input: {rounded} + 1 = {expected}")


def verify_conv_window(op: Operation, in_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> None:
    """Checks an op's kernel/stride/padding properties and that the output size follows from them."""
    verify_pairs(op, [("kernel", 1), ("stride", 1), ("padding", 0)])
    verify_window(in_shape, out_shape, pair(op.kernel), pair(op.stride), pair(op.padding))


# ---------------------------------------------------------------------------------------------
# Syntax pieces
# ---------------------------------------------------------------------------------------------


def create_parsed(cls, parser: Parser, operands: list[SSAValue], props: dict[str, Attribute] | None = None):
    """The op `cls` a custom parser has read the operands and properties of, with the optional
    trailing attribute dictionary every patdnn op accepts."""
    attrs = parser.parse_optional_attr_dict()
    return cls.create(operands=operands, properties=props or {}, attributes=attrs)


def print_io(printer: Printer, inputs: Sequence[SSAValue], output: SSAValue) -> None:
    """Prints `ins(%a, %b : T, T) outs(%y : T)`."""
    printer.print_string(" ins(")
    printer.print_list(inputs, printer.print_operand)
    printer.print_string(" : ")
    printer.print_list([v.type for v in inputs], printer.print_attribute)
    printer.print_string(") outs(")
    printer.print_operand(output)
    printer.print_string(" : ")
    printer.print_attribute(output.type)
    printer.print_string(")")


def parse_typed_operand(parser: Parser, keyword: str) -> SSAValue:
    """Parses `keyword(%x : T)`."""
    parser.parse_keyword(keyword)
    with parser.in_parens():
        name = parser.parse_unresolved_operand()
        parser.parse_punctuation(":")
        return parser.resolve_operand(name, parser.parse_type())


def parse_io(parser: Parser) -> tuple[list[SSAValue], SSAValue]:
    """Parses `ins(%a, %b : T, T) outs(%y : T)`."""
    parser.parse_keyword("ins")
    parser.parse_punctuation("(")
    names = parser.parse_comma_separated_list(parser.Delimiter.NONE, parser.parse_unresolved_operand)
    parser.parse_punctuation(":")
    pos = parser.pos
    types = parser.parse_comma_separated_list(parser.Delimiter.NONE, parser.parse_type)
    if len(types) != len(names):
        parser.raise_error(f"expected {len(names)} types for the inputs, got {len(types)}", pos, parser.pos)
    parser.parse_punctuation(")")
    inputs = [parser.resolve_operand(n, t) for n, t in zip(names, types)]
    return inputs, parse_typed_operand(parser, "outs")


def parse_int_list(parser: Parser, keyword: str) -> DenseArrayBase:
    """Parses `keyword [1, 2]` into an i64 array."""
    parser.parse_keyword(keyword)
    items = parser.parse_comma_separated_list(parser.Delimiter.SQUARE, parser.parse_integer)
    return DenseArrayBase.from_list(i64, items)


def parse_optional_int_list(parser: Parser, keyword: str) -> DenseArrayBase | None:
    """Parses `keyword [1, 2]` if the next token is `keyword`."""
    if parser.parse_optional_keyword(keyword) is None:
        return None
    items = parser.parse_comma_separated_list(parser.Delimiter.SQUARE, parser.parse_integer)
    return DenseArrayBase.from_list(i64, items)


def print_int_list(printer: Printer, keyword: str, values: DenseArrayBase) -> None:
    printer.print_string(f" {keyword} {list(values.get_values())}")


def parse_activation(parser: Parser) -> ActivationAttr:
    """Parses `activation relu`, `activation leaky_relu(0.01)`, `activation hardtanh(-1.0, 2.0)`."""
    parser.parse_keyword("activation")
    kind, params = _parse_activation_text(parser)
    return ActivationAttr(kind, params)


def print_activation(printer: Printer, op: Operation) -> None:
    printer.print_string(f" activation {op.activation.text()}")


def print_weights(printer: Printer, op: Operation) -> None:
    """Prints ` weights <attr>` and, if the op has one, ` bias <attr>`."""
    printer.print_string(" weights ")
    printer.print_attribute(op.weights)
    if op.bias is not None:
        printer.print_string(" bias ")
        printer.print_attribute(op.bias)


def parse_weights(parser: Parser, props: dict[str, Attribute]) -> None:
    """Parses `weights <attr> (bias <attr>)?` into `props`."""
    parser.parse_keyword("weights")
    props["weights"] = parser.parse_attribute()
    if parser.parse_optional_keyword("bias") is not None:
        props["bias"] = parser.parse_attribute()


def weight_props(weights: Attribute, bias: Attribute | None) -> dict[str, Attribute]:
    return {"weights": weights} | ({} if bias is None else {"bias": bias})


# ---------------------------------------------------------------------------------------------
# Dilation: an optional property of nn ops, printed only when it is not [1, 1]
# ---------------------------------------------------------------------------------------------


def dilation_props(dilation: int | Sequence[int]) -> dict[str, Attribute]:
    """The `dilation` property of a conv or pooling; none for [1, 1] (the text stays unchanged)."""
    attr = pair_attr(dilation)
    return {} if pair(attr) == (1, 1) else {"dilation": attr}


def dilation_of(op: Operation) -> tuple[int, int]:
    """An op's dilation pair ((1, 1) when absent)."""
    value = op.properties.get("dilation")
    return (1, 1) if value is None else pair(value)  # type: ignore[arg-type]


def verify_dilation(op: Operation) -> None:
    if op.properties.get("dilation") is not None:
        verify_pairs(op, [("dilation", 1)])


def print_dilation(printer: Printer, op: Operation) -> None:
    if dilation_of(op) != (1, 1):
        print_int_list(printer, "dilation", op.properties["dilation"])  # type: ignore[arg-type]


def parse_dilation(parser: Parser) -> dict[str, Attribute]:
    value = parse_optional_int_list(parser, "dilation")
    return {} if value is None else {"dilation": value}


def verify_groups(op: Operation, cin: int, cout: int) -> int:
    """A dense conv's `groups` (nn.conv2d, nn.conv_transpose2d) divides both channel counts; returns it."""
    groups = op.groups.value.data  # type: ignore[attr-defined]
    if groups < 1 or cin % groups or cout % groups:
        raise VerifyException(
            f"groups {groups} must be >= 1 and divide both the input channels ({cin}) and the output channels ({cout})"
        )
    return groups


def print_conv_tail(printer: Printer, op: Operation) -> None:
    """The end of a dense conv's syntax: ` [dilation [..]] groups G activation A weights … [bias …] {attrs}`."""
    print_dilation(printer, op)
    printer.print_string(f" groups {op.groups.value.data}")  # type: ignore[attr-defined]
    print_activation(printer, op)
    print_weights(printer, op)
    printer.print_op_attributes(op.attributes)


def parse_conv_tail(parser: Parser, props: dict[str, Attribute]) -> None:
    """Parses what print_conv_tail prints (up to the attribute dictionary) into `props`."""
    props |= parse_dilation(parser)
    parser.parse_keyword("groups")
    props["groups"] = IntegerAttr(parser.parse_integer(allow_boolean=False), i64)
    props["activation"] = parse_activation(parser)
    parse_weights(parser, props)


# ---------------------------------------------------------------------------------------------
# Pattern convolutions: pattern.conv2d and kernel.pattern_conv
# ---------------------------------------------------------------------------------------------


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


def kernel_ids(op: PatternConvBase) -> np.ndarray:
    """The pattern ids of a pattern convolution as an (out, in) int64 array (-1: removed)."""
    ids = np.frombuffer(op.kernels.data.data, dtype=np.int8).astype(np.int64)
    return ids.reshape(shape_of(op.output)[1], shape_of(op.input)[1])


def verify_conv_operands(op: PatternConvBase) -> None:
    """Verifies the operands and the semantic properties of a pattern convolution."""
    for name, value in (("input", op.input), ("output", op.output)):
        vtype = value.type
        assert isinstance(vtype, MemRefType)
        shape = vtype.get_shape()
        if len(shape) != 4 or any(d < 0 for d in shape):
            raise VerifyException(f"{name} must be a static 4-d NCHW memref, got {vtype}")
        if not isinstance(vtype.get_element_type(), Float32Type):
            raise VerifyException(f"{name} element type must be f32, got {vtype.get_element_type()}")
    in_shape, out_shape = shape_of(op.input), shape_of(op.output)
    _check_batch(in_shape[0], out_shape[0])
    cin, cout = in_shape[1], out_shape[1]

    verify_pairs(op, [("stride", 1), ("padding", 0), ("dilation", 1)])
    k = op.library.size
    verify_window(in_shape, out_shape, (k, k), pair(op.stride), pair(op.padding), pair(op.dilation))

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
