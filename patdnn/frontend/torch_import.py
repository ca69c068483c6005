"""torch.nn.Module / torch.export program → LayerGraph → patdnn IR.

The model is exported with `torch.export` (non-strict) and decomposed to core ATen, so one
importer serves live modules and saved `.pt2` programs alike. Each supported ATen op becomes a
`Layer`; parameters become numpy arrays. Anything else stops the import with an
`UnsupportedLayerError` naming the layer (its module path) and its type.

Constants: an op whose tensor operands are all constants (parameters, buffers, lifted tensor
constants, tensors built in `forward` like `torch.zeros`) is evaluated here with torch (constant
folding: `self.p.view(...)`, `self.b.expand(2, -1, -1, -1)`, `self.p * 2`). A constant used as a
layer's tensor operand (`conv(x) + self.p`, `torch.cat([y, self.buf], 1)`, `x + 1.0`) becomes a
`constant` layer (attrs: `value`, its float32 array) right before its first user; an add of a
constant of a broadcastable shape ((1, C, 1, 1), (C, 1, 1), a scalar) gets the constant broadcast
to the other operand's shape at import, so `nn.add` keeps one shape on every target. Broadcasting
a non-constant operand is refused.
"""

from __future__ import annotations

import inspect
import operator
import warnings
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch
from xdsl.dialects.builtin import ModuleOp

from patdnn.frontend.errors import ModelInputError, ModelTypeError, UnsupportedLayerError
from patdnn.frontend.graph import Layer, LayerGraph, global_avg_pool
from patdnn.frontend.to_ir import import_layer_graph
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
    """Imports `module` in eval mode, traced at `example_input`'s shape (a float32 torch tensor or
    numpy array, 4-d NCHW or 2-d NxK, every size >= 1). The caller's module keeps its training flags
    (they are restored after the export) and its weights.

    `weights_path`: write all weights to this blob (referenced by file name from the IR);
    None keeps them inline (small models, tests). `patterns`: per-conv (library, ids) chosen by the
    pruner, keyed by module path; convs without an entry have their patterns recovered from zeros.
    `schemes`: a pruning plan {layer name: Scheme} saying which op each named conv/linear layer
    becomes (see patdnn.frontend.to_ir); other layers are detected from their weights.
    """
    example_input = check_example_input(example_input)
    check_module(module, example_input)
    modes = {m: m.training for m in module.modules()}
    try:
        module.eval()
        with torch.no_grad(), quiet_torch():
            program = torch.export.export(module, (example_input,), strict=False)
    except Exception as e:  # noqa: BLE001 - a model torch.export cannot trace: one line, the cause chained
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise ModelInputError(f"torch.export cannot trace the model: {type(e).__name__}: {first}") from e
    finally:
        for m, training in modes.items():
            m.training = training
    return import_exported_program(program, weights_path, patterns, name, schemes)


INPUT_RULE = "a 4-d NCHW (N, C, H, W) or 2-d (N, K) float32 tensor, every size >= 1"


def check_example_input(example_input: Any) -> torch.Tensor:
    """The example input as a CPU float32 tensor (a numpy array is converted), or a one-line
    ModelInputError / ModelTypeError saying what is wrong with it."""
    if isinstance(example_input, np.ndarray):
        example_input = torch.from_numpy(np.ascontiguousarray(example_input))
    if not isinstance(example_input, torch.Tensor):
        raise ModelTypeError(
            f"the example input is a {type(example_input).__name__}, expected one tensor: {INPUT_RULE}"
        )
    shape = tuple(example_input.shape)
    if example_input.dtype != torch.float32:
        raise ModelInputError(f"the example input has dtype {example_input.dtype}, expected {INPUT_RULE} (x.float())")
    if len(shape) not in (2, 4) or min(shape, default=0) < 1:
        hint = " (add the batch dimension: x.unsqueeze(0))" if len(shape) in (1, 3) else ""
        raise ModelInputError(f"the example input has shape {shape}, expected {INPUT_RULE}{hint}")
    if example_input.device.type != "cpu":
        raise ModelInputError(f"the example input is on {example_input.device}: patdnn traces on the CPU (x.cpu())")
    return example_input


