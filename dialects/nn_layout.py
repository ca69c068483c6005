"""The `nn` dialect's layout and normalisation ops (registered in `patdnn.dialects.nn.NN`).

    nn.permute ins(%x : memref<2x6x5x7xf32>) outs(%y : memref<2x5x7x6xf32>) perm [0, 2, 3, 1]
    nn.channel_shuffle ins(%x : memref<2x6x5x7xf32>) outs(%y : memref<2x6x5x7xf32>) groups 2
    nn.slice ins(%x : memref<2x6x5x7xf32>) outs(%y : memref<2x2x5x7xf32>) axis 1 start 3 step 1
    nn.layer_norm ins(%x : …) outs(%y : …) axes [1] eps 1.0e-06 weights … bias …
    nn.scale_shift ins(%x : …) outs(%y : …) activation relu weights … bias …
    nn.mean ins(%x : memref<2x6x5x7xf32>) outs(%y : memref<2x1x5x7xf32>) axes [1]

Every op reads an f32 buffer of any rank (row-major) and writes another; none aliases its input.
`axes` are contiguous, ascending dimensions: the ops see the input as outer x reduced x inner.
"""

from __future__ import annotations

from collections.abc import Sequence

from xdsl.dialects.builtin import I64, DenseArrayBase, FloatAttr, IntegerAttr, MemRefType, f64, i64
from xdsl.ir import Attribute, SSAValue
from xdsl.irdl import IRDLOperation, irdl_op_definition, operand_def, opt_prop_def, prop_def
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.utils.exceptions import VerifyException

from patdnn.dialects.common import (
    Activation,
    ActivationAttr,
    WeightsAttr,
    activation_attr,
    check_buffer,
    create_parsed,
    parse_activation,
    parse_int_list,
    parse_io,
    parse_weights,
    print_activation,
    print_int_list,
    print_io,
    print_weights,
    verify_weights,
    weight_props,
)

MAX_PERMUTE_RANK = 6  # the runtime's permute loops (C and OpenCL) are written for rank <= 6


def _product(values: Sequence[int]) -> int:
    total = 1
    for v in values:
        total *= v
    return total


def split_dims(shape: Sequence[int], first: int, last: int) -> tuple[int, int, int]:
    """(outer, middle, inner): the products of shape[:first], shape[first:last + 1], shape[last + 1:]."""
    return _product(shape[:first]), _product(shape[first : last + 1]), _product(shape[last + 1 :])


def _io(op: IRDLOperation) -> tuple[tuple[int, ...], tuple[int, ...]]:
    return check_buffer("input", op.input, []), check_buffer("output", op.output, [])


def _same_shape(op: IRDLOperation) -> tuple[int, ...]:
    in_shape, out_shape = _io(op)
    if in_shape != out_shape:
        raise VerifyException(f"output shape {list(out_shape)} must equal the input shape {list(in_shape)}")
    return in_shape


def verify_axes(axes: Sequence[int], rank: int) -> None:
    """`axes`: at least one dimension of a rank-`rank` buffer, ascending and contiguous."""
    if not axes or any(a < 0 or a >= rank for a in axes) or list(axes) != list(range(axes[0], axes[0] + len(axes))):
        raise VerifyException(f"axes {list(axes)} must be ascending contiguous dimensions of a {rank}-d buffer")


def float_text(value: float) -> str:
    """`value` as a float literal MLIR reads back exactly (1e-06 → 1.0e-06)."""
    text = repr(float(value))
    mantissa, _, exponent = text.partition("e")
    return f"{mantissa}.0e{exponent}" if exponent and "." not in mantissa else text


def _int_prop(parser: Parser, keyword: str) -> IntegerAttr:
    parser.parse_keyword(keyword)
    return IntegerAttr(parser.parse_integer(allow_boolean=False), i64)


# ---------------------------------------------------------------------------------------------
# nn.permute, nn.channel_shuffle, nn.slice
# ---------------------------------------------------------------------------------------------


