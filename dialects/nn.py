"""The `nn` dialect: the dense layers a CNN needs besides pattern convolutions.

Every op has buffer semantics on static f32 memrefs (NCHW for images, NxK for linear layers):
it reads its inputs and writes its operand named `output` (the model's outputs are the function
arguments that some op writes as `output`, see patdnn.backend.signature). Single inputs are named
`input`, two-operand ops use `lhs`/`rhs`, `nn.concat` takes variadic `inputs`.

    nn.conv2d ins(%x : memref<1x16x28x28xf32>) outs(%y : memref<1x32x14x14xf32>)
        kernel [3, 3] stride [2, 2] padding [1, 1] groups 1 activation relu
        weights dense<[...]> : tensor<4608xf32> bias dense<[...]> : tensor<32xf32>
    nn.pool2d ins(%x : …) outs(%y : …) kind max kernel [3, 3] stride [2, 2] padding [1, 1]
    nn.pool2d ins(%x : …) outs(%y : …) kind avg kernel [3, 3] stride [2, 2] padding [1, 1] ceil_mode exclude_padding
    nn.adaptive_avg_pool2d ins(%x : …) outs(%y : …)
    nn.add ins(%a, %b : …, …) outs(%y : …) activation relu
    nn.concat ins(%a, %b, %c : …, …, …) outs(%y : …)
    nn.linear ins(%x : memref<2x512xf32>) outs(%y : memref<2x10xf32>) activation none weights … bias …
    nn.softmax ins(%x : memref<2x10xf32>) outs(%y : memref<2x10xf32>)
    nn.activation ins(%x : …) outs(%y : …) activation relu6
    nn.reshape ins(%x : memref<2x512x1x1xf32>) outs(%y : memref<2x512xf32>)
    nn.constant outs(%c : memref<1x4x1x1xf32>) weights dense<[...]> : tensor<4xf32>

Transposed convolution and upsampling (`nn.conv_transpose2d`, `nn.upsample2d`) live in
dialects/nn_resample.py, the layout and normalisation ops in dialects/nn_layout.py.

Weights are `WeightsAttr` (inline `dense<…>` or `#pattern.blob<…>`) as in the pattern dialect:
conv weights are OIHW flattened (Cout * Cin/groups * KH * KW values), linear weights (M, K)
row-major, biases one value per output channel / feature.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import ClassVar

from xdsl.dialects.builtin import I64, DenseArrayBase, IntegerAttr, MemRefType, UnitAttr, i64
from xdsl.dialects.utils import EnumAttribute
from xdsl.ir import Attribute, Dialect, Operation, SpacedOpaqueSyntaxAttribute, SSAValue
from xdsl.irdl import (
    IRDLOperation,
    irdl_attr_definition,
    irdl_op_definition,
    operand_def,
    opt_operand_def,
    opt_prop_def,
    prop_def,
    var_operand_def,
)
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.utils.exceptions import VerifyException

from patdnn.dialects.common import (
    Activation,
    ActivationAttr,
    WeightsAttr,
    activation_attr,
    check_batched_io,
    check_buffer,
    create_parsed,
    dilation_of,
    dilation_props,
    pair,
    pair_attr,
    parse_activation,
    parse_conv_tail,
    parse_dilation,
    parse_int_list,
    parse_io,
    parse_typed_operand,
    print_activation,
    print_conv_tail,
    print_dilation,
    print_int_list,
    print_io,
    verify_dilation,
    verify_groups,
    verify_pairs,
    verify_weights,
    verify_window,
    weight_props,
)
from patdnn.dialects.nn_binary import BINARY_OPS, BinaryOp  # noqa: F401 - part of the nn dialect, re-exported
from patdnn.dialects.nn_chain import CHAIN_OPS, ConvChainOp  # noqa: F401 - part of the nn dialect, re-exported
from patdnn.dialects.nn_layout import (  # noqa: F401 - part of the nn dialect, re-exported
    LAYOUT_OPS,
    ChannelShuffleOp,
    LayerNormOp,
    MeanOp,
    PermuteOp,
    ScaleShiftOp,
    SliceOp,
    WeightedUnarySyntax,
)
from patdnn.dialects.nn_prelu import PRELU_OPS, PReluOp  # noqa: F401 - part of the nn dialect, re-exported
from patdnn.dialects.nn_resample import RESAMPLE_ATTRS, RESAMPLE_OPS, ConvTranspose2dOp, Upsample2dOp, UpsampleMode  # noqa: F401 - part of the nn dialect, re-exported

# ---------------------------------------------------------------------------------------------
# Attributes
# ---------------------------------------------------------------------------------------------


class PoolKind(StrEnum):
    MAX = "max"
    AVG = "avg"


@irdl_attr_definition
class PoolKindAttr(EnumAttribute[PoolKind], SpacedOpaqueSyntaxAttribute):
    """`max` or `avg` (average counts the padding, like PyTorch's count_include_pad=True)."""

    name = "nn.pool_kind"


# ---------------------------------------------------------------------------------------------
# nn.conv2d
# ---------------------------------------------------------------------------------------------


@irdl_op_definition
class Conv2dOp(IRDLOperation):
    """A dense (or grouped / depthwise) 2-D convolution, `output = act(conv(input) + bias [+ residual])`.

    `weights` holds Cout * (Cin / groups) * KH * KW values in OIHW order; `groups` = 1 is a normal
    convolution, `groups` = Cin a depthwise one. `dilation` (optional, printed `dilation [2, 2]`
    after the padding; absent means [1, 1]) spreads the kernel's taps. The optional `residual`
    (the output's shape; written `ins(%x, %residual : …)`) is added before the activation: a
    residual connection fused by `fuse-residual-add`.
    """

    name = "nn.conv2d"

    input = operand_def(MemRefType)
    residual = opt_operand_def(MemRefType)
    output = operand_def(MemRefType)

    weights = prop_def(WeightsAttr)
    bias = opt_prop_def(WeightsAttr)
    kernel = prop_def(DenseArrayBase[I64])
    stride = prop_def(DenseArrayBase[I64])
    padding = prop_def(DenseArrayBase[I64])
    dilation = opt_prop_def(DenseArrayBase[I64])
    groups = prop_def(IntegerAttr[I64])
    activation = prop_def(ActivationAttr)

    def __init__(
        self,
        input: SSAValue,
        output: SSAValue,
        weights: Attribute,
        bias: Attribute | None = None,
        kernel: int | Sequence[int] = 3,
        stride: int | Sequence[int] = 1,
        padding: int | Sequence[int] = 0,
        groups: int = 1,
        activation: Activation | str = Activation.NONE,
        residual: SSAValue | None = None,
        dilation: int | Sequence[int] = 1,
    ):
        super().__init__(
            operands=[input, [residual] if residual is not None else [], output],
            properties={
                "kernel": pair_attr(kernel),
                "stride": pair_attr(stride),
                "padding": pair_attr(padding),
                "groups": IntegerAttr(groups, i64),
                "activation": activation_attr(activation),
                **weight_props(weights, bias),
                **dilation_props(dilation),
            },
        )

    def verify_(self) -> None:
        (n, cin, h, w), (n_out, cout, ho, wo) = check_batched_io(self, 4)
        verify_pairs(self, [("kernel", 1), ("stride", 1), ("padding", 0)])
        verify_dilation(self)
        groups = verify_groups(self, cin, cout)
        window = (pair(self.kernel), pair(self.stride), pair(self.padding), dilation_of(self))
        verify_window((n, cin, h, w), (n_out, cout, ho, wo), *window)
        kh, kw = pair(self.kernel)
        verify_weights(self.weights, cout * (cin // groups) * kh * kw, "weights")
        if self.bias is not None:
            verify_weights(self.bias, cout, "bias")
        if self.residual is not None:
            residual = check_buffer("residual", self.residual, [])
            if residual != (n_out, cout, ho, wo):
                raise VerifyException(
                    f"residual shape {list(residual)} must equal the output shape {[n_out, cout, ho, wo]}"
                )

    def print(self, printer: Printer) -> None:
        print_io(printer, [self.input] + ([self.residual] if self.residual is not None else []), self.output)
        for keyword in ("kernel", "stride", "padding"):
            print_int_list(printer, keyword, getattr(self, keyword))
        print_conv_tail(printer, self)

    @classmethod
    def parse(cls, parser: Parser) -> Conv2dOp:
        pos = parser.pos
        inputs, output = parse_io(parser)
        if len(inputs) > 2:
            parser.raise_error(
                f"nn.conv2d takes an input and an optional residual, got {len(inputs)} inputs", pos, parser.pos
            )
        props: dict[str, Attribute] = {k: parse_int_list(parser, k) for k in ("kernel", "stride", "padding")}
        parse_conv_tail(parser, props)
        return create_parsed(cls, parser, [*inputs, output], props)


# ---------------------------------------------------------------------------------------------
# nn.pool2d, nn.adaptive_avg_pool2d
# ---------------------------------------------------------------------------------------------


@irdl_op_definition
class Pool2dOp(IRDLOperation):
    """Max or average pooling with PyTorch's windows.

    Optional, printed after the padding only when set: `dilation [2, 2]` (max pooling),
    `ceil_mode` (output size rounded up; the last window may run past the input but starts inside
    it or its left padding), `exclude_padding` (average pooling divides by the window's taps inside
    the input: PyTorch's count_include_pad=False). By default an average divides by the window's
    taps inside the padded input (count_include_pad=True; the full kh*kw unless ceil_mode cuts it).
    """

    name = "nn.pool2d"

    input = operand_def(MemRefType)
    output = operand_def(MemRefType)

    kind = prop_def(PoolKindAttr)
    kernel = prop_def(DenseArrayBase[I64])
    stride = prop_def(DenseArrayBase[I64])
    padding = prop_def(DenseArrayBase[I64])
    dilation = opt_prop_def(DenseArrayBase[I64])
    ceil_mode = opt_prop_def(UnitAttr)
    exclude_padding = opt_prop_def(UnitAttr)

    FLAGS: ClassVar[tuple[str, ...]] = ("ceil_mode", "exclude_padding")

    def __init__(
        self,
        input: SSAValue,
        output: SSAValue,
        kind: PoolKind | str,
        kernel: int | Sequence[int],
        stride: int | Sequence[int] | None = None,
        padding: int | Sequence[int] = 0,
        dilation: int | Sequence[int] = 1,
        ceil_mode: bool = False,
        exclude_padding: bool = False,
    ):
        flags = {name: UnitAttr() for name, on in zip(self.FLAGS, (ceil_mode, exclude_padding)) if on}
        super().__init__(
            operands=[input, output],
            properties={
                "kind": PoolKindAttr(PoolKind(kind)),
                "kernel": pair_attr(kernel),
                "stride": pair_attr(kernel if stride is None else stride),
                "padding": pair_attr(padding),
                **dilation_props(dilation),
                **flags,
            },
        )

    def is_plain(self) -> bool:
        """No dilation, ceil_mode or exclude_padding (the runtime's fast pdnn_pool2d)."""
        return dilation_of(self) == (1, 1) and self.ceil_mode is None and self.exclude_padding is None

    def verify_(self) -> None:
        (n, c, h, w), (n_out, c_out, ho, wo) = _pool_io(self)
        verify_pairs(self, [("kernel", 1), ("stride", 1), ("padding", 0)])
        verify_dilation(self)
        (kh, kw), (ph, pw), (dh, dw) = pair(self.kernel), pair(self.padding), dilation_of(self)
        if (dh, dw) != (1, 1) and self.kind.data == PoolKind.AVG:
            raise VerifyException("dilation applies to max pooling only (PyTorch's avg_pool2d has none)")
        if self.exclude_padding is not None and self.kind.data == PoolKind.MAX:
            raise VerifyException("exclude_padding applies to average pooling only")
        if ph > kh // 2 or pw > kw // 2:
            raise VerifyException(f"padding {[ph, pw]} must be at most half the kernel {[kh, kw]} (as in PyTorch)")
        window = (pair(self.kernel), pair(self.stride), pair(self.padding), (dh, dw), self.ceil_mode is not None)
        verify_window((n, c, h, w), (n_out, c_out, ho, wo), *window)

    def print(self, printer: Printer) -> None:
        print_io(printer, [self.input], self.output)
        printer.print_string(f" kind {self.kind.data.value}")
        for keyword in ("kernel", "stride", "padding"):
            print_int_list(printer, keyword, getattr(self, keyword))
        print_dilation(printer, self)
        for flag in self.FLAGS:
            if getattr(self, flag) is not None:
                printer.print_string(f" {flag}")
        printer.print_op_attributes(self.attributes)

    @classmethod
    def parse(cls, parser: Parser) -> Pool2dOp:
        (input, *_), output = parse_io(parser)
        parser.parse_keyword("kind")
        pos = parser.pos
        kind = parser.parse_identifier("pooling kind (max or avg)")
        if kind not in {k.value for k in PoolKind}:
            parser.raise_error(f"unknown pooling kind '{kind}', expected max or avg", pos, parser.pos)
        props: dict[str, Attribute] = {"kind": PoolKindAttr(PoolKind(kind))}
        props |= {k: parse_int_list(parser, k) for k in ("kernel", "stride", "padding")}
        props |= parse_dilation(parser)
        for flag in cls.FLAGS:
            if parser.parse_optional_keyword(flag) is not None:
                props[flag] = UnitAttr()
        return create_parsed(cls, parser, [input, output], props)


def _pool_io(op: Pool2dOp | AdaptiveAvgPool2dOp) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Checks a pooling's NCHW input and output keep batch and channels; returns their shapes."""
    n, c, h, w = check_buffer("input", op.input, [4])
    n_out, c_out, ho, wo = check_buffer("output", op.output, [4])
    if (n, c) != (n_out, c_out):
        raise VerifyException(f"output batch and channels ({n_out}, {c_out}) must equal the input's ({n}, {c})")
    return (n, c, h, w), (n_out, c_out, ho, wo)


class _UnaryOp(IRDLOperation):
    """Shared syntax of ops with one input, one output and no properties: `ins(..) outs(..)`."""

    def print(self, printer: Printer) -> None:
        print_io(printer, [self.input], self.output)
        printer.print_op_attributes(self.attributes)

    @classmethod
    def parse(cls, parser: Parser):
        (input, *_), output = parse_io(parser)
        return create_parsed(cls, parser, [input, output])


@irdl_op_definition
class AdaptiveAvgPool2dOp(_UnaryOp):
    """Adaptive average pooling to the output's height and width (PyTorch's windows:
    start = floor(i * H / OH), end = ceil((i + 1) * H / OH))."""

    name = "nn.adaptive_avg_pool2d"

    input = operand_def(MemRefType)
    output = operand_def(MemRefType)

    def __init__(self, input: SSAValue, output: SSAValue):
        super().__init__(operands=[input, output])

    def verify_(self) -> None:
        _, (_, _, ho, wo) = _pool_io(self)
        if ho < 1 or wo < 1:
            raise VerifyException(f"output size {ho}x{wo} must be at least 1x1")


# ---------------------------------------------------------------------------------------------
# Elementwise: nn.add, nn.activation
# ---------------------------------------------------------------------------------------------


@irdl_op_definition
class AddOp(IRDLOperation):
    """`output = act(lhs + rhs)` on buffers of one shape (a residual connection)."""

    name = "nn.add"

    lhs = operand_def(MemRefType)
    rhs = operand_def(MemRefType)
    output = operand_def(MemRefType)

    activation = prop_def(ActivationAttr)

    def __init__(self, lhs: SSAValue, rhs: SSAValue, output: SSAValue, activation: Activation | str = Activation.NONE):
        super().__init__(operands=[lhs, rhs, output], properties={"activation": activation_attr(activation)})

    def verify_(self) -> None:
        shapes = {
            name: check_buffer(name, v, [])
            for name, v in (("lhs", self.lhs), ("rhs", self.rhs), ("output", self.output))
        }
        for name in ("rhs", "output"):
            if shapes[name] != shapes["lhs"]:
                raise VerifyException(
                    f"{name} shape {list(shapes[name])} must equal the lhs shape {list(shapes['lhs'])}"
                )

    def print(self, printer: Printer) -> None:
        print_io(printer, [self.lhs, self.rhs], self.output)
        print_activation(printer, self)
        printer.print_op_attributes(self.attributes)

    @classmethod
    def parse(cls, parser: Parser) -> AddOp:
        pos = parser.pos
        inputs, output = parse_io(parser)
        if len(inputs) != 2:
            parser.raise_error(f"nn.add takes two inputs (lhs, rhs), got {len(inputs)}", pos, parser.pos)
        props = {"activation": parse_activation(parser)}
        return create_parsed(cls, parser, [*inputs, output], props)


@irdl_op_definition
class ActivationOp(IRDLOperation):
    """A standalone elementwise activation, `output = act(input)` (relu or relu6)."""

    name = "nn.activation"

    input = operand_def(MemRefType)
    output = operand_def(MemRefType)

    activation = prop_def(ActivationAttr)

    def __init__(self, input: SSAValue, output: SSAValue, activation: Activation | str):
        super().__init__(operands=[input, output], properties={"activation": activation_attr(activation)})

    def verify_(self) -> None:
        in_shape = check_buffer("input", self.input, [])
        out_shape = check_buffer("output", self.output, [])
        if in_shape != out_shape:
            raise VerifyException(f"output shape {list(out_shape)} must equal the input shape {list(in_shape)}")
        if self.activation.data == Activation.NONE:
            raise VerifyException("activation none is a copy: use nn.reshape, or drop the op")

    def print(self, printer: Printer) -> None:
        print_io(printer, [self.input], self.output)
        print_activation(printer, self)
        printer.print_op_attributes(self.attributes)

    @classmethod
    def parse(cls, parser: Parser) -> ActivationOp:
        (input, *_), output = parse_io(parser)
        props = {"activation": parse_activation(parser)}
        return create_parsed(cls, parser, [input, output], props)


# ---------------------------------------------------------------------------------------------
# nn.concat, nn.reshape
# ---------------------------------------------------------------------------------------------


@irdl_op_definition
class ConcatOp(IRDLOperation):
    """Concatenates `inputs` along `axis` (absent: 1, the channels of NCHW, features of NxK) into `output`."""

    name = "nn.concat"

    inputs = var_operand_def(MemRefType)
    output = operand_def(MemRefType)
    axis = opt_prop_def(IntegerAttr[I64])

    def __init__(self, inputs: Sequence[SSAValue], output: SSAValue, axis: int = 1):
        props = {} if axis == 1 else {"axis": IntegerAttr(axis, i64)}
        super().__init__(operands=[list(inputs), output], properties=props)

    def axis_index(self) -> int:
        return self.axis.value.data if self.axis is not None else 1

    def verify_(self) -> None:
        if not self.inputs:
            raise VerifyException("nn.concat needs at least one input")
        out_shape = check_buffer("output", self.output, [])
        axis = self.axis_index()
        if not 0 <= axis < len(out_shape):
            raise VerifyException(f"axis {axis} must be a dim of the output {self.output.type}")
        total = 0
        for i, value in enumerate(self.inputs):
            shape = check_buffer(f"input {i}", value, [])
            if (
                len(shape) != len(out_shape)
                or shape[:axis] != out_shape[:axis]
                or shape[axis + 1 :] != out_shape[axis + 1 :]
            ):
                raise VerifyException(
                    f"input {i} shape {list(shape)} must equal the output shape {list(out_shape)} except along axis {axis}"
                )
            total += shape[axis]
        if total != out_shape[axis]:
            raise VerifyException(
                f"output axis {axis} has size {out_shape[axis]}, expected the sum of the inputs' sizes {total}"
            )

    def print(self, printer: Printer) -> None:
        print_io(printer, list(self.inputs), self.output)
        if self.axis is not None:
            printer.print_string(f" axis {self.axis.value.data}")
        printer.print_op_attributes(self.attributes)

    @classmethod
    def parse(cls, parser: Parser) -> ConcatOp:
        inputs, output = parse_io(parser)
        props = {}
        if parser.parse_optional_keyword("axis") is not None:
            props["axis"] = IntegerAttr(parser.parse_integer(allow_boolean=False), i64)
        return create_parsed(cls, parser, [*inputs, output], props)


@irdl_op_definition
class ReshapeOp(_UnaryOp):
    """Copies `input` into `output`, a buffer of another shape with the same element count
    (e.g. flattening Nx512x1x1 to Nx512)."""

    name = "nn.reshape"

    input = operand_def(MemRefType)
    output = operand_def(MemRefType)

    def __init__(self, input: SSAValue, output: SSAValue):
        super().__init__(operands=[input, output])

    def verify_(self) -> None:
        in_shape = check_buffer("input", self.input, [])
        out_shape = check_buffer("output", self.output, [])
        count_in, count_out = _count(in_shape), _count(out_shape)
        if count_in != count_out:
            raise VerifyException(
                f"output {self.output.type} holds {count_out} elements, input {self.input.type} holds {count_in}"
            )


def _count(shape: Sequence[int]) -> int:
    total = 1
    for d in shape:
        total *= d
    return total


# ---------------------------------------------------------------------------------------------
# nn.linear, nn.softmax
# ---------------------------------------------------------------------------------------------


@irdl_op_definition
class LinearOp(WeightedUnarySyntax):
    """A fully connected layer, `output[n, m] = act(sum_k input[n, k] * W[m, k] + bias[m])`,
    with `weights` (M, K) row-major."""

    name = "nn.linear"

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
        super().__init__(
            operands=[input, output],
            properties={"activation": activation_attr(activation), **weight_props(weights, bias)},
        )

    def verify_(self) -> None:
        (_, k), (_, m) = check_batched_io(self, 2)
        verify_weights(self.weights, m * k, "weights")
        if self.bias is not None:
            verify_weights(self.bias, m, "bias")


@irdl_op_definition
class SoftmaxOp(IRDLOperation):
    """Softmax along `axis` (absent: the last) of a buffer of any rank, numerically stable (the
    max along the axis is subtracted); with `log`, log-softmax (x - max - log(sum(exp(x - max))))."""

    name = "nn.softmax"

    input = operand_def(MemRefType)
    output = operand_def(MemRefType)
    axis = opt_prop_def(IntegerAttr[I64])
    log = opt_prop_def(UnitAttr)

    def __init__(self, input: SSAValue, output: SSAValue, axis: int | None = None, log: bool = False):
        props: dict[str, Attribute] = {} if axis is None else {"axis": IntegerAttr(axis, i64)}
        super().__init__(operands=[input, output], properties=props | ({"log": UnitAttr()} if log else {}))

    def axis_index(self) -> int:
        """The softmax axis (the last when `axis` is absent)."""
        return self.axis.value.data if self.axis is not None else len(self.input.type.get_shape()) - 1

    def verify_(self) -> None:
        in_shape = check_buffer("input", self.input, [])
        out_shape = check_buffer("output", self.output, [])
        if in_shape != out_shape:
            raise VerifyException(f"output shape {list(out_shape)} must equal the input shape {list(in_shape)}")
        if not in_shape or not 0 <= self.axis_index() < len(in_shape):
            raise VerifyException(f"axis {self.axis_index()} must be a dim of the {len(in_shape)}-d input")

    def print(self, printer: Printer) -> None:
        print_io(printer, [self.input], self.output)
        if self.axis is not None:
            printer.print_string(f" axis {self.axis.value.data}")
        if self.log is not None:
            printer.print_string(" log")
        printer.print_op_attributes(self.attributes)

    @classmethod
    def parse(cls, parser: Parser) -> SoftmaxOp:
        (input, *_), output = parse_io(parser)
        props: dict[str, Attribute] = {}
        if parser.parse_optional_keyword("axis") is not None:
            props["axis"] = IntegerAttr(parser.parse_integer(allow_boolean=False), i64)
        if parser.parse_optional_keyword("log") is not None:
            props["log"] = UnitAttr()
        return create_parsed(cls, parser, [input, output], props)


# ---------------------------------------------------------------------------------------------
# nn.constant
# ---------------------------------------------------------------------------------------------


@irdl_op_definition
class ConstantOp(IRDLOperation):
    """Materialises constant values (a learned parameter or a buffer the model uses as a tensor)
    into `output`: `weights` holds one f32 value per element of `output`, row-major.

    It has no input: `nn.constant outs(%c : memref<1x4x1x1xf32>) weights dense<[...]> : tensor<4xf32>`.
    When `output` is an alloc that nothing else writes, plan-buffers marks it `patdnn.constant` and
    the backends bind the buffer to the (read-only) weights: nothing is copied per run.
    """

    name = "nn.constant"

    output = operand_def(MemRefType)

    weights = prop_def(WeightsAttr)

    def __init__(self, output: SSAValue, weights: Attribute):
        super().__init__(operands=[output], properties={"weights": weights})

    def verify_(self) -> None:
        shape = check_buffer("output", self.output, [])
        verify_weights(self.weights, _count(shape), "weights")

    def print(self, printer: Printer) -> None:
        printer.print_string(" outs(")
        printer.print_operand(self.output)
        printer.print_string(" : ")
        printer.print_attribute(self.output.type)
        printer.print_string(") weights ")
        printer.print_attribute(self.weights)
        printer.print_op_attributes(self.attributes)

    @classmethod
    def parse(cls, parser: Parser) -> ConstantOp:
        output = parse_typed_operand(parser, "outs")
        parser.parse_keyword("weights")
        return create_parsed(cls, parser, [output], {"weights": parser.parse_attribute()})


CONSTANT_ATTR = "patdnn.constant"  # plan-buffers: an alloc bound to the weights of the nn.constant writing it


def constant_bound(alloc: Operation) -> bool:
    """Whether `alloc` (a memref.alloc) is written by one op only (its `output` operand), an nn.constant."""
    value = alloc.results[0]
    writers = {use.operation for use in value.uses if getattr(use.operation, "output", None) is value}
    return len(writers) == 1 and isinstance(next(iter(writers)), ConstantOp)


NN = Dialect(
    "nn",
    [
        Conv2dOp,
        Pool2dOp,
        AdaptiveAvgPool2dOp,
        AddOp,
        ActivationOp,
        ConcatOp,
        ReshapeOp,
        LinearOp,
        SoftmaxOp,
        ConstantOp,
        *LAYOUT_OPS,
        *RESAMPLE_OPS,
        *BINARY_OPS,
        *PRELU_OPS,
        *CHAIN_OPS,
    ],
    [PoolKindAttr, *RESAMPLE_ATTRS],
)
