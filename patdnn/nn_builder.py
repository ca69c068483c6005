"""Builds `nn` dialect IR from numpy arrays: single-op modules for tests (and one function running
several of them), weights attributes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from xdsl.builder import ImplicitBuilder
from xdsl.dialects import func
from xdsl.dialects.builtin import MemRefType, ModuleOp, f32
from xdsl.ir import Attribute, Operation, SSAValue

from patdnn.dialects import common, nn
from patdnn.dialects.common import BlobRefAttr
from patdnn.ir_builder import dense_f32
from patdnn.sparsity.blob import BlobWriter


def weights_attrs(arrays: Sequence[np.ndarray | None], blob_path: Path | None = None) -> list[Attribute | None]:
    """One f32 weights attribute per array (None stays None): inline `dense<…>`, or, with
    `blob_path`, references into one weights file written there (named relative to its folder)."""
    if blob_path is None:
        return [None if a is None else dense_f32(a) for a in arrays]
    blob = BlobWriter(blob_path)
    spans = [None if a is None else blob.add(a) for a in arrays]
    digest = blob.close()
    return [None if s is None else BlobRefAttr(blob.path.name, s[0], s[1], digest) for s in spans]


def single_op_module(
    input_shapes: Sequence[Sequence[int]],
    output_shape: Sequence[int],
    make_op: Callable[[list[SSAValue], SSAValue], Operation],
    func_name: str = "layer",
) -> ModuleOp:
    """A module with one function `func_name(%input0, …, %output)` whose body is `make_op(inputs,
    output)` (an op that writes `output`). A single input is named `input`."""
    in_types = [MemRefType(f32, list(s)) for s in input_shapes]
    out_type = MemRefType(f32, list(output_shape))
    module = ModuleOp([])
    with ImplicitBuilder(module.body):
        fn = func.FuncOp(func_name, ((*in_types, out_type), ()))
    args = list(fn.body.block.args)
    for i, arg in enumerate(args[:-1]):
        arg.name_hint = "input" if len(in_types) == 1 else f"input{i}"
    args[-1].name_hint = "output"
    with ImplicitBuilder(fn.body):
        make_op(args[:-1], args[-1])
        func.ReturnOp()
    return module


def merge_functions(modules: list[ModuleOp]) -> ModuleOp:
    """One function running the single function of every module, with all their arguments."""
    sources = [next(op for op in m.ops if isinstance(op, func.FuncOp)) for m in modules]
    types = [arg.type for fn in sources for arg in fn.body.block.args]
    merged = ModuleOp([])
    with ImplicitBuilder(merged.body):
        target = func.FuncOp("cases", (types, ()))
    args = iter(target.body.block.args)
    for case, fn in enumerate(sources):
        mapping = {}
        for index, arg in enumerate(fn.body.block.args):
            mapping[arg] = next(args)
            mapping[arg].name_hint = f"c{case}a{index}"
        for op in fn.body.block.ops:
            if not isinstance(op, func.ReturnOp):
                target.body.block.add_op(op.clone(value_mapper=mapping))
    with ImplicitBuilder(target.body):
        func.ReturnOp()
    return merged


def conv2d_module(
    weight: np.ndarray,
    input_shape: Sequence[int],
    bias: np.ndarray | None = None,
    stride: int | Sequence[int] = 1,
    padding: int | Sequence[int] = 0,
    groups: int = 1,
    activation: str = "none",
    blob_path: Path | None = None,
) -> ModuleOp:
    """One `nn.conv2d` with the dense OIHW `weight` (Cout, Cin/groups, KH, KW) on `input_shape`."""
    n, _, h, w = input_shape
    cout, _, kh, kw = weight.shape
    (sh, sw) = (stride, stride) if isinstance(stride, int) else tuple(stride)
    (ph, pw) = (padding, padding) if isinstance(padding, int) else tuple(padding)
    out_shape = [n, cout, common.window_out(h, ph, kh, sh), common.window_out(w, pw, kw, sw)]
    wattr, battr = weights_attrs([weight, bias], blob_path)
    return single_op_module(
        [input_shape],
        out_shape,
        lambda ins, out: nn.Conv2dOp(ins[0], out, wattr, battr, (kh, kw), (sh, sw), (ph, pw), groups, activation),
    )


def block_module(
    weight: np.ndarray,
    input_shape: Sequence[int],
    rows: int,
    bias: np.ndarray | None = None,
    stride: int | Sequence[int] = 1,
    padding: int | Sequence[int] = 0,
    activation: str = "none",
    blob_path: Path | None = None,
) -> ModuleOp:
    """One `block.conv2d` (4-d OIHW `weight`) or `block.linear` (2-d (out, in) `weight`) whose
    filter blocks of `rows` keep the columns where the (already pruned) weights are non-zero."""
    from patdnn.dialects import block
    from patdnn.sparsity.block import gemm_view, pack_blocks

    offsets, columns, values = pack_blocks(gemm_view(weight), rows)
    wattr, battr = weights_attrs([values, bias], blob_path)
    if weight.ndim == 2:
        n = input_shape[0]
        return single_op_module(
            [input_shape],
            [n, weight.shape[0]],
            lambda ins, out: block.LinearOp(ins[0], out, [rows, 1], offsets, columns, wattr, battr, activation),
        )
    n, _, h, w = input_shape
    cout, _, kh, kw = weight.shape
    (sh, sw) = (stride, stride) if isinstance(stride, int) else tuple(stride)
    (ph, pw) = (padding, padding) if isinstance(padding, int) else tuple(padding)
    out_shape = [n, cout, common.window_out(h, ph, kh, sh), common.window_out(w, pw, kw, sw)]
    return single_op_module(
        [input_shape],
        out_shape,
        lambda ins, out: block.Conv2dOp(
            ins[0], out, [rows, 1], offsets, columns, wattr, battr, (kh, kw), (sh, sw), (ph, pw), activation
        ),
    )
