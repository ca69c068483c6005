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

from patdnn.dialects.common import window_out
from patdnn.dialects.nn_binary import MAX_BINARY_RANK
from patdnn.dialects.nn_layout import MAX_PERMUTE_RANK
from patdnn.dialects.nn_prelu import prelu_slopes
from patdnn.frontend.activation_patterns import recognise_activations
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
        # multi-result ops whose results are layers of their own (split): node name → the
        # handler making result i of the getitem node reading it
        self.results: dict[str, Callable[[torch.fx.Node, int], None]] = {}
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
            if args[0].name in self.results:
                self.results[args[0].name](node, args[1])
                return
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
    """A convolution (any dilation), or a transposed one (`conv_transpose`: weight Cin x Cout/groups
    x KH x KW, attrs output_padding)."""
    x, w, b, stride, padding, dilation, transposed, output_padding, groups = node.args
    weight, bias = imp._const(w), imp._const(b) if b is not None else None
    if weight is None:
        raise imp._unsupported(node, "the weight is not a constant")
    if len(stride) != 2:
        raise imp._unsupported(node, f"a {len(stride)}-d convolution (only 2-d)")
    window = {"stride": tuple(stride), "padding": tuple(padding), "dilation": tuple(dilation)}
    if transposed:
        window["output_padding"] = tuple(output_padding)
    kind = "conv_transpose" if transposed else "conv"
    imp._add(node, kind, [x], weight=weight, bias=bias, groups=int(groups), activation="none", **window)


def _batchnorm(imp: _Importer, node: torch.fx.Node) -> None:
    """An inference BatchNorm; affine=False (no weight / bias) is γ = 1, β = 0."""
    x, w, b, mean, var, _, eps = node.args
    channels = _shape(node)[1]
    consts = [imp._const(a) if a is not None else np.full(channels, v, np.float32) for a, v in ((w, 1), (b, 0))]
    consts += [imp._const(mean), imp._const(var)]
    if any(c is None for c in consts):
        raise imp._unsupported(node, "BatchNorm statistics are not constants")
    imp._add(node, "batchnorm", [x], weight=consts[0], bias=consts[1], mean=consts[2], var=consts[3], eps=float(eps))


def _activation(kind: str) -> Callable[[_Importer, torch.fx.Node], None]:
    """A parameterless activation (relu, sigmoid, tanh, silu, hardswish, hardsigmoid)."""

    def handler(imp: _Importer, node: torch.fx.Node) -> None:
        imp._add(node, "activation", [node.args[0]], activation=kind)

    return handler


def _gelu(imp: _Importer, node: torch.fx.Node) -> None:
    approximate = node.kwargs.get("approximate", node.args[1] if len(node.args) > 1 else "none")
    if approximate not in ("none", "tanh"):
        raise imp._unsupported(node, f"GELU approximate={approximate!r} (only 'none' or 'tanh')")
    imp._add(node, "activation", [node.args[0]], activation="gelu" if approximate == "none" else "gelu_tanh")


def _leaky_relu(imp: _Importer, node: torch.fx.Node) -> None:
    slope = node.kwargs.get("negative_slope", node.args[1] if len(node.args) > 1 else 0.01)
    imp._add(node, "activation", [node.args[0]], activation=f"leaky_relu({float(slope)!r})")


def _clamp(imp: _Importer, node: torch.fx.Node) -> None:
    """clamp / clamp_min / clamp_max / hardtanh: ReLU's [0, ∞) and ReLU6's [0, 6] keep their fast
    kinds; any other bounds are hardtanh(lo, hi), or clamp_min / clamp_max with one bound."""
    x = node.args[0]
    if node.target is aten.hardtanh.default:
        names, defaults = ("min_val", "max_val"), [-1.0, 1.0]
    else:
        names, defaults = ("min", "max"), [None, None]
    given = list(node.args[1:3]) + defaults[len(node.args) - 1 :]
    if node.target is aten.clamp_max.default:
        given = [None, node.args[1]]
    lo, hi = (node.kwargs.get(name, value) for name, value in zip(names, given, strict=True))
    if any(isinstance(v, torch.fx.Node) for v in (lo, hi)):
        raise imp._unsupported(node, "clamp to tensor bounds (only numbers)")
    lo, hi = (None if v is None else float(v) for v in (lo, hi))
    if lo is not None and hi is not None and lo > hi:
        raise imp._unsupported(node, f"clamp to [{lo}, {hi}]: the lower bound is above the upper one")
    kinds = {(0.0, None): "relu", (0.0, 6.0): "relu6", (None, None): None}
    kind = kinds.get((lo, hi), f"hardtanh({lo!r}, {hi!r})")
    if hi is None and lo is not None and kind != "relu":
        kind = f"clamp_min({lo!r})"
    elif lo is None and hi is not None:
        kind = f"clamp_max({hi!r})"
    if kind is None:
        imp.alias[node.name] = imp._tensor(x)  # no bound: the identity
    else:
        imp._add(node, "activation", [x], activation=kind)