def check_module(module: Any, example_input: torch.Tensor) -> None:
    """One-line errors for what would fail deep inside torch.export or the importer: not a
    module, a forward taking other than one tensor, parameters off the CPU, non-zero padding modes."""
    if not isinstance(module, torch.nn.Module):
        raise ModelTypeError(f"the model is a {type(module).__name__}, expected a torch.nn.Module")
    try:
        inspect.signature(module.forward).bind(example_input)
    except TypeError as e:
        raise ModelInputError(f"{type(module).__name__}.forward does not take one tensor input: {e}") from None
    except ValueError:
        pass  # no signature to check (a builtin): torch.export will say
    for name, tensor in [*module.named_parameters(), *module.named_buffers()]:
        if tensor.device.type != "cpu":
            raise ModelInputError(f"the model's '{name}' is on {tensor.device}: patdnn traces on the CPU (model.cpu())")
    for name, layer in module.named_modules():
        mode = getattr(layer, "padding_mode", "zeros")
        if isinstance(layer, torch.nn.modules.conv._ConvNd) and mode != "zeros":
            raise UnsupportedLayerError(
                name or type(layer).__name__,
                type(layer).__name__,
                f"padding_mode='{mode}' (only zero padding is supported)",
            )


def import_exported_program(
    program: torch.export.ExportedProgram,
    weights_path: Path | None = None,
    patterns: dict[str, PatternInfo] | None = None,
    name: str = "model",
    schemes: Plan | None = None,
) -> ModuleOp:
    return import_layer_graph(exported_to_layers(program), weights_path, patterns, name, schemes)


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
        self.constant_names: dict[str, str] = {}  # constant tensor id → its parameter / buffer name
        self.materialised: set[str] = set()  # constant tensor ids a `constant` layer writes
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
                if not isinstance(results[0], torch.fx.Node):
                    raise UnsupportedLayerError("output", "model output", f"{type(results[0]).__name__}, not a tensor")
                output = self._tensor(results[0])
                if output in self.constants:  # the model returns a constant
                    self._materialise(output)
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
                if not isinstance(value, torch.Tensor):
                    continue  # e.g. a torchbind object or a constant scalar: not a tensor operand
                self.constants[node.name] = value.detach().cpu().float().numpy()
                self.constant_names[node.name] = str(spec.target)

    def _tensor(self, node: Any) -> str:
        name = node.name
        return self.alias.get(name, name)

    def _const(self, node: Any) -> np.ndarray | None:
        if isinstance(node, torch.fx.Node):
            return self.constants.get(self.alias.get(node.name, node.name))
        return None

    def _add(self, node: torch.fx.Node, kind: str, inputs: list[Any], **attrs: Any) -> None:
        tensors = [i if isinstance(i, str) else self._tensor(i) for i in inputs]
        for tensor in tensors:
            if tensor in self.constants:
                self._materialise(tensor)
        self.layers.append(Layer(_layer_name(node), kind, tensors, node.name, _shape(node), attrs))

    def _materialise(self, tensor: str) -> None:
        """A `constant` layer writing the constant `tensor` (once, before its first user)."""
        if tensor in self.materialised:
            return
        self.materialised.add(tensor)
        value = np.ascontiguousarray(self.constants[tensor], dtype=np.float32)
        name = self.constant_names.get(tensor, tensor)
        self.layers.append(Layer(name, "constant", [], tensor, tuple(value.shape), {"value": value}))

    def _constant_as(self, tensor: str, shape: tuple[int, ...]) -> str:
        """The id of the constant `tensor` broadcast to `shape` (a new constant when it differs)."""
        value = self.constants[tensor]
        if value.shape == shape:
            return tensor
        wide = f"{tensor}_as_{'x'.join(map(str, shape))}"
        if wide not in self.constants:
            self.constants[wide] = np.ascontiguousarray(np.broadcast_to(value, shape), dtype=np.float32)
            self.constant_names[wide] = self.constant_names.get(tensor, tensor)
        return wide

    def _fold(self, node: torch.fx.Node) -> bool:
        """Evaluates `node` with torch when every tensor it reads is a constant (see the module
        docstring); False when it reads a non-constant, is random, or its result is not a float tensor."""
        if node.op != "call_function" or not isinstance(node.target, torch._ops.OpOverload):
            return False
        if torch.Tag.nondeterministic_seeded in node.target.tags or "empty" in node.target.__name__:
            return False  # random or uninitialised values
        operands = [a for a in node.all_input_nodes]
        if any(self._const(a) is None for a in operands):
            return False
        if not operands and not any(isinstance(a, (int, float, list, tuple)) for a in node.args):
            return False
        convert = lambda a: torch.from_numpy(self._const(a)) if isinstance(a, torch.fx.Node) else a  # noqa: E731
        args = torch.fx.node.map_aggregate(node.args, convert)
        kwargs = torch.fx.node.map_aggregate(node.kwargs, convert)
        try:
            with torch.no_grad():
                value = node.target(*args, **kwargs)
        except Exception:  # noqa: BLE001 - not foldable here: the op's handler says what is wrong
            return False
        if not isinstance(value, torch.Tensor) or not value.is_floating_point():
            return False
        self.constants[node.name] = value.detach().cpu().float().contiguous().numpy()
        names = [self.constant_names.get(self._tensor(a)) for a in operands]
        if len(names) == 1 and names[0] is not None:
            self.constant_names[node.name] = names[0]
        return True

    @staticmethod
    def shape_of(node: torch.fx.Node) -> tuple[int, ...]:
        return _shape(node)

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
        if self._fold(node):
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
    imp.layers += global_avg_pool(_layer_name(node), imp._tensor(x), node.name, _shape(node))


