"""torch.nn.Module / torch.export program → LayerGraph → patdnn IR.

The model is exported with `torch.export` (non-strict) and decomposed to core ATen, so one
importer serves live modules and saved `.pt2` programs alike. Each supported ATen op becomes a
`Layer`; parameters become numpy arrays. Anything else stops the import with an
`UnsupportedLayerError` naming the layer (its module path) and its type.
"""

from __future__ import annotations

import operator
import warnings
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch
from xdsl.dialects.builtin import ModuleOp

from patdnn.frontend.errors import UnsupportedLayerError
from patdnn.frontend.fusion import fuse
from patdnn.frontend.graph import Layer, LayerGraph
from patdnn.frontend.to_ir import layer_graph_to_ir
from patdnn.sparsity.patterns import PatternInfo
from patdnn.sparsity.plan import Plan

aten = torch.ops.aten


@contextmanager
def quiet_torch():
    """torch.export's own deprecation chatter is not the user's business."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


def import_module(
    module: torch.nn.Module,
    example_input: torch.Tensor,
    weights_path: Path | None = None,
    patterns: dict[str, PatternInfo] | None = None,
    name: str = "model",
    schemes: Plan | None = None,
) -> ModuleOp:
    """Imports an eval-mode module traced at `example_input`'s shape.

    `weights_path`: write all weights to this blob (referenced by file name from the IR);
    None keeps them inline (small models, tests). `patterns`: per-conv (library, ids) chosen by the
    pruner, keyed by module path; convs without an entry have their patterns recovered from zeros.
    `schemes`: a pruning plan {layer name: Scheme} saying which op each named conv/linear layer
    becomes (see patdnn.frontend.to_ir); other layers are detected from their weights.
    """
    module = module.eval()
    with torch.no_grad(), quiet_torch():
        program = torch.export.export(module, (example_input,), strict=False)
    return import_exported_program(program, weights_path, patterns, name, schemes)


def import_exported_program(
    program: torch.export.ExportedProgram,
    weights_path: Path | None = None,
    patterns: dict[str, PatternInfo] | None = None,
    name: str = "model",
    schemes: Plan | None = None,
) -> ModuleOp:
    graph = exported_to_layers(program)
    fuse(graph)
    return layer_graph_to_ir(graph, weights_path, patterns or {}, name, schemes)


# ---------------------------------------------------------------------------------------------


def _layer_name(node: torch.fx.Node) -> str:
    stack = node.meta.get("nn_module_stack")
    if stack:
        path, _ = list(stack.values())[-1]
        return str(path) or node.name
    return node.name


def _layer_type(node: torch.fx.Node) -> str:
    stack = node.meta.get("nn_module_stack")
    target = getattr(node.target, "__name__", str(node.target))
    if stack:
        _, kind = list(stack.values())[-1]
        kind = getattr(kind, "__name__", str(kind)).rsplit(".", 1)[-1]
        return f"{kind} → aten.{target}"
    return f"aten.{target}"


def _shape(node: torch.fx.Node) -> tuple[int, ...]:
    val = node.meta.get("val")
    if isinstance(val, (tuple, list)):
        val = val[0]
    return tuple(int(d) for d in val.shape)


class _Importer:
    def __init__(self, program: torch.export.ExportedProgram):
        self.program = program
        self.constants: dict[str, np.ndarray] = {}
        self.layers: list[Layer] = []
        self.alias: dict[str, str] = {}  # getitem / identity results → tensor id
        self.inputs: list[torch.fx.Node] = []

    def run(self) -> LayerGraph:
        self._collect_constants()
        output = None
        for node in self.program.graph.nodes:
            if node.op == "placeholder":
                continue
            if node.op == "output":
                results = node.args[0]
                if len(results) != 1:
                    raise UnsupportedLayerError("output", "model output", f"{len(results)} outputs, expected 1")
                output = self._tensor(results[0])
                continue
            self._convert(node)
        if len(self.inputs) != 1:
            raise UnsupportedLayerError("input", "model input", f"{len(self.inputs)} tensor inputs, expected 1")
        assert output is not None
        return LayerGraph(self.inputs[0].name, _shape(self.inputs[0]), self.layers, output)

    def _collect_constants(self) -> None:
        sig = self.program.graph_signature
        state = {**self.program.state_dict, **getattr(self.program, "constants", {})}
        placeholders = {n.name: n for n in self.program.graph.nodes if n.op == "placeholder"}
        for spec in sig.input_specs:
            node = placeholders[spec.arg.name]
            if spec.kind.name == "USER_INPUT":
                self.inputs.append(node)
            else:
                value = state[spec.target]
                self.constants[node.name] = value.detach().cpu().numpy().astype(np.float32, copy=False)

    def _tensor(self, node: Any) -> str:
        name = node.name
        return self.alias.get(name, name)

    def _const(self, node: Any) -> np.ndarray | None:
        if isinstance(node, torch.fx.Node):
            return self.constants.get(self.alias.get(node.name, node.name))
        return None

    def _add(self, node: torch.fx.Node, kind: str, inputs: list[Any], **attrs: Any) -> None:
        self.layers.append(
            Layer(_layer_name(node), kind, [self._tensor(i) for i in inputs], node.name, _shape(node), attrs)
        )

    def _unsupported(self, node: torch.fx.Node, detail: str = "") -> UnsupportedLayerError:
        return UnsupportedLayerError(_layer_name(node), _layer_type(node), detail)

    # -- one ATen op ------------------------------------------------------------------------
    def _convert(self, node: torch.fx.Node) -> None:
        target, args = node.target, node.args
        if target is operator.getitem:
            if args[1] != 0:
                raise self._unsupported(node, "only the first result of a multi-result op is supported")
            self.alias[node.name] = self._tensor(args[0])
            return
        if target in (aten.permute.default, aten.t.default) and self._const(args[0]) is not None:
            value = self._const(args[0])
            dims = args[1] if target is aten.permute.default else [1, 0]
            self.constants[node.name] = np.ascontiguousarray(np.transpose(value, dims))
            return
        handler = _HANDLERS.get(target)
        if handler is None:
            raise self._unsupported(node)
        handler(self, node)


def _conv(imp: _Importer, node: torch.fx.Node) -> None:
    x, w, b, stride, padding, dilation, transposed, _, groups = node.args
    weight, bias = imp._const(w), imp._const(b) if b is not None else None
    if weight is None:
        raise imp._unsupported(node, "the weight is not a constant")
    if transposed:
        raise imp._unsupported(node, "transposed convolution")
    if any(d != 1 for d in dilation):
        raise imp._unsupported(node, f"dilation {list(dilation)}")
    imp._add(
        node,
        "conv",
        [x],
        weight=weight,
        bias=bias,
        stride=tuple(stride),
        padding=tuple(padding),
        groups=int(groups),
        activation="none",
    )


def _batchnorm(imp: _Importer, node: torch.fx.Node) -> None:
    x, w, b, mean, var, _, eps = node.args
    consts = [imp._const(a) for a in (w, b, mean, var)]
    if any(c is None for c in consts):
        raise imp._unsupported(node, "BatchNorm statistics are not constants")
    imp._add(node, "batchnorm", [x], weight=consts[0], bias=consts[1], mean=consts[2], var=consts[3], eps=float(eps))


def _activation(kind: str) -> Callable[[_Importer, torch.fx.Node], None]:
    def handler(imp: _Importer, node: torch.fx.Node) -> None:
        if kind == "relu6":
            lo, hi = (list(node.args[1:3]) + [None, None])[:2]
            if (lo, hi) != (0, 6):
                raise imp._unsupported(node, f"clamp to [{lo}, {hi}] (only ReLU6's [0, 6])")
        imp._add(node, "activation", [node.args[0]], activation=kind)

    return handler


def _max_pool(imp: _Importer, node: torch.fx.Node) -> None:
    args = list(node.args) + [None] * 6
    x, kernel, stride, padding, dilation, ceil = args[:6]
    stride = stride or kernel
    if ceil or (dilation and any(d != 1 for d in dilation)):
        raise imp._unsupported(node, "ceil_mode or dilation")
    imp._add(
        node, "pool", [x], pool="max", kernel=tuple(kernel), stride=tuple(stride), padding=tuple(padding or (0, 0))
    )


def _avg_pool(imp: _Importer, node: torch.fx.Node) -> None:
    args = list(node.args) + [None] * 7
    x, kernel, stride, padding, ceil, include_pad, divisor = args[:7]
    if ceil or include_pad is False or divisor is not None:
        raise imp._unsupported(node, "ceil_mode, count_include_pad=False or divisor_override")
    imp._add(
        node,
        "pool",
        [x],
        pool="avg",
        kernel=tuple(kernel),
        stride=tuple(stride or kernel),
        padding=tuple(padding or (0, 0)),
    )


def _mean(imp: _Importer, node: torch.fx.Node) -> None:
    x, dims = node.args[0], sorted(d % 4 for d in node.args[1])
    if dims != [2, 3]:
        raise imp._unsupported(node, f"mean over dims {list(node.args[1])} (only spatial)")
    shape = _shape(node)
    if len(shape) == 4:
        imp._add(node, "adaptive_avg_pool", [x])
        return
    # keepdim=False: pool to (N, C, 1, 1), then flatten.
    pooled = f"{node.name}_pooled"
    imp.layers.append(Layer(_layer_name(node), "adaptive_avg_pool", [imp._tensor(x)], pooled, (*shape, 1, 1)))
    imp.layers.append(Layer(_layer_name(node), "reshape", [pooled], node.name, shape))


def _adaptive(imp: _Importer, node: torch.fx.Node) -> None:
    imp._add(node, "adaptive_avg_pool", [node.args[0]])


def _add(imp: _Importer, node: torch.fx.Node) -> None:
    a, b = node.args[:2]
    if not isinstance(b, torch.fx.Node) or node.kwargs.get("alpha", 1) != 1:
        raise imp._unsupported(node, "only tensor + tensor")
    if _shape(a) != _shape(b):
        raise imp._unsupported(node, f"broadcasting add {_shape(a)} + {_shape(b)}")
    imp._add(node, "add", [a, b], activation="none")


def _cat(imp: _Importer, node: torch.fx.Node) -> None:
    tensors, dim = node.args[0], node.args[1] if len(node.args) > 1 else 0
    if dim % 4 != 1 or len(_shape(node)) != 4:
        raise imp._unsupported(node, f"concatenation along dim {dim} (only channels)")
    imp._add(node, "concat", list(tensors))


def _reshape(imp: _Importer, node: torch.fx.Node) -> None:
    imp._add(node, "reshape", [node.args[0]])


def _identity(imp: _Importer, node: torch.fx.Node) -> None:
    imp.alias[node.name] = imp._tensor(node.args[0])


def _linear(imp: _Importer, node: torch.fx.Node) -> None:
    if node.target is aten.addmm.default:
        b, x, wt = node.args[:3]
        bias = imp._const(b)
        if node.kwargs.get("beta", 1) != 1 or node.kwargs.get("alpha", 1) != 1:
            raise imp._unsupported(node, "scaled addmm")
    else:
        x, wt = node.args[:2]
        bias = None
    weight_t = imp._const(wt)
    if weight_t is None or (node.target is aten.addmm.default and bias is None):
        raise imp._unsupported(node, "the weight or bias is not a constant")
    imp._add(node, "linear", [x], weight=np.ascontiguousarray(weight_t.T), bias=bias, activation="none")


def _softmax(imp: _Importer, node: torch.fx.Node) -> None:
    x, dim = node.args[:2]
    if dim % len(_shape(node)) != len(_shape(node)) - 1:
        raise imp._unsupported(node, f"softmax along dim {dim} (only the last)")
    imp._add(node, "softmax", [x])


_HANDLERS: dict[Any, Callable[[_Importer, torch.fx.Node], None]] = {
    aten.convolution.default: _conv,
    aten._native_batch_norm_legit_no_training.default: _batchnorm,
    aten.relu.default: _activation("relu"),
    aten.hardtanh.default: _activation("relu6"),
    aten.clamp.default: _activation("relu6"),
    aten.max_pool2d_with_indices.default: _max_pool,
    aten.max_pool2d.default: _max_pool,
    aten.avg_pool2d.default: _avg_pool,
    aten.mean.dim: _mean,
    aten._adaptive_avg_pool2d.default: _adaptive,
    aten.adaptive_avg_pool2d.default: _adaptive,
    aten.add.Tensor: _add,
    aten.cat.default: _cat,
    aten.view.default: _reshape,
    aten._unsafe_view.default: _reshape,
    aten.reshape.default: _reshape,
    aten.squeeze.dims: _reshape,
    aten.clone.default: _identity,
    aten.alias.default: _identity,
    aten.detach.default: _identity,
    aten.dropout.default: _identity,
    aten.addmm.default: _linear,
    aten.mm.default: _linear,
    aten._softmax.default: _softmax,
}


def exported_to_layers(program: torch.export.ExportedProgram) -> LayerGraph:
    """The LayerGraph of an exported program (decomposed to core ATen first)."""
    with quiet_torch():
        program = program.run_decompositions()
    return _Importer(program).run()