def _pair(value: Any, default: tuple[int, int]) -> tuple[int, int]:
    """A pooling argument as two integers (PyTorch allows one for both axes, or none)."""
    if not value:
        return default
    values = [int(v) for v in value]
    return (values[0], values[0]) if len(values) == 1 else (values[0], values[1])


def _ceil_matters(node: torch.fx.Node, kernel, stride, padding, dilation=(1, 1)) -> bool:
    """Whether ceil_mode gives another output size than floor mode (else the flag changes nothing:
    floor-mode windows never run past the padded input, and the runtime keeps its fast pooling)."""
    size, inputs = _shape(node)[2:], _shape(node.args[0])[2:]
    floor = [window_out(n, p, k, s, d) for n, p, k, s, d in zip(inputs, padding, kernel, stride, dilation)]
    return list(size) != floor


def _max_pool(imp: _Importer, node: torch.fx.Node) -> None:
    args = list(node.args) + [None] * 6
    x, kernel, stride, padding, dilation, ceil = args[:6]
    kernel = _pair(kernel, (1, 1))
    window = {"kernel": kernel, "stride": _pair(stride, kernel), "padding": _pair(padding, (0, 0))}
    window["dilation"] = _pair(dilation, (1, 1))
    imp._add(node, "pool", [x], pool="max", ceil_mode=bool(ceil) and _ceil_matters(node, **window), **window)


def _avg_pool(imp: _Importer, node: torch.fx.Node) -> None:
    args = list(node.args) + [None] * 7
    x, kernel, stride, padding, ceil, include_pad, divisor = args[:7]
    if divisor is not None:
        raise imp._unsupported(node, f"divisor_override={divisor} (average pooling divides by its window)")
    kernel = _pair(kernel, (1, 1))
    window = {"kernel": kernel, "stride": _pair(stride, kernel), "padding": _pair(padding, (0, 0))}
    ceil = bool(ceil) and _ceil_matters(node, **window)
    # count_include_pad=False only changes windows that overlap the padding
    exclude = include_pad is False and any(window["padding"])
    imp._add(node, "pool", [x], pool="avg", ceil_mode=ceil, exclude_padding=exclude, **window)


def _upsample(mode: str) -> Callable[[_Importer, torch.fx.Node], None]:
    """aten.upsample_{nearest,bilinear}2d (.vec: output size or scale factors; .default: output size
    and optional scales). The scale factors, when given, set PyTorch's source index (1 / scale)."""

    def handler(imp: _Importer, node: torch.fx.Node) -> None:
        args = list(node.args) + [None] * 5
        x = args[0]
        if node.target in (aten.upsample_nearest2d.vec, aten.upsample_bilinear2d.vec):
            align = bool(args[2]) if mode == "bilinear" else False
            scales = args[3] if mode == "bilinear" else args[2]
        else:
            align = bool(args[2]) if mode == "bilinear" else False
            scales = args[3:5] if mode == "bilinear" else args[2:4]
            scales = None if any(s is None for s in scales) else scales
        if len(_shape(node)) != 4:
            raise imp._unsupported(node, f"{len(_shape(node))}-d upsampling (only NCHW)")
        scale = None if scales is None else tuple(float(s) for s in scales)
        imp._add(node, "upsample", [x], mode=mode, align_corners=align, scale=scale)

    return handler


