"""LayerGraph → IR: one `func.func @model(%input, %output)` whose intermediates are `memref.alloc`s.

Which op a conv / linear layer becomes:

* with a pruning plan (`schemes`, {layer name: Scheme}) naming the layer: `block R x C ...` →
  `block.conv2d` / `block.linear` with filter blocks of R (groups 1 only), `pattern ...` →
  `pattern.conv2d` (the pruner's library and ids, or recovered from the zeros), `dense` → the `nn`
  op. Planned layers carry their scheme text in the `patdnn.prune` attribute (the LR's `prune` line);
* otherwise, as detected from the (already pruned) weights: 3x3 convs whose zeros follow a pattern
  library (given by the pruner, or recovered) become `pattern.conv2d`; a conv with groups 1 (not
  pattern-sparse) or a linear layer becomes a block op when, for some R in (16, 8, 4), at most
  half of its (filter block of R, column) pairs hold a non-zero weight — with the largest R whose
  kept fraction is within 1.25x of the smallest (bigger blocks share each input load across more
  filters; the kernel's work is the kept fraction); its `block` is [R, 1] (the pruning grid's
  column width cannot be read back from the zeros, and the kernels do not need it).
  Everything else becomes an `nn` op.

A `constant` layer (attrs: `value`, a float32 array of the layer's shape) becomes `nn.constant`.
A model whose output is its input gets one copy (`nn.reshape` to the same shape) into the output.

Weights go to one blob file (or inline when no blob path is given).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from xdsl.builder import ImplicitBuilder
from xdsl.dialects import func, memref
from xdsl.dialects.builtin import MemRefType, ModuleOp, StringAttr, f32
from xdsl.ir import Attribute, SSAValue

from patdnn.dialects import block, nn
from patdnn.dialects.common import BlobRefAttr, PatternLibraryAttr, activation_attr
from patdnn.dialects.pattern import Conv2dOp
from patdnn.frontend.fusion import fuse
from patdnn.frontend.graph import Layer, LayerGraph
from patdnn.frontend.pattern_detect import detect_patterns
from patdnn.ir_builder import dense_f32
from patdnn.sparsity.blob import BlobWriter
from patdnn.sparsity.block import gemm_view, kept_column_fraction, pack_blocks
from patdnn.sparsity.fkw import pack_weights
from patdnn.sparsity.patterns import PatternInfo
from patdnn.sparsity.plan import Plan
from patdnn.sparsity.scheme import PRUNE_ATTR, Scheme, SchemeError, SchemeKind


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


BLOCK_ROWS = (16, 8, 4)  # filter-block sizes auto-detection tries
BLOCK_MAX_FRACTION = 0.5  # a layer becomes block-sparse when at most this fraction of its block columns is kept
BLOCK_SLACK = 1.25  # a larger block may keep up to this factor more columns than the best one


def detect_block_rows(weight: np.ndarray) -> int | None:
    """R for a block op (see the module docstring), or None when the layer is not block-sparse."""
    matrix = gemm_view(weight)
    if matrix.size == 0 or np.count_nonzero(matrix) > BLOCK_MAX_FRACTION * matrix.size:
        return None  # the kept fraction is at least the density
    fractions = {rows: kept_column_fraction(matrix, rows) for rows in BLOCK_ROWS}
    best = min(fractions.values())
    if best > BLOCK_MAX_FRACTION:
        return None
    return max(rows for rows, f in fractions.items() if f <= best * BLOCK_SLACK)


def _block(layer: Layer, weights: _Weights, rows: int, cols: int = 1) -> dict[str, Any]:
    offsets, columns, values = pack_blocks(gemm_view(layer.attrs["weight"]), rows)
    return {
        "op": "block_" + layer.kind,
        "block": (rows, cols),
        "offsets": offsets,
        "columns": columns,
        "w": weights.add(values),
        "b": weights.add(layer.attrs["bias"]),
    }


def _prepare(
    layer: Layer, weights: _Weights, patterns: dict[str, PatternInfo], scheme: Scheme | None = None
) -> dict[str, Any]:
    """Chooses the op of a layer and registers its weight arrays (in IR order)."""
    a = layer.attrs
    planned = scheme is not None and layer.kind in ("conv", "linear")
    dilated = tuple(a.get("dilation", (1, 1))) != (1, 1)
    if planned and scheme.kind == SchemeKind.BLOCK:
        if dilated:
            raise SchemeError(
                f"layer '{layer.name}': the plan says '{scheme}', but block pruning of a dilated conv "
                f"(dilation {list(a['dilation'])}) is not supported; use 'pattern' or 'dense'"
            )
        if layer.kind == "conv" and a["groups"] != 1:
            raise SchemeError(
                f"layer '{layer.name}': the plan says '{scheme}', but block pruning needs a conv "
                f"with groups 1 (this one has groups {a['groups']}); use 'dense' or leave it out"
            )
        assert scheme.block is not None
        return _block(layer, weights, *scheme.block)
    if layer.kind == "conv" and not (planned and scheme.kind == SchemeKind.DENSE):
        info = patterns.get(layer.name)
        if info is None and a["groups"] == 1:
            info = detect_patterns(a["weight"])
        if info is not None:
            library, ids = info
            packed = pack_weights(a["weight"], ids, library)
            return {
                "op": "pattern",
                "library": library,
                "ids": ids,
                "w": weights.add(packed),
                "b": weights.add(a["bias"]),
            }
        if planned and scheme.kind == SchemeKind.PATTERN:
            raise SchemeError(
                f"layer '{layer.name}': the plan says '{scheme}', but its weights "
                f"{list(a['weight'].shape)} are not pattern-pruned 3x3 kernels"
            )
    if planned and scheme.kind == SchemeKind.PATTERN:
        raise SchemeError(
            f"layer '{layer.name}': the plan says '{scheme}', but pattern pruning applies to "
            f"3x3 convs only (this is a {layer.kind} layer)"
        )
    block_kernel = layer.kind == "linear" or (layer.kind == "conv" and a["groups"] == 1 and not dilated)
    if layer.kind in ("conv", "linear") and not planned and block_kernel:
        rows = detect_block_rows(a["weight"])
        if rows is not None:
            return _block(layer, weights, rows)
    if layer.kind in ("conv", "linear", "conv_transpose"):
        return {"op": layer.kind, "w": weights.add(a["weight"].reshape(-1)), "b": weights.add(a["bias"])}
    if layer.kind == "constant":
        return {"op": "constant", "w": weights.add(np.ascontiguousarray(a["value"], dtype=np.float32).reshape(-1))}
    if layer.kind in ("layer_norm", "scale_shift"):  # per-channel (or per-element) weights, each optional
        return {"op": layer.kind, "w": weights.add(a["weight"]), "b": weights.add(a["bias"])}
    if layer.kind == "prelu":  # 1 or C slopes
        return {"op": layer.kind, "w": weights.add(a["weight"])}
    return {"op": layer.kind}


def _check_plan(graph: LayerGraph, schemes: Plan) -> None:
    """Every planned layer is a conv or linear layer of the graph."""
    prunable = {layer.name for layer in graph.layers if layer.kind in ("conv", "linear")}
    unknown = sorted(set(schemes) - prunable)
    if unknown:
        known = ", ".join(sorted(prunable)[:8]) + (", ..." if len(prunable) > 8 else "")
        raise SchemeError(
            f"the pruning plan names {len(unknown)} layer(s) the model has no conv/linear "
            f"layer for: {', '.join(repr(u) for u in unknown[:5])} (the model's: {known})"
        )


def import_layer_graph(
    graph: LayerGraph,
    weights_path: Path | None = None,
    patterns: dict[str, PatternInfo] | None = None,
    name: str = "model",
    schemes: Plan | None = None,
) -> ModuleOp:
    """What every importer ends with: the graph fused (patdnn.frontend.fusion), then its IR."""
    fuse(graph)
    return layer_graph_to_ir(graph, weights_path, patterns or {}, name, schemes)


def layer_graph_to_ir(
    graph: LayerGraph,
    weights_path: Path | None,
    patterns: dict[str, PatternInfo],
    name: str = "model",
    schemes: Plan | None = None,
) -> ModuleOp:
    schemes = schemes or {}
    _check_plan(graph, schemes)
    if graph.output == graph.input:  # the model returns its input (nn.Identity): one copy
        graph = LayerGraph(
            graph.input,
            graph.input_shape,
            [*graph.layers, Layer("output", "reshape", [graph.input], f"{graph.input}_copy", graph.input_shape)],
            f"{graph.input}_copy",
        )
    weights = _Weights(weights_path)
    plans = [_prepare(layer, weights, patterns, schemes.get(layer.name)) for layer in graph.layers]
    weights.finish()

    out_shape = (
        next(layer.shape for layer in graph.layers if layer.output == graph.output)
        if graph.layers
        else graph.input_shape
    )
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
            if layer.name in schemes and layer.kind in ("conv", "linear"):
                op.attributes[PRUNE_ATTR] = StringAttr(str(schemes[layer.name]))
        func.ReturnOp()
    return module


def _build_op(layer: Layer, plan: dict[str, Any], inputs: list[SSAValue], out: SSAValue, weights: _Weights):
    a = layer.attrs
    act = activation_attr(a.get("activation", "none"))
    kind = plan["op"]
    if kind == "pattern":
        library = plan["library"]
        centre = library.shape[1] // 2
        return Conv2dOp(
            inputs[0],
            out,
            PatternLibraryAttr.from_arrays(list(library), bool((library[:, centre, centre] == 0).any())),
            plan["ids"].reshape(-1),
            weights.attr(plan["w"]),
            weights.attr(plan["b"]),
            stride=list(a["stride"]),
            padding=list(a["padding"]),
            dilation=list(a.get("dilation", (1, 1))),
            activation=act,
        )
    if kind in ("block_conv", "block_linear"):
        packed = (plan["block"], plan["offsets"], plan["columns"], weights.attr(plan["w"]), weights.attr(plan["b"]))
        if kind == "block_linear":
            return block.LinearOp(inputs[0], out, *packed, activation=act)
        kh, kw = a["weight"].shape[2:]
        window = {"kernel": (kh, kw), "stride": tuple(a["stride"]), "padding": tuple(a["padding"])}
        return block.Conv2dOp(inputs[0], out, *packed, **window, activation=act)
    if kind == "conv":
        kh, kw = a["weight"].shape[2:]
        return nn.Conv2dOp(
            inputs[0],
            out,
            weights.attr(plan["w"]),
            weights.attr(plan["b"]),
            kernel=(kh, kw),
            stride=tuple(a["stride"]),
            padding=tuple(a["padding"]),
            groups=a["groups"],
            activation=act,
            dilation=tuple(a.get("dilation", (1, 1))),
        )
    if kind == "conv_transpose":
        _, cout_g, kh, kw = a["weight"].shape
        return nn.ConvTranspose2dOp(
            inputs[0],
            out,
            weights.attr(plan["w"]),
            weights.attr(plan["b"]),
            kernel=(kh, kw),
            stride=a["stride"],
            padding=a["padding"],
            output_padding=a["output_padding"],
            groups=a["groups"],
            activation=act,
            dilation=a["dilation"],
        )
    if kind == "upsample":
        return nn.Upsample2dOp(inputs[0], out, a["mode"], a["align_corners"], a["scale"])
    if kind == "linear":
        return nn.LinearOp(inputs[0], out, weights.attr(plan["w"]), weights.attr(plan["b"]), activation=act)
    if kind == "pool":
        flags = {k: a[k] for k in ("dilation", "ceil_mode", "exclude_padding") if k in a}
        window = {"kernel": a["kernel"], "stride": a["stride"], "padding": a["padding"], **flags}
        return nn.Pool2dOp(inputs[0], out, a["pool"], **window)
    if kind == "adaptive_avg_pool":
        return nn.AdaptiveAvgPool2dOp(inputs[0], out)
    if kind == "add":
        return nn.AddOp(inputs[0], inputs[1], out, activation=act)
    if kind == "binary":
        return nn.BinaryOp(inputs[0], inputs[1], out, a["op"], activation=act)
    if kind == "concat":
        return nn.ConcatOp(inputs, out, a.get("axis", 1))
    if kind == "softmax":
        axis = a.get("axis")  # the last axis is the default: left out of the IR (and the LR)
        return nn.SoftmaxOp(inputs[0], out, None if axis == len(layer.shape) - 1 else axis, a.get("log", False))
    if kind == "permute":
        return nn.PermuteOp(inputs[0], out, a["perm"])
    if kind == "channel_shuffle":
        return nn.ChannelShuffleOp(inputs[0], out, a["groups"])
    if kind == "slice":
        return nn.SliceOp(inputs[0], out, a["axis"], a["start"], a["step"])
    if kind == "mean":
        return nn.MeanOp(inputs[0], out, a["axes"])
    if kind == "layer_norm":
        return nn.LayerNormOp(inputs[0], out, a["axes"], a["eps"], weights.attr(plan["w"]), weights.attr(plan["b"]))
    if kind == "scale_shift":
        return nn.ScaleShiftOp(inputs[0], out, weights.attr(plan["w"]), weights.attr(plan["b"]), activation=act)
    if kind == "prelu":
        return nn.PReluOp(inputs[0], out, weights.attr(plan["w"]))
    if kind == "activation":
        return nn.ActivationOp(inputs[0], out, activation=act)
    if kind == "reshape":
        return nn.ReshapeOp(inputs[0], out)
    if kind == "constant":
        return nn.ConstantOp(out, weights.attr(plan["w"]))
    raise AssertionError(f"no IR for layer kind {kind}")
