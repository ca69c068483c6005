"""`nn.prelu`: PyTorch's PReLU, `output = input > 0 ? input : slope * input`.

    nn.prelu ins(%x : memref<2x5x7x9xf32>) outs(%y : memref<2x5x7x9xf32>) weights dense<...> : tensor<5xf32>

The slopes are per channel (axis 1; C values) or one shared value (1 value, `nn.PReLU()`'s
default); the input is NCHW, NxK or any rank >= 1 (rank 1: one shared slope only). NaN inputs stay
NaN (`NaN > 0` is false and `slope * NaN` is NaN), as in PyTorch. It is not fused into the
producing conv's epilogue: it runs as its own pass over the buffer.
"""

from __future__ import annotations

import numpy as np
from xdsl.dialects.builtin import MemRefType
from xdsl.ir import Attribute, SSAValue
from xdsl.irdl import IRDLOperation, irdl_op_definition, operand_def, prop_def
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.utils.exceptions import VerifyException

from patdnn.dialects.common import (
    WeightsAttr,
    check_buffer,
    create_parsed,
    parse_io,
    print_io,
    verify_weights,
    weights_count,
)


def prelu_slopes(slopes: np.ndarray, shape: tuple[int, ...]) -> np.ndarray | None:
    """The flat f32 slopes of nn.prelu when `slopes` (NumPy-broadcast against an input of `shape`)
    is one shared value or one per channel (axis 1); else None (the importers refuse it)."""
    padded = (1,) * (len(shape) - slopes.ndim) + tuple(slopes.shape)
    per_channel = len(padded) == len(shape) > 1 and all(s == 1 for i, s in enumerate(padded) if i != 1)
    if slopes.size != 1 and not per_channel:
        return None
    return np.ascontiguousarray(slopes, np.float32).reshape(-1)


def prelu_geometry(op: PReluOp) -> tuple[int, int, int, int]:
    """(outer, channels, inner, slopes): the buffer seen as outer x channels x inner, `slopes`
    1 (shared) or `channels`."""
    shape = tuple(op.input.type.get_shape())  # type: ignore[attr-defined]
    channels = shape[1] if len(shape) > 1 else 1
    inner = 1
    for size in shape[2:]:
        inner *= size
    return shape[0] if len(shape) > 1 else 1, channels, inner, weights_count(op.weights)


@irdl_op_definition
class PReluOp(IRDLOperation):
    """`output = input > 0 ? input : weights[c] * input` (see the module)."""

    name = "nn.prelu"

    input = operand_def(MemRefType)
    output = operand_def(MemRefType)
    weights = prop_def(WeightsAttr)

    def __init__(self, input: SSAValue, output: SSAValue, weights: Attribute):
        super().__init__(operands=[input, output], properties={"weights": weights})

    def verify_(self) -> None:
        shape = check_buffer("input", self.input, [])
        out = check_buffer("output", self.output, [])
        if shape != out:
            raise VerifyException(f"output shape {list(out)} differs from the input shape {list(shape)}")
        if not shape:
            raise VerifyException("nn.prelu needs a buffer of rank >= 1")
        count = weights_count(self.weights)
        channels = shape[1] if len(shape) > 1 else 1
        if count not in (1, channels):
            raise VerifyException(f"weights: {count} values, expected 1 or {channels} (one per channel)")
        verify_weights(self.weights, count, "weights")

    def print(self, printer: Printer) -> None:
        print_io(printer, [self.input], self.output)
        printer.print_string(" weights ")
        printer.print_attribute(self.weights)
        printer.print_op_attributes(self.attributes)

    @classmethod
    def parse(cls, parser: Parser) -> PReluOp:
        (input, *_), output = parse_io(parser)
        parser.parse_keyword("weights")
        return create_parsed(cls, parser, [input, output], {"weights": parser.parse_attribute()})


PRELU_OPS = [PReluOp]
