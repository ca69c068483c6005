"""`nn.binary`: element-wise add / sub / mul / div with NumPy broadcasting and a fused activation.

    nn.binary ins(%x, %s : memref<2x5x7x9xf32>, memref<2x5x1x1xf32>) outs(%y : memref<2x5x7x9xf32>)
        kind mul activation none

`output = act(lhs kind rhs)`; each input's shape broadcasts to the output's (NumPy rules: aligned
at the right, each dim equal or 1, missing leading dims are 1); rank <= 4. The runtimes read a
broadcast input with stride 0 (no broadcast copy): squeeze-and-excitation's x * s (N,C,1,1),
(N,1,H,W) masks, per-channel constants (1,C,1,1), scalars (a constant of shape [1]). Same-shape
adds stay `nn.add` (fuse-residual-add folds those into a convolution).
"""

from __future__ import annotations

from xdsl.dialects.builtin import MemRefType, StringAttr
from xdsl.ir import Attribute, SSAValue
from xdsl.irdl import IRDLOperation, irdl_op_definition, operand_def, prop_def
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.utils.exceptions import VerifyException

from patdnn.dialects.common import (
    Activation,
    ActivationAttr,
    activation_attr,
    check_buffer,
    create_parsed,
    parse_activation,
    parse_io,
    print_activation,
    print_io,
)

BINARY_KINDS = ("add", "sub", "mul", "div")
MAX_BINARY_RANK = 4


def broadcast_strides(shape: tuple[int, ...], out_shape: tuple[int, ...]) -> list[int]:
    """Element strides of a contiguous `shape` read as `out_shape` (0 along broadcast dims), one
    per output dim."""
    padded = (1,) * (len(out_shape) - len(shape)) + tuple(shape)
    strides, step = [], 1
    for size in reversed(padded):
        strides.append(step if size != 1 else 0)
        step *= size
    return strides[::-1]


def binary_geometry(op: BinaryOp) -> tuple[list[int], list[int]]:
    """The output's 4 dims (leading 1s added) and the lhs' then the rhs' 4 element strides."""
    out = tuple(op.output.type.get_shape())  # type: ignore[attr-defined]
    dims = [1] * (MAX_BINARY_RANK - len(out)) + list(out)
    strides = []
    for value in (op.lhs, op.rhs):
        strides += broadcast_strides(tuple(value.type.get_shape()), tuple(dims))  # type: ignore[attr-defined]
    return dims, strides


@irdl_op_definition
class BinaryOp(IRDLOperation):
    """`output = act(lhs kind rhs)` with NumPy broadcasting of either input (see the module)."""

    name = "nn.binary"

    lhs = operand_def(MemRefType)
    rhs = operand_def(MemRefType)
    output = operand_def(MemRefType)

    kind = prop_def(StringAttr)
    activation = prop_def(ActivationAttr)

    def __init__(
        self,
        lhs: SSAValue,
        rhs: SSAValue,
        output: SSAValue,
        kind: str,
        activation: ActivationAttr | Activation | str = Activation.NONE,
    ):
        props = {"kind": StringAttr(kind), "activation": activation_attr(activation)}
        super().__init__(operands=[lhs, rhs, output], properties=props)

    def verify_(self) -> None:
        if self.kind.data not in BINARY_KINDS:
            raise VerifyException(f"unknown kind '{self.kind.data}', expected one of {', '.join(BINARY_KINDS)}")
        out = check_buffer("output", self.output, [])
        if len(out) > MAX_BINARY_RANK:
            raise VerifyException(f"output rank {len(out)} is above {MAX_BINARY_RANK}")
        for name, value in (("lhs", self.lhs), ("rhs", self.rhs)):
            shape = check_buffer(name, value, [])
            padded = (1,) * (len(out) - len(shape)) + shape
            if len(shape) > len(out) or any(s not in (1, o) for s, o in zip(padded, out, strict=True)):
                raise VerifyException(f"{name} shape {list(shape)} does not broadcast to the output shape {list(out)}")

    def print(self, printer: Printer) -> None:
        print_io(printer, [self.lhs, self.rhs], self.output)
        printer.print_string(f" kind {self.kind.data}")
        print_activation(printer, self)
        printer.print_op_attributes(self.attributes)

    @classmethod
    def parse(cls, parser: Parser) -> BinaryOp:
        pos = parser.pos
        inputs, output = parse_io(parser)
        if len(inputs) != 2:
            parser.raise_error(f"nn.binary takes two inputs, got {len(inputs)}", pos, parser.pos)
        parser.parse_keyword("kind")
        pos = parser.pos
        kind = parser.parse_identifier(f"kind ({', '.join(BINARY_KINDS)})")
        if kind not in BINARY_KINDS:
            parser.raise_error(f"unknown kind '{kind}', expected one of {', '.join(BINARY_KINDS)}", pos, parser.pos)
        props: dict[str, Attribute] = {"kind": StringAttr(kind), "activation": parse_activation(parser)}
        return create_parsed(cls, parser, [*inputs, output], props)


BINARY_OPS = [BinaryOp]