@irdl_op_definition
class PermuteOp(IRDLOperation):
    """`output = input.permute(perm)` (torch's dims order): output dim i is input dim perm[i];
    rank <= 6 (a transpose is a permute that swaps two dims)."""

    name = "nn.permute"

    input = operand_def(MemRefType)
    output = operand_def(MemRefType)
    perm = prop_def(DenseArrayBase[I64])

    def __init__(self, input: SSAValue, output: SSAValue, perm: Sequence[int]):
        super().__init__(operands=[input, output], properties={"perm": DenseArrayBase.from_list(i64, list(perm))})

    def verify_(self) -> None:
        in_shape, out_shape = _io(self)
        perm = list(self.perm.get_values())
        if sorted(perm) != list(range(len(in_shape))):
            raise VerifyException(f"perm {perm} must be a permutation of the {len(in_shape)} input dims")
        if len(in_shape) > MAX_PERMUTE_RANK:
            raise VerifyException(f"nn.permute supports rank <= {MAX_PERMUTE_RANK}, got {len(in_shape)}")
        expected = [in_shape[p] for p in perm]
        if list(out_shape) != expected:
            raise VerifyException(f"output shape {list(out_shape)} must be {expected} (the input's dims in perm order)")

    def print(self, printer: Printer) -> None:
        print_io(printer, [self.input], self.output)
        print_int_list(printer, "perm", self.perm)
        printer.print_op_attributes(self.attributes)

    @classmethod
    def parse(cls, parser: Parser) -> PermuteOp:
        (input, *_), output = parse_io(parser)
        return create_parsed(cls, parser, [input, output], {"perm": parse_int_list(parser, "perm")})


@irdl_op_definition
class ChannelShuffleOp(IRDLOperation):
    """ShuffleNet's channel shuffle on axis 1: output channel j * groups + i is input channel
    i * (C / groups) + j — `x.view(n, g, c/g, ...).transpose(1, 2).reshape(x.shape)` in one copy."""

    name = "nn.channel_shuffle"

    input = operand_def(MemRefType)
    output = operand_def(MemRefType)
    groups = prop_def(IntegerAttr[I64])

    def __init__(self, input: SSAValue, output: SSAValue, groups: int):
        super().__init__(operands=[input, output], properties={"groups": IntegerAttr(groups, i64)})

    def verify_(self) -> None:
        shape = _same_shape(self)
        groups = self.groups.value.data
        if len(shape) < 2 or len(shape) > MAX_PERMUTE_RANK - 1:
            raise VerifyException(f"nn.channel_shuffle needs a 2-d to 5-d buffer, got {len(shape)}-d")
        if groups < 1 or shape[1] % groups:
            raise VerifyException(f"groups {groups} must be >= 1 and divide the channels ({shape[1]})")

    def print(self, printer: Printer) -> None:
        print_io(printer, [self.input], self.output)
        printer.print_string(f" groups {self.groups.value.data}")
        printer.print_op_attributes(self.attributes)

    @classmethod
    def parse(cls, parser: Parser) -> ChannelShuffleOp:
        (input, *_), output = parse_io(parser)
        return create_parsed(cls, parser, [input, output], {"groups": _int_prop(parser, "groups")})


@irdl_op_definition
class SliceOp(IRDLOperation):
    """`output = input[..., start : start + size * step : step, ...]` along `axis`, where size is
    the output's extent on that axis (torch's slice / narrow / split / chunk)."""

    name = "nn.slice"

    input = operand_def(MemRefType)
    output = operand_def(MemRefType)
    axis = prop_def(IntegerAttr[I64])
    start = prop_def(IntegerAttr[I64])
    step = prop_def(IntegerAttr[I64])

    def __init__(self, input: SSAValue, output: SSAValue, axis: int, start: int, step: int = 1):
        props = {k: IntegerAttr(v, i64) for k, v in (("axis", axis), ("start", start), ("step", step))}
        super().__init__(operands=[input, output], properties=props)

    def verify_(self) -> None:
        in_shape, out_shape = _io(self)
        axis, start, step = (getattr(self, k).value.data for k in ("axis", "start", "step"))
        if len(in_shape) != len(out_shape) or not 0 <= axis < len(in_shape):
            raise VerifyException(f"axis {axis} must be a dim of input and output of one rank")
        if any(a != b for d, (a, b) in enumerate(zip(in_shape, out_shape)) if d != axis):
            raise VerifyException(
                f"output shape {list(out_shape)} must equal the input shape {list(in_shape)} except along axis {axis}"
            )
        size = out_shape[axis]
        if step < 1 or start < 0 or size < 1 or start + (size - 1) * step >= in_shape[axis]:
            raise VerifyException(
                f"start {start}, step {step} and size {size} must select within the input's {in_shape[axis]}"
            )

    def print(self, printer: Printer) -> None:
        print_io(printer, [self.input], self.output)
        for key in ("axis", "start", "step"):
            printer.print_string(f" {key} {getattr(self, key).value.data}")
        printer.print_op_attributes(self.attributes)

    @classmethod
    def parse(cls, parser: Parser) -> SliceOp:
        (input, *_), output = parse_io(parser)
        props = {k: _int_prop(parser, k) for k in ("axis", "start", "step")}
        return create_parsed(cls, parser, [input, output], props)


