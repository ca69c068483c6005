"""The `nn` dialect: the dense layers a CNN needs besides pattern convolutions.

Every op has buffer semantics on static f32 memrefs (NCHW for images, NxK for linear layers):
it reads its inputs and writes its operand named `output` (the model's outputs are the function
arguments that some op writes as `output`, see patdnn.backend.signature). Single inputs are named
`input`, two-operand ops use `lhs`/`rhs`, `nn.concat` takes variadic `inputs`.

    nn.conv2d ins(%x : memref<1x16x28x28xf32>) outs(%y : memref<1x32x14x14xf32>)
        kernel [3, 3] stride [2, 2] padding [1, 1] groups 1 activation relu
        weights dense<[...]> : tensor<4608xf32> bias dense<[...]> : tensor<32xf32>
    nn.pool2d ins(%x : …) outs(%y : …) kind max kernel [3, 3] stride [2, 2] padding [1, 1]
    nn.adaptive_avg_pool2d ins(%x : …) outs(%y : …)
    nn.add ins(%a, %b : …, …) outs(%y : …) activation relu
    nn.concat ins(%a, %b, %c : …, …, …) outs(%y : …)
    nn.linear ins(%x : memref<2x512xf32>) outs(%y : memref<2x10xf32>) activation none weights … bias …
    nn.softmax ins(%x : memref<2x10xf32>) outs(%y : memref<2x10xf32>)
    nn.activation ins(%x : …) outs(%y : …) activation relu6
    nn.reshape ins(%x : memref<2x512x1x1xf32>) outs(%y : memref<2x512xf32>)
    nn.constant outs(%c : memref<1x4x1x1xf32>) weights dense<[...]> : tensor<4xf32>

Weights are `WeightsAttr` (inline `dense<…>` or `#pattern.blob<…>`) as in the pattern dialect:
conv weights are OIHW flattened (Cout * Cin/groups * KH * KW values), linear weights (M, K)
row-major, biases one value per output channel / feature.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from xdsl.dialects.builtin import I64, DenseArrayBase, IntegerAttr, MemRefType, i64
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
    check_batched_io,
    check_buffer,
    create_parsed,
    pair,
    pair_attr,
    parse_activation,
    parse_int_list,
    parse_io,
    parse_typed_operand,
    parse_weights,
    print_activation,
    print_int_list,
    print_io,
    print_weights,
    verify_pairs,
    verify_weights,
    verify_window,
    weight_props,
)

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
    convolution, `groups` = Cin a depthwise one. Dilation is always 1. The optional `residual`
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
    ):
        super().__init__(
            operands=[input, [residual] if residual is not None else [], output],
            properties={
                "kernel": pair_attr(kernel),
                "stride": pair_attr(stride),
                "padding": pair_attr(padding),
                "groups": IntegerAttr(groups, i64),
                "activation": ActivationAttr(Activation(activation)),
                **weight_props(weights, bias),
            },
        )

    def verify_(self) -> None:
        (n, cin, h, w), (n_out, cout, ho, wo) = check_batched_io(self, 4)
        verify_pairs(self, [("kernel", 1), ("stride", 1), ("padding", 0)])
        groups = self.groups.value.data
        if groups < 1 or cin % groups or cout % groups:
            raise VerifyException(
                f"groups {groups} must be >= 1 and divide both the input channels ({cin}) "
                f"and the output channels ({cout})"
            )
        verify_window((n, cin, h, w), (n_out, cout, ho, wo), pair(self.kernel), pair(self.stride), pair(self.padding))
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
        printer.print_string(f" groups {self.groups.value.data}")
        print_activation(printer, self)
        print_weights(printer, self)
        printer.print_op_attributes(self.attributes)

    @classmethod
    def parse(cls, parser: Parser) -> Conv2dOp:
        pos = parser.pos
        inputs, output = parse_io(parser)
        if len(inputs) > 2:
            parser.raise_error(
                f"nn.conv2d takes an input and an optional residual, got {len(inputs)} inputs", pos, parser.pos
            )
        props: dict[str, Attribute] = {k: parse_int_list(parser, k) for k in ("kernel", "stride", "padding")}
        parser.parse_keyword("groups")
        props["groups"] = IntegerAttr(parser.parse_integer(allow_boolean=False), i64)
        props["activation"] = parse_activation(parser)
        parse_weights(parser, props)
        return create_parsed(cls, parser, [*inputs, output], props)


# ---------------------------------------------------------------------------------------------
# nn.pool2d, nn.adaptive_avg_pool2d
# ---------------------------------------------------------------------------------------------


@irdl_op_definition
class Pool2dOp(IRDLOperation):
    """Max or average pooling (PyTorch semantics, ceil_mode false; average counts the padding)."""

    name = "nn.pool2d"

    input = operand_def(MemRefType)
    output = operand_def(MemRefType)

    kind = prop_def(PoolKindAttr)
    kernel = prop_def(DenseArrayBase[I64])
    stride = prop_def(DenseArrayBase[I64])
    padding = prop_def(DenseArrayBase[I64])

    def __init__(
        self,
        input: SSAValue,
        output: SSAValue,
        kind: PoolKind | str,
        kernel: int | Sequence[int],
        stride: int | Sequence[int] | None = None,
        padding: int | Sequence[int] = 0,
    ):
        super().__init__(
            operands=[input, output],
            properties={
                "kind": PoolKindAttr(PoolKind(kind)),
                "kernel": pair_attr(kernel),
                "stride": pair_attr(kernel if stride is None else stride),
                "padding": pair_attr(padding),
            },
        )

    def verify_(self) -> None:
        (n, c, h, w), (n_out, c_out, ho, wo) = _pool_io(self)
        verify_pairs(self, [("kernel", 1), ("stride", 1), ("padding", 0)])
        (kh, kw), (ph, pw) = pair(self.kernel), pair(self.padding)
        if ph > kh // 2 or pw > kw // 2:
            raise VerifyException(f"padding {[ph, pw]} must be at most half the kernel {[kh, kw]} (as in PyTorch)")
        verify_window((n, c, h, w), (n_out, c_out, ho, wo), pair(self.kernel), pair(self.stride), pair(self.padding))

    def print(self, printer: Printer) -> None:
        print_io(printer, [self.input], self.output)
        printer.print_string(f" kind {self.kind.data.value}")
        for keyword in ("kernel", "stride", "padding"):
            print_int_list(printer, keyword, getattr(self, keyword))
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
        super().__init__(operands=[lhs, rhs, output], properties={"activation": ActivationAttr(Activation(activation))})

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
        super().__init__(operands=[input, output], properties={"activation": ActivationAttr(Activation(activation))})

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
    """Concatenates `inputs` along axis 1 (channels of NCHW, features of NxK) into `output`."""

    name = "nn.concat"

    inputs = var_operand_def(MemRefType)
    output = operand_def(MemRefType)

    def __init__(self, inputs: Sequence[SSAValue], output: SSAValue):
        super().__init__(operands=[list(inputs), output])

    def verify_(self) -> None:
        if not self.inputs:
            raise VerifyException("nn.concat needs at least one input")
        out_shape = check_buffer("output", self.output, [])
        if len(out_shape) < 2:
            raise VerifyException(
                f"output must have at least 2 dimensions (concatenation is along axis 1), got {self.output.type}"
            )
        total = 0
        for i, value in enumerate(self.inputs):
            shape = check_buffer(f"input {i}", value, [])
            if len(shape) != len(out_shape) or shape[0] != out_shape[0] or shape[2:] != out_shape[2:]:
                raise VerifyException(
                    f"input {i} shape {list(shape)} must equal the output shape {list(out_shape)} except along axis 1"
                )
            total += shape[1]
        if total != out_shape[1]:
            raise VerifyException(
                f"output axis 1 has size {out_shape[1]}, expected the sum of the inputs' sizes {total}"
            )

    def print(self, printer: Printer) -> None:
        print_io(printer, list(self.inputs), self.output)
        printer.print_op_attributes(self.attributes)

    @classmethod
    def parse(cls, parser: Parser) -> ConcatOp:
        inputs, output = parse_io(parser)
        return create_parsed(cls, parser, [*inputs, output])


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
class LinearOp(IRDLOperation):
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
            properties={"activation": ActivationAttr(Activation(activation)), **weight_props(weights, bias)},
        )

    def verify_(self) -> None:
        (_, k), (_, m) = check_batched_io(self, 2)
        verify_weights(self.weights, m * k, "weights")
        if self.bias is not None:
            verify_weights(self.bias, m, "bias")

    def print(self, printer: Printer) -> None:
        print_io(printer, [self.input], self.output)
        print_activation(printer, self)
        print_weights(printer, self)
        printer.print_op_attributes(self.attributes)

    @classmethod
    def parse(cls, parser: Parser) -> LinearOp:
        (input, *_), output = parse_io(parser)
        props: dict[str, Attribute] = {"activation": parse_activation(parser)}
        parse_weights(parser, props)
        return create_parsed(cls, parser, [input, output], props)


@irdl_op_definition
class SoftmaxOp(_UnaryOp):
    """Softmax along the last axis of an NxM buffer (numerically stable: the row max is subtracted)."""

    name = "nn.softmax"

    input = operand_def(MemRefType)
    output = operand_def(MemRefType)

    def __init__(self, input: SSAValue, output: SSAValue):
        super().__init__(operands=[input, output])

    def verify_(self) -> None:
        in_shape = check_buffer("input", self.input, [2])
        out_shape = check_buffer("output", self.output, [2])
        if in_shape != out_shape:
            raise VerifyException(f"output shape {list(out_shape)} must equal the input shape {list(in_shape)}")


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
    ],
    [PoolKindAttr],
)
