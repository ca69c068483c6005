"""The `nn` dialect's resampling ops (registered in `patdnn.dialects.nn.NN`): transposed
convolution and upsampling, on NCHW f32 buffers.

    nn.conv_transpose2d ins(%x : memref<2x8x7x7xf32>) outs(%y : memref<2x4x14x14xf32>)
        kernel [3, 3] stride [2, 2] padding [1, 1] output_padding [1, 1] groups 1 activation none
        weights dense<[...]> : tensor<288xf32> bias dense<[...]> : tensor<4xf32>
    nn.upsample2d ins(%x : memref<1x3x5x7xf32>) outs(%y : memref<1x3x7x10xf32>) mode nearest scale [1.5, 1.5]
    nn.upsample2d ins(%x : …) outs(%y : …) mode bilinear align_corners
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

import numpy as np
from xdsl.dialects.builtin import I64, DenseArrayBase, Float64Type, IntegerAttr, MemRefType, UnitAttr, f64, i64
from xdsl.dialects.utils import EnumAttribute
from xdsl.ir import Attribute, SpacedOpaqueSyntaxAttribute, SSAValue
from xdsl.irdl import IRDLOperation, irdl_attr_definition, irdl_op_definition, operand_def, opt_prop_def, prop_def
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
    parse_conv_tail,
    parse_int_list,
    parse_io,
    print_conv_tail,
    print_int_list,
    print_io,
    shape_of,
    verify_dilation,
    verify_groups,
    verify_pairs,
    verify_weights,
    weight_props,
)


def transposed_out(size: int, pad: int, k: int, stride: int, dilation: int, output_padding: int) -> int:
    """Output size of a transposed convolution (PyTorch's formula)."""
    return (size - 1) * stride - 2 * pad + dilation * (k - 1) + output_padding + 1


@irdl_op_definition
class ConvTranspose2dOp(IRDLOperation):
    """A transposed 2-D convolution (the gradient of a convolution with respect to its input),
    `output = act(conv_transpose(input) + bias)`: input pixel (y, x) adds `w[c, o, ky, kx] * in`
    to output (y * stride - padding + ky * dilation, x * ...). `weights` holds Cin * (Cout / groups)
    * KH * KW values in PyTorch's order (IOHW); `output_padding` adds rows/columns at the bottom/right
    (less than the stride or the dilation, as in PyTorch)."""

    name = "nn.conv_transpose2d"

    input = operand_def(MemRefType)
    output = operand_def(MemRefType)

    weights = prop_def(WeightsAttr)
    bias = opt_prop_def(WeightsAttr)
    kernel = prop_def(DenseArrayBase[I64])
    stride = prop_def(DenseArrayBase[I64])
    padding = prop_def(DenseArrayBase[I64])
    output_padding = prop_def(DenseArrayBase[I64])
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
        output_padding: int | Sequence[int] = 0,
        groups: int = 1,
        activation: Activation | str = Activation.NONE,
        dilation: int | Sequence[int] = 1,
    ):
        super().__init__(
            operands=[input, output],
            properties={
                "kernel": pair_attr(kernel),
                "stride": pair_attr(stride),
                "padding": pair_attr(padding),
                "output_padding": pair_attr(output_padding),
                "groups": IntegerAttr(groups, i64),
                "activation": activation_attr(activation),
                **weight_props(weights, bias),
                **dilation_props(dilation),
            },
        )

    def verify_(self) -> None:
        (n, cin, h, w), (n_out, cout, ho, wo) = check_batched_io(self, 4)
        verify_pairs(self, [("kernel", 1), ("stride", 1), ("padding", 0), ("output_padding", 0)])
        verify_dilation(self)
        groups = verify_groups(self, cin, cout)
        (kh, kw), (sh, sw), (ph, pw) = pair(self.kernel), pair(self.stride), pair(self.padding)
        (oph, opw), (dh, dw) = pair(self.output_padding), dilation_of(self)
        if oph >= max(sh, dh) or opw >= max(sw, dw):
            raise VerifyException(
                f"output_padding {[oph, opw]} must be smaller than the stride {[sh, sw]} or the dilation {[dh, dw]}"
            )
        for axis, size, out, k, p, s, d, op in (
            ("height", h, ho, kh, ph, sh, dh, oph),
            ("width", w, wo, kw, pw, sw, dw, opw),
        ):
            expected = transposed_out(size, p, k, s, d, op)
            if out != expected:
                raise VerifyException(
                    f"output {axis} {out} does not match the input: ({size} - 1)*{s} - 2*{p} + {d}*({k} - 1) "
                    f"+ {op} + 1 = {expected}"
                )
        verify_weights(self.weights, cin * (cout // groups) * kh * kw, "weights")
        if self.bias is not None:
            verify_weights(self.bias, cout, "bias")

    def print(self, printer: Printer) -> None:
        print_io(printer, [self.input], self.output)
        for keyword in ("kernel", "stride", "padding", "output_padding"):
            print_int_list(printer, keyword, getattr(self, keyword))
        print_conv_tail(printer, self)

    @classmethod
    def parse(cls, parser: Parser) -> ConvTranspose2dOp:
        (input, *_), output = parse_io(parser)
        keywords = ("kernel", "stride", "padding", "output_padding")
        props: dict[str, Attribute] = {k: parse_int_list(parser, k) for k in keywords}
        parse_conv_tail(parser, props)
        return create_parsed(cls, parser, [input, output], props)


class UpsampleMode(StrEnum):
    NEAREST = "nearest"
    BILINEAR = "bilinear"


@irdl_attr_definition
class UpsampleModeAttr(EnumAttribute[UpsampleMode], SpacedOpaqueSyntaxAttribute):
    """`nearest` or `bilinear`."""

    name = "nn.upsample_mode"


@irdl_op_definition
class Upsample2dOp(IRDLOperation):
    """Upsampling (or downsampling) of the height and width to the output's, PyTorch's
    `interpolate` for mode nearest and bilinear.

    The source coordinate of output index i uses the scale s = 1 / `scale` when the op has one
    (the model's scale_factor; the output size is then floor(input * scale)), else input / output,
    in f32: nearest reads min(floor(i * s), input - 1); bilinear reads s * (i + 0.5) - 0.5 clamped
    at 0 (or, with `align_corners`, i * (input - 1) / (output - 1), no scale used) and blends the
    two neighbours.
    """

    name = "nn.upsample2d"

    input = operand_def(MemRefType)
    output = operand_def(MemRefType)

    mode = prop_def(UpsampleModeAttr)
    align_corners = opt_prop_def(UnitAttr)
    scale = opt_prop_def(DenseArrayBase[Float64Type])

    def __init__(
        self,
        input: SSAValue,
        output: SSAValue,
        mode: UpsampleMode | str,
        align_corners: bool = False,
        scale: Sequence[float] | None = None,
    ):
        props: dict[str, Attribute] = {"mode": UpsampleModeAttr(UpsampleMode(mode))}
        if align_corners:
            props["align_corners"] = UnitAttr()
        if scale is not None:
            props["scale"] = DenseArrayBase.from_list(f64, [float(v) for v in scale])
        super().__init__(operands=[input, output], properties=props)

    def scales(self) -> tuple[float, float] | None:
        if self.scale is None:
            return None
        sh, sw = self.scale.get_values()
        return float(sh), float(sw)

    def source_scales(self) -> tuple[float, float]:
        """The f32 factor from output to source index per axis (height, width), as PyTorch computes
        it: (in - 1) / (out - 1) with align_corners (0 for one output), else 1 / scale when the op
        has one, else in / out."""
        (_, _, h, w), (_, _, ho, wo) = shape_of(self.input), shape_of(self.output)
        given = self.scales() or (None, None)
        result = []
        for size, out, factor in ((h, ho, given[0]), (w, wo, given[1])):
            if self.align_corners is not None:
                value = np.float32(size - 1) / np.float32(out - 1) if out > 1 else np.float32(0)
            elif factor is not None:
                value = np.float32(1.0 / factor)
            else:
                value = np.float32(size) / np.float32(out)
            result.append(float(value))
        return result[0], result[1]

    def verify_(self) -> None:
        n, c, h, w = check_buffer("input", self.input, [4])
        n_out, c_out, ho, wo = check_buffer("output", self.output, [4])
        if (n, c) != (n_out, c_out):
            raise VerifyException(f"output batch and channels ({n_out}, {c_out}) must equal the input's ({n}, {c})")
        if self.align_corners is not None and self.mode.data != UpsampleMode.BILINEAR:
            raise VerifyException("align_corners applies to bilinear upsampling only")
        if self.scale is None:
            return
        values = list(self.scale.get_values())
        if len(values) != 2 or min(values) <= 0:
            raise VerifyException(f"scale {values} must be two numbers > 0")
        expected = [int(h * values[0]), int(w * values[1])]  # floor, as PyTorch sizes the output
        if [ho, wo] != expected:
            raise VerifyException(f"output size {[ho, wo]} does not match the input {[h, w]} times scale {values}")

    def print(self, printer: Printer) -> None:
        print_io(printer, [self.input], self.output)
        printer.print_string(f" mode {self.mode.data.value}")
        if self.align_corners is not None:
            printer.print_string(" align_corners")
        if self.scale is not None:
            printer.print_string(f" scale {list(self.scales() or ())}")
        printer.print_op_attributes(self.attributes)

    @classmethod
    def parse(cls, parser: Parser) -> Upsample2dOp:
        (input, *_), output = parse_io(parser)
        parser.parse_keyword("mode")
        pos = parser.pos
        mode = parser.parse_identifier("upsampling mode (nearest or bilinear)")
        if mode not in {m.value for m in UpsampleMode}:
            parser.raise_error(f"unknown upsampling mode '{mode}', expected nearest or bilinear", pos, parser.pos)
        props: dict[str, Attribute] = {"mode": UpsampleModeAttr(UpsampleMode(mode))}
        if parser.parse_optional_keyword("align_corners") is not None:
            props["align_corners"] = UnitAttr()
        if parser.parse_optional_keyword("scale") is not None:
            values = parser.parse_comma_separated_list(parser.Delimiter.SQUARE, parser.parse_number)
            props["scale"] = DenseArrayBase.from_list(f64, [float(v) for v in values])
        return create_parsed(cls, parser, [input, output], props)


RESAMPLE_OPS = [ConvTranspose2dOp, Upsample2dOp]
RESAMPLE_ATTRS = [UpsampleModeAttr]
