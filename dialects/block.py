"""The `block` dialect: block-sparse convolutions and linear layers (block-based pruning).

A block-pruned layer is a GEMM `out[Cout, P] = W[Cout, K] x in[K, P]` (K = Cin*KH*KW columns in
PyTorch's flatten order `(c*KH + ky)*KW + kx`; P = output pixels, or the batch for a linear
layer) whose rows are cut into *filter blocks* of `block[0]` filters. Each filter block keeps a
list of columns (`columns`, one ascending list per block); every kept column stores the block's
`block[0]` weights contiguously, so a kernel loads one input row per kept column and reuses it
for all the block's filters — no per-element index. `block[1]` is the pruning grid's column
width (informative: it says how the columns were chosen, the kernels do not need it).

    block.conv2d ins(%x : memref<1x16x8x8xf32>) outs(%y : memref<1x8x8x8xf32>)
        kernel [1, 1] stride [1, 1] padding [0, 0] activation relu block [4, 16]
        columns [[0, 3, 5], [1, 2]]               (one list per filter block)
        weights dense<[...]> : tensor<20xf32>     ((3 + 2) columns x 4 filters; zero past Cout)
        bias dense<[...]> : tensor<8xf32>         (optional)

    block.linear ins(%x : memref<1x64xf32>) outs(%y : memref<1x10xf32>) activation none
        block [8, 16] columns [[...], [...]] weights ... bias ...
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from xdsl.dialects.builtin import I32, I64, DenseArrayBase, MemRefType, i32, i64
from xdsl.ir import Attribute, Dialect, SSAValue
from xdsl.irdl import IRDLOperation, irdl_op_definition, operand_def, opt_prop_def, prop_def
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.utils.exceptions import VerifyException

from patdnn.dialects.common import (
    Activation,
    ActivationAttr,
    WeightsAttr,
    activation_attr,
    ceil_div,
    check_batched_io,
    create_parsed,
    pair,
    pair_attr,
    parse_activation,
    parse_int_list,
    parse_io,
    parse_weights,
    print_activation,
    print_int_list,
    print_io,
    print_weights,
    verify_conv_window,
    verify_weights,
)


def column_lists(op: BlockSparseBase) -> list[np.ndarray]:
    """The kept GEMM columns of each filter block of `op`."""
    offsets = np.asarray(op.offsets.get_values(), dtype=np.int64)
    columns = np.asarray(op.columns.get_values(), dtype=np.int64)
    return [columns[offsets[b] : offsets[b + 1]] for b in range(len(offsets) - 1)]


def block_rows(op: BlockSparseBase) -> int:
    """Filters per filter block."""
    return int(op.block.get_values()[0])


class BlockSparseBase(IRDLOperation):
    """What block.conv2d and block.linear share: operands, block size, column lists, weights."""

    input = operand_def(MemRefType)
    output = operand_def(MemRefType)

    block = prop_def(DenseArrayBase[I64])  # (filters, columns) of a pruning block
    offsets = prop_def(DenseArrayBase[I32])  # filter block b: columns[offsets[b]:offsets[b+1]]
    columns = prop_def(DenseArrayBase[I32])
    weights = prop_def(WeightsAttr)
    bias = opt_prop_def(WeightsAttr)
    activation = prop_def(ActivationAttr)

    @staticmethod
    def _props(
        block: Sequence[int],
        offsets: Sequence[int] | np.ndarray,
        columns: Sequence[int] | np.ndarray,
        weights: Attribute,
        bias: Attribute | None,
        activation: Activation | str,
    ) -> dict[str, Attribute]:
        props: dict[str, Attribute] = {
            "block": DenseArrayBase.from_list(i64, [int(v) for v in block]),
            "offsets": DenseArrayBase.from_list(i32, [int(v) for v in offsets]),
            "columns": DenseArrayBase.from_list(i32, [int(v) for v in columns]),
            "weights": weights,
            "activation": activation_attr(activation),
        }
        if bias is not None:
            props["bias"] = bias
        return props

    def verify_blocks(self, out_channels: int, width: int) -> None:
        """Checks block size, column lists and weight count against a (out_channels x width) GEMM."""
        block = tuple(self.block.get_values())
        if len(block) != 2 or min(block) < 1:
            raise VerifyException(f"block {list(block)} must be two integers >= 1 (filters, columns)")
        rows = block[0]
        offsets = list(self.offsets.get_values())
        blocks = ceil_div(out_channels, rows)
        if len(offsets) != blocks + 1:
            raise VerifyException(
                f"columns has {len(offsets) - 1} lists, expected {blocks} (one per block of {rows} of the "
                f"{out_channels} filters)"
            )
        if offsets[0] != 0 or any(b < a for a, b in zip(offsets, offsets[1:])) or offsets[-1] != len(self.columns):
            raise VerifyException(f"offsets {offsets} must rise from 0 to the column count {len(self.columns)}")
        for b, cols in enumerate(column_lists(self)):
            if cols.size and (cols.min() < 0 or cols.max() >= width):
                raise VerifyException(f"filter block {b}: column {int(cols.max())} is outside 0..{width - 1}")
            if np.any(np.diff(cols) <= 0):
                raise VerifyException(f"filter block {b}: columns must be strictly ascending, got {cols.tolist()}")
        verify_weights(self.weights, offsets[-1] * rows, "weights")
        if self.bias is not None:
            verify_weights(self.bias, out_channels, "bias")

    def print_blocks(self, printer: Printer) -> None:
        print_int_list(printer, "block", self.block)
        lists = ", ".join("[" + ", ".join(map(str, cols.tolist())) + "]" for cols in column_lists(self))
        printer.print_string(f" columns [{lists}]")
        print_weights(printer, self)
        printer.print_op_attributes(self.attributes)

    @staticmethod
    def parse_blocks(parser: Parser, props: dict[str, Attribute]) -> None:
        props["block"] = parse_int_list(parser, "block")
        parser.parse_keyword("columns")
        lists = parser.parse_comma_separated_list(
            parser.Delimiter.SQUARE,
            lambda: parser.parse_comma_separated_list(parser.Delimiter.SQUARE, parser.parse_integer),
        )
        offsets = np.cumsum([0] + [len(cols) for cols in lists])
        props["offsets"] = DenseArrayBase.from_list(i32, [int(v) for v in offsets])
        props["columns"] = DenseArrayBase.from_list(i32, [int(v) for cols in lists for v in cols])
        parse_weights(parser, props)


@irdl_op_definition
class Conv2dOp(BlockSparseBase):
    """A block-sparse 2-D convolution on NCHW f32 buffers, `output = act(conv(input) + bias)`."""

    name = "block.conv2d"

    kernel = prop_def(DenseArrayBase[I64])
    stride = prop_def(DenseArrayBase[I64])
    padding = prop_def(DenseArrayBase[I64])

    def __init__(
        self,
        input: SSAValue,
        output: SSAValue,
        block: Sequence[int],
        offsets,
        columns,
        weights: Attribute,
        bias: Attribute | None = None,
        kernel: int | Sequence[int] = 1,
        stride: int | Sequence[int] = 1,
        padding: int | Sequence[int] = 0,
        activation: Activation | str = Activation.NONE,
    ):
        props = self._props(block, offsets, columns, weights, bias, activation)
        props |= {"kernel": pair_attr(kernel), "stride": pair_attr(stride), "padding": pair_attr(padding)}
        super().__init__(operands=[input, output], properties=props)

    def verify_(self) -> None:
        in_shape, out_shape = check_batched_io(self, 4)
        verify_conv_window(self, in_shape, out_shape)
        kh, kw = pair(self.kernel)
        self.verify_blocks(out_shape[1], in_shape[1] * kh * kw)

    def print(self, printer: Printer) -> None:
        print_io(printer, [self.input], self.output)
        for keyword in ("kernel", "stride", "padding"):
            print_int_list(printer, keyword, getattr(self, keyword))
        print_activation(printer, self)
        self.print_blocks(printer)

    @classmethod
    def parse(cls, parser: Parser) -> Conv2dOp:
        (input, *_), output = parse_io(parser)
        props: dict[str, Attribute] = {k: parse_int_list(parser, k) for k in ("kernel", "stride", "padding")}
        props["activation"] = parse_activation(parser)
        cls.parse_blocks(parser, props)
        return create_parsed(cls, parser, [input, output], props)


@irdl_op_definition
class LinearOp(BlockSparseBase):
    """A block-sparse fully connected layer on (N, K) → (N, M) f32 buffers (GEMM view: W is M x K)."""

    name = "block.linear"

    def __init__(
        self,
        input: SSAValue,
        output: SSAValue,
        block: Sequence[int],
        offsets,
        columns,
        weights: Attribute,
        bias: Attribute | None = None,
        activation: Activation | str = Activation.NONE,
    ):
        super().__init__(
            operands=[input, output], properties=self._props(block, offsets, columns, weights, bias, activation)
        )

    def verify_(self) -> None:
        (_, k), (_, m) = check_batched_io(self, 2)
        self.verify_blocks(m, k)

    def print(self, printer: Printer) -> None:
        print_io(printer, [self.input], self.output)
        print_activation(printer, self)
        self.print_blocks(printer)

    @classmethod
    def parse(cls, parser: Parser) -> LinearOp:
        (input, *_), output = parse_io(parser)
        props: dict[str, Attribute] = {"activation": parse_activation(parser)}
        cls.parse_blocks(parser, props)
        return create_parsed(cls, parser, [input, output], props)


Block = Dialect("block", [Conv2dOp, LinearOp], [])