def _mean(imp: _Importer, node: torch.fx.Node) -> None:
    """Over H and W of NCHW: a global average pool; over other contiguous dims: nn.mean."""
    x = node.args[0]
    rank = len(_shape(x))
    dims = sorted(d % rank for d in (node.args[1] if len(node.args) > 1 and node.args[1] else range(rank)))
    if rank == 4 and dims == [2, 3]:
        imp.layers += global_avg_pool(_layer_name(node), imp._tensor(x), node.name, _shape(node))
    elif dims == list(range(dims[0], dims[-1] + 1)):
        imp._add(node, "mean", [x], axes=tuple(dims))
    else:
        raise imp._unsupported(node, f"mean over dims {list(node.args[1])} (only contiguous dims)")


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
            return _binary(imp, node)  # a number minus a tensor
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
                if alpha != 1:
                    raise imp._unsupported(node, "alpha times a non-constant tensor")
                return _binary(imp, node)  # tensor - tensor
            scaled = f"{node.name}_scaled"
            imp.constants[scaled] = (imp.constants[tensor] * (-alpha if subtract else alpha)).astype(np.float32)
            imp.constant_names[scaled] = imp.constant_names.get(tensor, tensor)
            tensor = scaled
        if tensor in imp.constants:
            tensor = imp._constant_as(tensor, shape)
        elif imp.shape_of(operand) != shape:
            return _binary(imp, node)  # a broadcasting add: nn.binary
        operands.append(tensor)
    imp._add(node, "add", operands, activation="none")


def _binary(imp: _Importer, node: torch.fx.Node) -> None:
    """add / sub / mul / div with NumPy broadcasting (`nn.binary`): either operand a tensor, a
    constant tensor (kept at its own shape) or a number (a constant of shape [1])."""
    kind = {aten.add.Tensor: "add", aten.sub.Tensor: "sub", aten.mul.Tensor: "mul", aten.div.Tensor: "div"}
    kind |= {aten.rsub.Scalar: "sub", aten.div.Scalar: "div", aten.mul.Scalar: "mul"}
    kind |= {aten.add.Scalar: "add", aten.sub.Scalar: "sub"}
    a, b = node.args[:2]
    if node.target is aten.rsub.Scalar:
        a, b = b, a
    if node.kwargs.get("alpha", 1) != 1 or node.kwargs.get("rounding_mode") is not None:
        raise imp._unsupported(node, f"{kind[node.target]} with {dict(node.kwargs)} (only plain arithmetic)")
    if len(_shape(node)) > MAX_BINARY_RANK:
        raise imp._unsupported(node, f"a rank-{len(_shape(node))} result (element-wise ops take rank <= 4)")
    operands = []
    for index, operand in enumerate((a, b)):
        if isinstance(operand, torch.fx.Node):
            operands.append(imp._tensor(operand))
            continue
        tensor = f"{node.name}_{'lhs' if index == 0 else 'rhs'}"
        imp.constants[tensor] = np.full((1,), float(operand), dtype=np.float32)
        operands.append(tensor)
    imp._add(node, "binary", operands, op=kind[node.target], activation="none")


def _cat(imp: _Importer, node: torch.fx.Node) -> None:
    tensors, dim = node.args[0], node.args[1] if len(node.args) > 1 else 0
    kept = [t for t in tensors if not isinstance(t, torch.fx.Node) or 0 not in _shape(t)]  # torch allows empty parts
    imp._add(node, "concat", kept, axis=dim % len(_shape(node)))


def _permute(imp: _Importer, node: torch.fx.Node) -> None:
    rank = len(_shape(node))
    if node.target is aten.transpose.int:
        perm = list(range(rank))
        a, b = node.args[1] % rank, node.args[2] % rank
        perm[a], perm[b] = perm[b], perm[a]
    else:
        perm = [d % rank for d in node.args[1]]
    if rank > MAX_PERMUTE_RANK:
        raise imp._unsupported(node, f"a permute of a {rank}-d tensor (at most {MAX_PERMUTE_RANK}-d)")
    if perm == list(range(rank)):
        imp.alias[node.name] = imp._tensor(node.args[0])
        return
    imp._add(node, "permute", [node.args[0]], perm=tuple(perm))


def _slice_layer(imp: _Importer, node: torch.fx.Node, x: Any, axis: int, start: int, step: int) -> None:
    """A `slice` layer writing node's output, or an alias when it takes all of x."""
    if 0 in _shape(node):
        raise imp._unsupported(node, f"an empty slice {_shape(node)}")
    if _shape(node) == _shape(x):
        imp.alias[node.name] = imp._tensor(x)
        return
    imp._add(node, "slice", [x], axis=axis, start=start, step=step)


def _slice(imp: _Importer, node: torch.fx.Node) -> None:
    """aten.slice.Tensor(x, dim, start, end, step); the output's size gives the end."""
    args = list(node.args) + [None] * 5
    x, dim, start, _, step = args[:5]
    size, rank = _shape(x), len(_shape(x))
    axis = (dim or 0) % rank
    start = 0 if start is None else start
    start = max(0, min(start + size[axis] if start < 0 else start, size[axis]))
    _slice_layer(imp, node, x, axis, start, step or 1)