def _adaptive(imp: _Importer, node: torch.fx.Node) -> None:
    imp._add(node, "adaptive_avg_pool", [node.args[0]])


def _add(imp: _Importer, node: torch.fx.Node) -> None:
    """x + y of one shape; a constant operand (a tensor or a number) is broadcast to the other's
    shape; `x - c` is `x + (-c)`. (All-constant adds were folded already.)"""
    a, b = node.args[:2]
    alpha = node.kwargs.get("alpha", 1)
    subtract = node.target is aten.sub.Tensor
    if not isinstance(a, torch.fx.Node):
        if subtract:
            raise imp._unsupported(node, "a number minus a tensor")
        a, b = b, a
    shape = _shape(node)
    operands = []
    for index, operand in enumerate((a, b)):
        if not isinstance(operand, torch.fx.Node):  # a Python number
            tensor = f"{node.name}_{'lhs' if index == 0 else 'rhs'}"
            imp.constants[tensor] = np.full((), float(operand), dtype=np.float32)
        else:
            tensor = imp._tensor(operand)
        if index == 1 and (alpha != 1 or subtract):
            if tensor not in imp.constants:
                raise imp._unsupported(node, f"{'subtracting' if subtract else 'alpha'} a non-constant tensor")
            scaled = f"{node.name}_scaled"
            imp.constants[scaled] = (imp.constants[tensor] * (-alpha if subtract else alpha)).astype(np.float32)
            imp.constant_names[scaled] = imp.constant_names.get(tensor, tensor)
            tensor = scaled
        if tensor in imp.constants:
            tensor = imp._constant_as(tensor, shape)
        elif imp.shape_of(operand) != shape:
            shapes = " + ".join(str(_shape(o)) if isinstance(o, torch.fx.Node) else "number" for o in (a, b))
            raise imp._unsupported(node, f"broadcasting add {shapes} (only a constant operand may be broadcast)")
        operands.append(tensor)
    imp._add(node, "add", operands, activation="none")


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
    if len(_shape(node)) != 2:
        raise imp._unsupported(
            node, f"softmax of a {len(_shape(node))}-d tensor {_shape(node)} (only 2-d NxK, e.g. after flatten)"
        )
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
    aten.sub.Tensor: _add,
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
    aten._log_softmax.default: lambda imp, node: _refuse(imp, node, "log_softmax is not supported (softmax is)"),
}


def _refuse(imp: _Importer, node: torch.fx.Node, detail: str) -> None:
    raise imp._unsupported(node, detail)


def exported_to_layers(program: torch.export.ExportedProgram) -> LayerGraph:
    """The LayerGraph of an exported program (decomposed to core ATen first)."""
    with quiet_torch():
        program = program.run_decompositions()
    return _Importer(program).run()