# ---------------------------------------------------------------------------------------------
# nn.layer_norm, nn.scale_shift, nn.mean
# ---------------------------------------------------------------------------------------------


@irdl_op_definition
class LayerNormOp(IRDLOperation):
    """Normalises over the contiguous `axes`: y = (x - mean) / sqrt(var + eps) * weights + bias,
    mean and (biased) variance over those dims for every other index; `weights` / `bias` (one
    value per element of the normalised dims) are optional. axes [r-1]: torch's layer_norm over
    the last dim; axes [1] on NCHW: a LayerNorm over channels (ConvNeXt's LayerNorm2d)."""

    name = "nn.layer_norm"

    input = operand_def(MemRefType)
    output = operand_def(MemRefType)
    axes = prop_def(DenseArrayBase[I64])
    eps = prop_def(FloatAttr)
    weights = opt_prop_def(WeightsAttr)
    bias = opt_prop_def(WeightsAttr)

    def __init__(
        self,
        input: SSAValue,
        output: SSAValue,
        axes: Sequence[int],
        eps: float,
        weights: Attribute | None = None,
        bias: Attribute | None = None,
    ):
        props: dict[str, Attribute] = {"axes": DenseArrayBase.from_list(i64, list(axes)), "eps": FloatAttr(eps, f64)}
        props |= {k: v for k, v in (("weights", weights), ("bias", bias)) if v is not None}
        super().__init__(operands=[input, output], properties=props)

    def verify_(self) -> None:
        shape = _same_shape(self)
        axes = list(self.axes.get_values())
        verify_axes(axes, len(shape))
        if not self.eps.value.data >= 0:
            raise VerifyException(f"eps {self.eps.value.data} must be >= 0")
        count = split_dims(shape, axes[0], axes[-1])[1]
        for key in ("weights", "bias"):
            if getattr(self, key) is not None:
                verify_weights(getattr(self, key), count, key)

    def print(self, printer: Printer) -> None:
        print_io(printer, [self.input], self.output)
        print_int_list(printer, "axes", self.axes)
        printer.print_string(f" eps {float_text(self.eps.value.data)}")
        for key in ("weights", "bias"):
            if getattr(self, key) is not None:
                printer.print_string(f" {key} ")
                printer.print_attribute(getattr(self, key))
        printer.print_op_attributes(self.attributes)

    @classmethod
    def parse(cls, parser: Parser) -> LayerNormOp:
        (input, *_), output = parse_io(parser)
        props: dict[str, Attribute] = {"axes": parse_int_list(parser, "axes")}
        parser.parse_keyword("eps")
        props["eps"] = FloatAttr(float(parser.parse_number()), f64)
        for key in ("weights", "bias"):
            if parser.parse_optional_keyword(key) is not None:
                props[key] = parser.parse_attribute()
        return create_parsed(cls, parser, [input, output], props)


class WeightedUnarySyntax(IRDLOperation):
    """Shared syntax of one-input ops with an activation and weights (nn.linear, nn.scale_shift):
    `ins(..) outs(..) activation A weights W (bias B)?`."""

    def print(self, printer: Printer) -> None:
        print_io(printer, [self.input], self.output)
        print_activation(printer, self)
        print_weights(printer, self)
        printer.print_op_attributes(self.attributes)

    @classmethod
    def parse(cls, parser: Parser):
        (input, *_), output = parse_io(parser)
        props: dict[str, Attribute] = {"activation": parse_activation(parser)}
        parse_weights(parser, props)
        return create_parsed(cls, parser, [input, output], props)