def _select(imp: _Importer, node: torch.fx.Node) -> None:
    """x.select(dim, i) (`x[:, i]`): a slice of size 1, then the dim dropped."""
    x, dim, index = node.args[:3]
    size = _shape(x)
    axis = dim % len(size)
    kept = list(size)
    kept[axis] = 1
    sliced = f"{node.name}_slice"
    attrs = {"axis": axis, "start": index % size[axis], "step": 1}
    imp.layers.append(Layer(_layer_name(node), "slice", [imp._tensor(x)], sliced, tuple(kept), attrs))
    imp._add(node, "reshape", [sliced])


def _split(imp: _Importer, node: torch.fx.Node) -> None:
    """split / split_with_sizes / chunk: result i (a getitem) is a slice along dim."""
    x = node.args[0]
    dim = node.args[2] if len(node.args) > 2 else node.kwargs.get("dim", 0)
    axis = dim % len(_shape(x))
    sizes = [int(v.shape[axis]) for v in node.meta["val"]]
    starts = [sum(sizes[:i]) for i in range(len(sizes))]

    def result(getitem: torch.fx.Node, index: int) -> None:
        _slice_layer(imp, getitem, x, axis, starts[index], 1)

    imp.results[node.name] = result


def _layer_norm(imp: _Importer, node: torch.fx.Node) -> None:
    """aten.native_layer_norm over the last len(normalized_shape) dims (result 0; mean and rstd,
    results 1 and 2, are refused if used)."""
    x, normalized, w, b, eps = node.args[:5]
    rank, count = len(_shape(x)), int(np.prod(node.args[1]))
    weight, bias = (imp._const(a) if a is not None else None for a in (w, b))
    if (w is not None and weight is None) or (b is not None and bias is None):
        raise imp._unsupported(node, "the LayerNorm weight or bias is not a constant")
    if weight is None and bias is not None:
        weight = np.ones(count, np.float32)
    axes = tuple(range(rank - len(normalized), rank))
    flat = [None if v is None else np.ascontiguousarray(v, np.float32).reshape(-1) for v in (weight, bias)]
    imp._add(node, "layer_norm", [x], axes=axes, eps=float(eps), weight=flat[0], bias=flat[1])


def _prelu(imp: _Importer, node: torch.fx.Node) -> None:
    """aten.prelu (put back from where(x > 0, x, w * x)): a constant slope, one per channel (axis 1)
    or one shared."""
    x, w = node.args[:2]
    slopes = imp._const(w)
    if slopes is None:
        raise imp._unsupported(node, "the PReLU slope is not a constant")
    flat = prelu_slopes(slopes, _shape(x))
    if flat is None:
        raise imp._unsupported(node, f"PReLU slopes of shape {list(slopes.shape)} for a {list(_shape(x))} input")
    imp._add(node, "prelu", [x], weight=flat)


def _reshape(imp: _Importer, node: torch.fx.Node) -> None:
    imp._add(node, "reshape", [node.args[0]])


def _identity(imp: _Importer, node: torch.fx.Node) -> None:
    imp.alias[node.name] = imp._tensor(node.args[0])


def _as_strided(imp: _Importer, node: torch.fx.Node) -> None:
    """`as_strided` to the input's own sizes and strides (what a mean over a channels-last view
    decomposes to) changes nothing in patdnn's logical layout; any other view of memory is refused."""
    x, size, stride = node.args[:3]
    offset = node.args[3] if len(node.args) > 3 else node.kwargs.get("storage_offset")
    source = x.meta.get("val")
    # strides of size-1 dims address nothing: only the others must be the input's own
    same = source is not None and tuple(size) == tuple(source.shape)
    same = same and all(n == 1 or a == b for n, a, b in zip(size, stride, source.stride()))
    if not same or offset not in (None, 0):
        raise imp._unsupported(node, f"as_strided to sizes {list(size)} strides {list(stride)} (a view of memory)")
    _identity(imp, node)


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


def _expand(imp: _Importer, node: torch.fx.Node) -> None:
    """An expand that keeps the shape is the tensor itself; broadcasting a tensor is refused."""
    if _shape(node) != _shape(node.args[0]):
        raise imp._unsupported(node, f"broadcasting a tensor {_shape(node.args[0])} to {_shape(node)}")
    imp.alias[node.name] = imp._tensor(node.args[0])


