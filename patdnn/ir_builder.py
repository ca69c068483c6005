"""Builds pattern-dialect IR from numpy arrays (used by the frontend, tests and examples)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from xdsl.builder import ImplicitBuilder
from xdsl.dialects import func
from xdsl.dialects.builtin import (
    BytesAttr,
    DenseIntOrFPElementsAttr,
    DictionaryAttr,
    MemRefType,
    ModuleOp,
    TensorType,
    f32,
)

from patdnn.dialects.common import BlobRefAttr, PatternLibraryAttr, window_out
from patdnn.dialects.pattern import SCHEDULE_ATTR, Conv2dOp
from patdnn.sparsity.blob import BlobWriter
from patdnn.sparsity.fkw import pack_weights


def dense_f32(values: np.ndarray) -> DenseIntOrFPElementsAttr:
    """An inline 1-d f32 constant, built from bytes (never from Python lists: it is O(n) objects)."""
    flat = np.ascontiguousarray(values, dtype=np.float32).reshape(-1)
    return DenseIntOrFPElementsAttr(TensorType(f32, [flat.size]), BytesAttr(flat.tobytes()))


def pattern_conv_module(
    weight: np.ndarray,
    ids: np.ndarray,
    library: np.ndarray,
    input_shape: tuple[int, int, int, int],
    stride: int = 1,
    padding: int = 1,
    bias: np.ndarray | None = None,
    activation: str = "none",
    blob_path: Path | None = None,
    func_name: str = "layer",
    dilation: int = 1,
    schedule: DictionaryAttr | None = None,
) -> ModuleOp:
    """A module with one function `func_name(%input, %output)` holding one `pattern.conv2d`
    (with `schedule` as its `patdnn.schedule`, if given: tile-tune then keeps it).

    `weight` is the dense (Cout, Cin, K, K) weight; only entries inside each kernel's pattern are
    kept. With `blob_path` the weights (and bias) go to that file and the IR references it by name
    (relative to the weights directory, i.e. the file's folder); otherwise they are inline.
    """
    n, cin, h, w = input_shape
    cout, _, k, _ = weight.shape
    ho, wo = window_out(h, padding, k, stride, dilation), window_out(w, padding, k, stride, dilation)
    packed = pack_weights(weight, ids, library)
    weights_attr, bias_attr = dense_f32(packed), None if bias is None else dense_f32(bias)
    if blob_path is not None:
        blob = BlobWriter(blob_path)
        spans = [blob.add(packed)] + ([] if bias is None else [blob.add(bias)])
        digest = blob.close()
        refs = [BlobRefAttr(blob.path.name, offset, size, digest) for offset, size in spans]
        weights_attr, bias_attr = refs[0], (refs[1] if bias is not None else None)

    in_type, out_type = MemRefType(f32, [n, cin, h, w]), MemRefType(f32, [n, cout, ho, wo])
    module = ModuleOp([])
    with ImplicitBuilder(module.body):
        fn = func.FuncOp(func_name, ((in_type, out_type), ()))
    fn.body.block.args[0].name_hint, fn.body.block.args[1].name_hint = "input", "output"
    with ImplicitBuilder(fn.body):
        conv = Conv2dOp(
            fn.body.block.args[0],
            fn.body.block.args[1],
            PatternLibraryAttr.from_arrays(list(library)),
            ids.reshape(-1),
            weights_attr,
            bias_attr,
            stride=stride,
            padding=padding,
            dilation=dilation,
            activation=activation,
        )
        if schedule is not None:
            conv.attributes[SCHEDULE_ATTR] = schedule
        func.ReturnOp()
    return module