@irdl_op_definition
class ScaleShiftOp(WeightedUnarySyntax):
    """Per-channel affine map on axis 1, `output[n, c, ...] = act(input[n, c, ...] * weights[c] +
    bias[c])` (bias optional): an inference BatchNorm no convolution absorbs."""

    name = "nn.scale_shift"

    input = operand_def(MemRefType)
    output = operand_def(MemRefType)
    weights = prop_def(WeightsAttr)
    bias = opt_prop_def(WeightsAttr)
    activation = prop_def(ActivationAttr)

    def __init__(
        self,
        input: SSAValue,
        output: SSAValue,
        weights: Attribute,
        bias: Attribute | None = None,
        activation: Activation | str = Activation.NONE,
    ):
        props = {"activation": activation_attr(activation), **weight_props(weights, bias)}
        super().__init__(operands=[input, output], properties=props)

    def verify_(self) -> None:
        shape = _same_shape(self)
        if len(shape) < 2:
            raise VerifyException(f"nn.scale_shift needs a buffer of rank >= 2 (channels on axis 1), got {shape}")
        verify_weights(self.weights, shape[1], "weights")
        if self.bias is not None:
            verify_weights(self.bias, shape[1], "bias")


@irdl_op_definition
class MeanOp(IRDLOperation):
    """The mean over the contiguous `axes`; the output is the input's shape with those dims 1
    (keepdim) or removed."""

    name = "nn.mean"

    input = operand_def(MemRefType)
    output = operand_def(MemRefType)
    axes = prop_def(DenseArrayBase[I64])

    def __init__(self, input: SSAValue, output: SSAValue, axes: Sequence[int]):
        super().__init__(operands=[input, output], properties={"axes": DenseArrayBase.from_list(i64, list(axes))})

    def verify_(self) -> None:
        in_shape, out_shape = _io(self)
        axes = list(self.axes.get_values())
        verify_axes(axes, len(in_shape))
        kept = [d for i, d in enumerate(in_shape) if i not in axes]
        keepdim = [1 if i in axes else d for i, d in enumerate(in_shape)]
        if list(out_shape) not in (kept, keepdim):
            raise VerifyException(f"output shape {list(out_shape)} must be {keepdim} or {kept}")

    def print(self, printer: Printer) -> None:
        print_io(printer, [self.input], self.output)
        print_int_list(printer, "axes", self.axes)
        printer.print_op_attributes(self.attributes)

    @classmethod
    def parse(cls, parser: Parser) -> MeanOp:
        (input, *_), output = parse_io(parser)
        return create_parsed(cls, parser, [input, output], {"axes": parse_int_list(parser, "axes")})


LAYOUT_OPS = [PermuteOp, ChannelShuffleOp, SliceOp, LayerNormOp, ScaleShiftOp, MeanOp]


def reduced_permutation(shape: Sequence[int], perm: Sequence[int]) -> tuple[list[int], list[int]]:
    """The same data movement on fewer dims: size-1 dims dropped, and input dims that stay
    adjacent and in order in the output merged ((2, 3, 4, 5) by [0, 2, 3, 1] is (2, 3, 20) by
    [0, 2, 1]). Returns (input shape, perm); at least one dim."""
    kept = [p for p in perm if shape[p] != 1]
    runs: list[list[int]] = []
    for p in kept:
        if runs and runs[-1][-1] + 1 == p and all(shape[q] == 1 for q in range(runs[-1][-1] + 1, p)):
            runs[-1].append(p)
        else:
            runs.append([p])
    if not runs:
        return [1], [0]
    order = sorted(range(len(runs)), key=lambda r: runs[r][0])  # runs in input order
    dims = [_product([shape[p] for p in runs[r]]) for r in order]
    position = {r: i for i, r in enumerate(order)}
    return dims, [position[r] for r in range(len(runs))]


def shuffle_view(shape: Sequence[int], groups: int) -> tuple[list[int], list[int]]:
    """A channel shuffle as a permute: the input viewed as (N, groups, C/groups, rest) by [0, 2, 1, 3]."""
    return reduced_permutation([shape[0], groups, shape[1] // groups, _product(shape[2:])], [0, 2, 1, 3])