def _bmm(imp: _Importer, node: torch.fx.Node) -> None:
    """x (B, M, K) @ w (B, K, N), w a constant equal in every batch (torch's matmul of a tensor
    with a weight, e.g. a linear layer on a permuted tensor): a linear layer on the B*M rows."""
    x, w = node.args[:2]
    weight = imp._const(w)
    if weight is None or imp._const(x) is not None or not (weight == weight[:1]).all():
        raise imp._unsupported(node, "a batched matmul (only a tensor times one constant matrix)")
    (batch, m, k), n = _shape(x), weight.shape[2]
    rows, product, name = f"{node.name}_rows", f"{node.name}_product", _layer_name(node)
    attrs = {"weight": np.ascontiguousarray(weight[0].T), "bias": None, "activation": "none"}
    imp.layers += [
        Layer(name, "reshape", [imp._tensor(x)], rows, (batch * m, k)),
        Layer(name, "linear", [rows], product, (batch * m, n), attrs),
        Layer(name, "reshape", [product], node.name, (batch, m, n)),
    ]


def _softmax(imp: _Importer, node: torch.fx.Node) -> None:
    """softmax / log_softmax along any dim of any tensor."""
    x, dim = node.args[:2]
    rank = len(_shape(node))
    imp._add(node, "softmax", [x], axis=dim % rank, log=node.target is aten._log_softmax.default)


_HANDLERS: dict[Any, Callable[[_Importer, torch.fx.Node], None]] = {
    aten.convolution.default: _conv,
    aten._native_batch_norm_legit_no_training.default: _batchnorm,
    aten.relu.default: _activation("relu"),
    aten.sigmoid.default: _activation("sigmoid"),
    aten.tanh.default: _activation("tanh"),
    aten.silu.default: _activation("silu"),
    aten.hardswish.default: _activation("hardswish"),
    aten.hardsigmoid.default: _activation("hardsigmoid"),
    aten.gelu.default: _gelu,
    aten.leaky_relu.default: _leaky_relu,
    aten.hardtanh.default: _clamp,
    aten.clamp.default: _clamp,
    aten.clamp_min.default: _clamp,
    aten.clamp_max.default: _clamp,
    aten.max_pool2d_with_indices.default: _max_pool,
    aten.max_pool2d.default: _max_pool,
    aten.avg_pool2d.default: _avg_pool,
    aten.upsample_nearest2d.vec: _upsample("nearest"),
    aten.upsample_nearest2d.default: _upsample("nearest"),
    aten.upsample_bilinear2d.vec: _upsample("bilinear"),
    aten.upsample_bilinear2d.default: _upsample("bilinear"),
    aten.mean.dim: _mean,
    aten._adaptive_avg_pool2d.default: _adaptive,
    aten.adaptive_avg_pool2d.default: _adaptive,
    aten.add.Tensor: _add,
    aten.sub.Tensor: _add,
    aten.mul.Tensor: _binary,
    aten.div.Tensor: _binary,
    aten.mul.Scalar: _binary,
    aten.div.Scalar: _binary,
    aten.rsub.Scalar: _binary,
    aten.cat.default: _cat,
    aten.view.default: _reshape,
    aten._unsafe_view.default: _reshape,
    aten.reshape.default: _reshape,
    aten.squeeze.dims: _reshape,
    aten.squeeze.dim: _reshape,
    aten.squeeze.default: _reshape,
    aten.unsqueeze.default: _reshape,
    aten.flatten.using_ints: _reshape,
    aten.permute.default: _permute,
    aten.transpose.int: _permute,
    aten.slice.Tensor: _slice,
    aten.select.int: _select,
    aten.split_with_sizes.default: _split,
    aten.split.Tensor: _split,
    aten.native_layer_norm.default: _layer_norm,
    aten.prelu.default: _prelu,
    aten.expand.default: _expand,
    aten.bmm.default: _bmm,
    aten.clone.default: _identity,
    aten.as_strided.default: _as_strided,
    aten.alias.default: _identity,
    aten.detach.default: _identity,
    aten.dropout.default: _identity,
    aten.addmm.default: _linear,
    aten.mm.default: _linear,
    aten._softmax.default: _softmax,
    aten._log_softmax.default: _softmax,
}


def exported_to_layers(program: torch.export.ExportedProgram) -> LayerGraph:
    """The LayerGraph of an exported program (decomposed to core ATen first)."""
    with quiet_torch():
        program = program.run_decompositions()
    recognise_activations(program.graph)
    return _Importer(program).run()
