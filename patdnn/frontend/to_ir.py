"""LayerGraph → IR: one `func.func @model(%input, %output)` whose intermediates are `memref.alloc`s.

3x3 convolutions whose weights follow a pattern library (given by the pruner, or recovered from
the zeros) become `pattern.conv2d`; everything else becomes an `nn` op. Weights go to one blob
file (or inline when no blob path is given).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from xdsl.builder import ImplicitBuilder
from xdsl.dialects import func, memref
from xdsl.dialects.builtin import MemRefType, ModuleOp, StringAttr, f32
from xdsl.ir import Attribute, SSAValue

from patdnn.dialects import nn
from patdnn.dialects.pattern import Activation, BlobRefAttr, Conv2dOp, PatternLibraryAttr
from patdnn.fkw import pack_weights
from patdnn.frontend.graph import Layer, LayerGraph
from patdnn.frontend.pattern_detect import detect_patterns
from patdnn.ir_builder import BlobWriter, dense_f32

PatternInfo = tuple[np.ndarray, np.ndarray]  # (library (P, K, K) 0/1, ids (Cout, Cin), -1 = removed)


class _Weights:
    """Collects weight arrays, then turns them into inline or blob attributes."""

    def __init__(self, path: Path | None):
        self.writer = BlobWriter(path) if path is not None else None
        self.arrays: list[np.ndarray] = []
        self.spans: list[tuple[int, int]] = []
        self.digest = ""

    def add(self, values: np.ndarray | None) -> int | None:
        if values is None:
            return None
        self.arrays.append(values)
        if self.writer is not None:
            self.spans.append(self.writer.add(values))
        return len(self.arrays) - 1

    def finish(self) -> None:
        if self.writer is not None:
            self.digest = self.writer.close()

    def attr(self, handle: int | None) -> Attribute | None:
        if handle is None:
            return None
        if self.writer is None:
            return dense_f32(self.arrays[handle])
        offset, size = self.spans[handle]
        return BlobRefAttr(self.writer.path.name, offset, size, self.digest)


def _prepare(layer: Layer, weights: _Weights, patterns: dict[str, PatternInfo]) -> dict[str, Any]:
    """Chooses the op of a layer and registers its weight arrays (in IR order)."""
    a = layer.attrs
    if layer.kind == "conv":
        info = patterns.get(layer.name)
        if info is None and a["groups"] == 1:
            info = detect_patterns(a["weight"])
        if info is not None:
            library, ids = info
            packed = pack_weights(a["weight"], ids, library)
            return {"op": "pattern", "library": library, "ids": ids,
                    "w": weights.add(packed), "b": weights.add(a["bias"])}
    if layer.kind in ("conv", "linear"):
        return {"op": layer.kind, "w": weights.add(a["weight"].reshape(-1)), "b": weights.add(a["bias"])}
    return {"op": layer.kind}


def layer_graph_to_ir(
    graph: LayerGraph, weights_path: Path | None, patterns: dict[str, PatternInfo], name: str = "model"
) -> ModuleOp:
    weights = _Weights(weights_path)
    plans = [_prepare(layer, weights, patterns) for layer in graph.layers]
    weights.finish()

    out_shape = next(layer.shape for layer in graph.layers if layer.output == graph.output) if graph.layers else graph.input_shape
    in_type, out_type = MemRefType(f32, graph.input_shape), MemRefType(f32, out_shape)
    module = ModuleOp([])
    with ImplicitBuilder(module.body):
        fn = func.FuncOp(name, ((in_type, out_type), ()))
    arg_in, arg_out = fn.body.block.args
    arg_in.name_hint, arg_out.name_hint = "input", "output"
    values: dict[str, SSAValue] = {graph.input: arg_in}
    with ImplicitBuilder(fn.body):
        for layer, plan in zip(graph.layers, plans):
            if layer.output == graph.output:
                out = arg_out
            else:
                out = memref.AllocOp([], [], MemRefType(f32, layer.shape)).memref
                out.name_hint = None
            values[layer.output] = out
            op = _build_op(layer, plan, [values[t] for t in layer.inputs], out, weights)
            op.attributes["layer"] = StringAttr(layer.name)
        func.ReturnOp()
    return module


def _build_op(layer: Layer, plan: dict[str, Any], inputs: list[SSAValue], out: SSAValue, weights: _Weights):
    a = layer.attrs
    act = Activation(a.get("activation", "none"))
    kind = plan["op"]
    if kind == "pattern":
        library = plan["library"]
        centre = library.shape[1] // 2
        return Conv2dOp(
            inputs[0], out, PatternLibraryAttr.from_arrays(list(library), bool((library[:, centre, centre] == 0).any())),
            plan["ids"].reshape(-1), weights.attr(plan["w"]), weights.attr(plan["b"]),
            stride=list(a["stride"]), padding=list(a["padding"]), activation=act,
        )
    if kind == "conv":
        kh, kw = a["weight"].shape[2:]
        return nn.Conv2dOp(inputs[0], out, weights.attr(plan["w"]), weights.attr(plan["b"]), kernel=(kh, kw),
                           stride=tuple(a["stride"]), padding=tuple(a["padding"]), groups=a["groups"], activation=act)
    if kind == "linear":
        return nn.LinearOp(inputs[0], out, weights.attr(plan["w"]), weights.attr(plan["b"]), activation=act)
    if kind == "pool":
        return nn.Pool2dOp(inputs[0], out, a["pool"], kernel=a["kernel"], stride=a["stride"], padding=a["padding"])
    if kind == "adaptive_avg_pool":
        return nn.AdaptiveAvgPool2dOp(inputs[0], out)
    if kind == "add":
        return nn.AddOp(inputs[0], inputs[1], out, activation=act)
    if kind == "concat":
        return nn.ConcatOp(inputs, out)
    if kind == "softmax":
        return nn.SoftmaxOp(inputs[0], out)
    if kind == "activation":
        return nn.ActivationOp(inputs[0], out, activation=act)
    if kind == "reshape":
        return nn.ReshapeOp(inputs[0], out)
    raise AssertionError(f"no IR for layer kind {kind}")
