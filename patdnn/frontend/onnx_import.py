"""ONNX model → LayerGraph → patdnn IR: the same layer graph as the torch importer builds, so the
same fusion (BN folding, activation fusion), pattern recovery and block-scheme detection follow.

Supported (default domain, opsets `OPSETS`): Conv (2-D, dilation 1, symmetric pads, auto_pad NOTSET
or VALID), BatchNormalization (inference), Relu, Clip (any constant bounds), Sigmoid, Tanh, LeakyRelu,
HardSwish, HardSigmoid (PyTorch's alpha 1/6), Gelu (both forms), PRelu (constant slopes, per channel or
one), MaxPool /
AveragePool (floor mode, symmetric pads), GlobalAveragePool, ReduceMean over contiguous axes, Add
(a constant after a MatMul is its bias), Sub, Mul, Div (two computed tensors, NumPy broadcasting), Concat (any axis), Gemm, MatMul
(a constant right-hand side), Flatten, Reshape / Squeeze / Unsqueeze (constant shape or axes),
Transpose (rank <= 6), Split, Slice (constant starts / ends / axes, positive steps),
LayerNormalization (constant scale and bias), Softmax / LogSoftmax (one axis), Identity, Dropout
(inference), Constant; initializers are constants, and a
Shape, or any op whose inputs are all constants, is evaluated at import (onnx.reference).

Shapes are static: the input's symbolic dims (a dynamic batch) take the shape asked for (the example
input's), then `onnx.shape_inference` fixes every other shape. Layer names are torch's module paths
where the exporter left them (a weight initializer `layer1.0.conv1.weight`, the dynamo exporter's
name scopes, the TorchScript exporter's node names `/layer1/layer1.0/conv1/Conv`), so pruning plans
and pattern files keyed by module name apply to ONNX files of a torch model too.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper
from xdsl.dialects.builtin import ModuleOp

from patdnn.dialects.nn_binary import MAX_BINARY_RANK
from patdnn.dialects.nn_layout import MAX_PERMUTE_RANK
from patdnn.dialects.nn_prelu import prelu_slopes
from patdnn.frontend.errors import ModelFileError, ModelTypeError, UnsupportedLayerError
from patdnn.frontend.files import WHAT, check_model_file
from patdnn.frontend.graph import Layer, LayerGraph, global_avg_pool
from patdnn.frontend.to_ir import import_layer_graph
from patdnn.sparsity.patterns import PatternInfo
from patdnn.sparsity.plan import Plan

OPSETS = (11, 23)  # the default-domain opsets read (both ends included)
_RANDOM = ("Random", "Bernoulli", "Multinomial")  # op types never evaluated at import
Dim = int | str  # a static dim, or the name of a symbolic one


def load_onnx(model: onnx.ModelProto | str | Path) -> onnx.ModelProto:
    """The ModelProto itself, or the one in the .onnx file `model` (external data beside it)."""
    if isinstance(model, onnx.ModelProto):
        return model
    if not isinstance(model, (str, Path)):
        raise ModelTypeError(
            f"the model is a {type(model).__name__}, expected a torch.nn.Module, an onnx.ModelProto "
            "or the path of an .onnx file"
        )
    kind = check_model_file(Path(model))
    if kind != "onnx":
        hint = ": pass torch.export.load(path).module()" if kind == "pt2" else ""
        raise ModelFileError(f"{model}: {WHAT[kind]}, not an ONNX model (a torch module or an .onnx file){hint}")
    return read_onnx(Path(model))


def read_onnx(path: Path) -> onnx.ModelProto:
    """The ModelProto in `path`, a file already identified as ONNX (check_model_file)."""
    try:
        return onnx.load(str(path))
    except Exception as e:  # e.g. external data missing
        raise ModelFileError(f"{path}: not a valid ONNX model ({_first_line(e)})") from None


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def _real_inputs(graph: onnx.GraphProto) -> list[onnx.ValueInfoProto]:
    initialized = {t.name for t in graph.initializer}
    return [i for i in graph.input if i.name not in initialized]


def onnx_input_shape(model: onnx.ModelProto) -> tuple[Dim, ...]:
    """The declared shape of the model's one input: ints, or names for symbolic dims."""
    inputs = _real_inputs(model.graph)
    if len(inputs) != 1:
        raise ModelFileError(f"the ONNX model has {len(inputs)} inputs, expected 1")
    dims = inputs[0].type.tensor_type.shape.dim
    return tuple(d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in dims)


def import_onnx(
    model: onnx.ModelProto | str | Path,
    input_shape: Sequence[int] | None = None,
    weights_path: Path | None = None,
    patterns: dict[str, PatternInfo] | None = None,
    name: str = "model",
    schemes: Plan | None = None,
) -> ModuleOp:
    """Imports an ONNX model (a ModelProto or a path) at `input_shape`.

    `input_shape` (e.g. the example input's shape) gives the symbolic dims their values and must
    agree with the static ones; None: the declared shape, which then must be static. The other
    arguments are import_module's (patdnn.frontend.torch_import).
    """
    graph = onnx_to_layers(load_onnx(model), input_shape)
    return import_layer_graph(graph, weights_path, patterns, name, schemes)


def onnx_to_layers(model: onnx.ModelProto, input_shape: Sequence[int] | None = None) -> LayerGraph:
    _check_opset(model)
    return _Importer(_static_shapes(model, input_shape)).run()


def _check_opset(model: onnx.ModelProto) -> None:
    version = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None)
    if version is None or not OPSETS[0] <= version <= OPSETS[1]:
        found = "no default-domain opset" if version is None else f"opset {version}"
        raise ModelFileError(
            f"the ONNX model uses {found}; patdnn reads opsets {OPSETS[0]}-{OPSETS[1]} "
            f"(convert it with onnx.version_converter.convert_version(model, {OPSETS[1]}))"
        )


def _static_shapes(model: onnx.ModelProto, input_shape: Sequence[int] | None) -> onnx.ModelProto:
    """A copy of the model whose input has `input_shape`, with every shape inferred anew."""
    declared = onnx_input_shape(model)
    shape = tuple(int(d) for d in input_shape) if input_shape is not None else None
    text = "x".join(str(d) for d in declared)
    if shape is None:
        if not all(isinstance(d, int) and d > 0 for d in declared):
            raise ModelFileError(f"the ONNX model's input has symbolic dims ({text}): give the input shape")
        shape = declared
    elif len(shape) != len(declared) or any(isinstance(d, int) and d > 0 and d != s for d, s in zip(declared, shape)):
        raise ModelFileError(
            f"the ONNX model's input is {text}, the input shape asked for is {'x'.join(map(str, shape))}"
        )
    fixed = onnx.ModelProto()
    fixed.CopyFrom(model)
    graph = fixed.graph
    del graph.value_info[:]
    for out in graph.output:
        out.type.tensor_type.ClearField("shape")
    dims = _real_inputs(graph)[0].type.tensor_type.shape.dim
    for d, size in zip(dims, shape):
        d.Clear()
        d.dim_value = size
    try:
        return onnx.shape_inference.infer_shapes(fixed, data_prop=True)
    except Exception as e:  # InferenceError, or a model protobuf cannot serialise
        raise ModelFileError(f"ONNX shape inference failed: {_first_line(e)}") from None


# ---------------------------------------------------------------------------------------------


def _attrs(node: onnx.NodeProto) -> dict[str, Any]:
    values = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    return {k: v.decode() if isinstance(v, bytes) else v for k, v in values.items()}


def _module_path(node: onnx.NodeProto) -> str:
    """torch's module path of a node, from the dynamo exporter's name scopes or the TorchScript
    exporter's node name; "" when neither says. The TorchScript exporter names each scope relative
    to an ancestor (`/features/features.1/conv/conv.0/Conv`: conv.0 is features.1's conv.0), so a
    part extends the latest earlier part it starts with, or else is a child of the last."""
    scopes = next((p.value for p in node.metadata_props if p.key == "pkg.torch.onnx.name_scopes"), None)
    if scopes is not None:
        try:
            names = [s for s in ast.literal_eval(scopes)[1:-1] if s]
        except (ValueError, SyntaxError):
            names = []
        return names[-1] if names else ""
    parts: list[tuple[str, str]] = []  # (part, the path it is relative to)
    for part in node.name.split("/")[1:-1] if node.name.startswith("/") else []:
        base = next((b for p, b in reversed(parts) if part.startswith(p + ".")), None)
        if base is None:
            base = parts[-1][1] + parts[-1][0] + "." if parts else ""
        parts.append((part, base))
    return parts[-1][1] + parts[-1][0] if parts else ""


class _Importer:
    def __init__(self, model: onnx.ModelProto):
        self.model = model
        graph = model.graph
        self.opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
        self.constants: dict[str, np.ndarray] = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
        self.shapes: dict[str, tuple[int | None, ...]] = {}
        for info in [*graph.input, *graph.value_info, *graph.output]:
            tensor = info.type.tensor_type
            if tensor.HasField("shape"):
                self.shapes[info.name] = tuple(
                    d.dim_value if d.HasField("dim_value") else None for d in tensor.shape.dim
                )
        self.uses: dict[str, int] = {}
        for node in graph.node:
            for name in node.input:
                self.uses[name] = self.uses.get(name, 0) + 1
        for out in graph.output:
            self.uses[out.name] = self.uses.get(out.name, 0) + 1
        self.layers: list[Layer] = []
        self.alias: dict[str, str] = {}
        self.runtime: set[str] = set()  # tensors computed at run time (the input, layer outputs)
        self.reinferred = -1  # the node index shapes were last inferred again at

    def run(self) -> LayerGraph:
        graph = self.model.graph
        source = _real_inputs(graph)[0]
        if source.type.tensor_type.elem_type != onnx.TensorProto.FLOAT:
            elem = onnx.TensorProto.DataType.Name(source.type.tensor_type.elem_type)
            raise ModelFileError(f"the ONNX model's input '{source.name}' is {elem}, expected FLOAT")
        self.runtime.add(source.name)
        for index, node in enumerate(graph.node):
            self.node, self.index = node, index
            if node.domain not in ("", "ai.onnx"):
                raise self.unsupported(f"an op of domain '{node.domain}'")
            if self.fold(node):
                continue
            handler = _HANDLERS.get(node.op_type)
            if handler is None:
                raise self.unsupported()
            handler(self, node)
        if len(graph.output) != 1:
            raise ModelFileError(f"the ONNX model has {len(graph.output)} outputs, expected 1")
        output = self.alias.get(graph.output[0].name, graph.output[0].name)
        if output not in self.runtime:
            raise ModelFileError(f"the ONNX model's output '{output}' is a constant (it does not depend on the input)")
        shape = self.shapes[source.name]
        return LayerGraph(source.name, tuple(int(d) for d in shape), self.layers, output)

    def fold(self, node: onnx.NodeProto) -> bool:
        """Evaluates a node at import when what it computes is known: the Shape of a tensor (every
        shape is static), or any deterministic op whose inputs are all constants (the shape
        arithmetic of `x.view(x.size(0), -1)` under a dynamic batch), with onnx.reference."""
        if node.op_type == "Shape" and node.input[0] not in self.constants:
            a = _attrs(node)
            dims = np.array(self.shape(node.input[0]), np.int64)
            self.constants[node.output[0]] = dims[a.get("start", 0) : a.get("end", len(dims))]
            return True
        inputs = [name for name in node.input if name]
        if node.op_type == "Constant" or not inputs or node.op_type.startswith(_RANDOM):
            return False
        if any(self.alias.get(name, name) not in self.constants for name in inputs):
            return False
        from onnx.reference import ReferenceEvaluator

        try:
            values = ReferenceEvaluator(node).run(None, {n: self.constants[self.alias.get(n, n)] for n in inputs})
        except Exception:  # noqa: BLE001 - not foldable here: the op's handler says what is wrong
            return False
        self.constants.update((name, np.asarray(v)) for name, v in zip(node.output, values) if name)
        return True

    def reinfer_shapes(self) -> None:
        """Shape inference again with what import has folded so far as initializers (Slice ends
        computed from a Shape, as torch's exporter writes `chunk`): shapes it could not know."""
        self.reinferred = self.index
        model = onnx.ModelProto()
        model.CopyFrom(self.model)
        graph = model.graph
        given = {t.name for t in graph.initializer}
        nodes = [n for n in graph.node if not all(o in self.constants for o in n.output if o)]
        del graph.node[:]
        graph.node.extend(nodes)
        graph.initializer.extend(
            numpy_helper.from_array(np.asarray(v), name) for name, v in self.constants.items() if name not in given
        )
        del graph.value_info[:]  # only the shapes known for sure: what inference found, or import set
        graph.value_info.extend(
            helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, shape)
            for name, shape in self.shapes.items()
            if name in self.runtime and all(d is not None for d in shape) and name not in {i.name for i in graph.input}
        )
        try:
            inferred = onnx.shape_inference.infer_shapes(model, data_prop=True)
        except Exception:  # noqa: BLE001 - the caller reports the unknown shape
            return
        for info in inferred.graph.value_info:
            tensor = info.type.tensor_type
            dims = tuple(d.dim_value if d.HasField("dim_value") else None for d in tensor.shape.dim)
            if tensor.HasField("shape") and all(d is not None for d in dims):
                self.shapes.setdefault(info.name, dims)
                if any(d is None for d in self.shapes[info.name]):
                    self.shapes[info.name] = dims

    # -- helpers for the handlers ---------------------------------------------------------------
    def unsupported(self, detail: str = "") -> UnsupportedLayerError:
        node = self.node
        return UnsupportedLayerError(node.name or f"{node.op_type}_{self.index}", f"ONNX {node.op_type}", detail)

    def tensor(self, name: str) -> str:
        name = self.alias.get(name, name)
        if name not in self.runtime:
            raise self.unsupported(f"input '{name}' is a constant or unknown (only computed tensors)")
        return name

    def const(self, name: str, what: str = "") -> np.ndarray | None:
        """The constant `name` ('' for an absent optional input: None); when `what` names it, a
        missing constant is an error."""
        value = self.constants.get(self.alias.get(name, name)) if name else None
        if value is None and what:
            raise self.unsupported(f"the {what} is not a constant")
        return value

    def weights(self, name: str, what: str) -> np.ndarray:
        return self.const(name, what).astype(np.float32)

    def shape(self, name: str) -> tuple[int, ...]:
        shape = self.shapes.get(self.alias.get(name, name))
        if (shape is None or any(d is None for d in shape)) and self.reinferred != self.index:
            self.reinfer_shapes()
            shape = self.shapes.get(self.alias.get(name, name))
        if shape is None or any(d is None for d in shape):
            raise self.unsupported(f"the shape of '{name}' is not static after shape inference")
        return tuple(int(d) for d in shape)

    def layer_name(self, weight: str = "") -> str:
        if weight.endswith(".weight"):
            return weight.removesuffix(".weight")
        return _module_path(self.node) or self.node.name or f"{self.node.op_type}_{self.index}"

    def add(self, kind: str, inputs: Sequence[str], named_by: str = "", **attrs: Any) -> Layer:
        """A layer writing the node's first output; `named_by`: its weight (see layer_name)."""
        output = self.node.output[0]
        layer = Layer(
            self.layer_name(named_by), kind, [self.tensor(i) for i in inputs], output, self.shape(output), attrs
        )
        self.layers.append(layer)
        self.runtime.add(output)
        return layer

    def only_first_output(self) -> None:
        if any(self.uses.get(name, 0) for name in self.node.output[1:]):
            raise self.unsupported("only the first output is supported")

    def spatial(self, attrs: dict[str, Any], kernel: Sequence[int]) -> tuple[tuple[int, int], tuple[int, int]]:
        """(stride, padding) of a conv or pool; dilation 1, symmetric pads, no SAME_* auto_pad."""
        auto_pad = attrs.get("auto_pad", "NOTSET")
        if auto_pad not in ("NOTSET", "VALID"):
            raise self.unsupported(f"auto_pad {auto_pad} (only explicit pads)")
        if len(kernel) != 2:
            raise self.unsupported(f"a {len(kernel)}-D kernel (only 2-D)")
        if any(d != 1 for d in attrs.get("dilations", [1, 1])):
            raise self.unsupported(f"dilations {list(attrs['dilations'])}")
        pads = [0, 0, 0, 0] if auto_pad == "VALID" else list(attrs.get("pads", [0, 0, 0, 0]))
        if pads[:2] != pads[2:]:
            raise self.unsupported(f"asymmetric pads {pads}")
        stride = tuple(attrs.get("strides", [1, 1]))
        return (int(stride[0]), int(stride[1])), (int(pads[0]), int(pads[1]))


# -- one ONNX op ----------------------------------------------------------------------------------


def _conv(imp: _Importer, node: onnx.NodeProto) -> None:
    a = _attrs(node)
    weight = imp.weights(node.input[1], "weight")
    bias = imp.weights(node.input[2], "bias") if len(node.input) > 2 and node.input[2] else None
    if weight.ndim != 4:
        raise imp.unsupported(f"a {weight.ndim - 2}-D convolution (only 2-D)")
    stride, padding = imp.spatial(a, a.get("kernel_shape", weight.shape[2:]))
    imp.add(
        "conv",
        node.input[:1],
        node.input[1],
        weight=weight,
        bias=bias,
        stride=stride,
        padding=padding,
        groups=int(a.get("group", 1)),
        activation="none",
    )


def _batchnorm(imp: _Importer, node: onnx.NodeProto) -> None:
    a = _attrs(node)
    if a.get("training_mode", 0):
        raise imp.unsupported("training mode")
    imp.only_first_output()
    scale, bias, mean, var = (imp.weights(n, "statistics") for n in node.input[1:5])
    imp.add("batchnorm", node.input[:1], weight=scale, bias=bias, mean=mean, var=var, eps=float(a.get("epsilon", 1e-5)))


def _relu(imp: _Importer, node: onnx.NodeProto) -> None:
    imp.add("activation", node.input[:1], activation="relu")


def _clip(imp: _Importer, node: onnx.NodeProto) -> None:
    def bound(i: int) -> float | None:
        return float(imp.const(node.input[i], "bound")) if len(node.input) > i and node.input[i] else None

    lo, hi = bound(1), bound(2)
    if lo is not None and hi is not None and lo > hi:
        raise imp.unsupported(f"Clip to [{lo}, {hi}]: the lower bound is above the upper one")
    kinds = {(0.0, 6.0): "relu6", (0.0, None): "relu", (None, None): None}
    kind = kinds.get((lo, hi), f"hardtanh({lo!r}, {hi!r})" if None not in (lo, hi) else None)
    if kind is None and lo is not None:
        kind = f"clamp_min({lo!r})"
    elif kind is None and hi is not None:
        kind = f"clamp_max({hi!r})"
    if kind is None:
        imp.alias[node.output[0]] = imp.tensor(node.input[0])  # no bound: the identity
    else:
        imp.add("activation", node.input[:1], activation=kind)


def _activation(kind: str) -> Callable[[_Importer, onnx.NodeProto], None]:
    """Sigmoid, Tanh, HardSwish: one activation of that kind."""

    def handler(imp: _Importer, node: onnx.NodeProto) -> None:
        imp.add("activation", node.input[:1], activation=kind)

    return handler


def _leaky_relu(imp: _Importer, node: onnx.NodeProto) -> None:
    slope = float(_attrs(node).get("alpha", 0.01))
    imp.add("activation", node.input[:1], activation=f"leaky_relu({slope!r})")


def _hard_sigmoid(imp: _Importer, node: onnx.NodeProto) -> None:
    """max(0, min(1, alpha x + beta)): PyTorch's hardsigmoid (alpha 1/6, beta 1/2) only."""
    a = _attrs(node)
    alpha, beta = float(a.get("alpha", 0.2)), float(a.get("beta", 0.5))
    if not (np.isclose(alpha, 1 / 6, rtol=1e-6) and beta == 0.5):
        raise imp.unsupported(f"HardSigmoid alpha {alpha}, beta {beta} (only PyTorch's 1/6, 1/2)")
    imp.add("activation", node.input[:1], activation="hardsigmoid")


def _gelu(imp: _Importer, node: onnx.NodeProto) -> None:
    approximate = _attrs(node).get("approximate", "none")
    if approximate not in ("none", "tanh"):
        raise imp.unsupported(f"Gelu approximate {approximate!r} (only 'none' or 'tanh')")
    imp.add("activation", node.input[:1], activation="gelu" if approximate == "none" else "gelu_tanh")


def _pool(kind: str) -> Callable[[_Importer, onnx.NodeProto], None]:
    def handler(imp: _Importer, node: onnx.NodeProto) -> None:
        a = _attrs(node)
        imp.only_first_output()
        if a.get("ceil_mode", 0):
            raise imp.unsupported("ceil_mode 1")
        kernel = tuple(int(k) for k in a["kernel_shape"])
        stride, padding = imp.spatial(a, kernel)
        if kind == "avg" and any(padding) and not a.get("count_include_pad", 0):
            raise imp.unsupported("padding with count_include_pad 0")
        imp.add("pool", node.input[:1], pool=kind, kernel=kernel, stride=stride, padding=padding)

    return handler


def _global_avg_pool(imp: _Importer, node: onnx.NodeProto) -> None:
    if len(imp.shape(node.input[0])) != 4:
        raise imp.unsupported("only N x C x H x W inputs")
    imp.add("adaptive_avg_pool", node.input[:1])


def _reduce_mean(imp: _Importer, node: onnx.NodeProto) -> None:
    a = _attrs(node)
    axes = a.get("axes")
    if axes is None and len(node.input) > 1 and node.input[1]:
        axes = imp.const(node.input[1], "axes").tolist()
    rank = len(imp.shape(node.input[0]))
    dims = sorted(d % rank for d in (axes if axes is not None else range(rank)))
    if (rank != 4 or dims != [2, 3]) and dims == list(range(dims[0], dims[-1] + 1)):
        imp.add("mean", node.input[:1], axes=tuple(dims))
        return
    if rank != 4 or dims != [2, 3]:
        raise imp.unsupported(f"mean over axes {axes} (only contiguous axes)")
    output = node.output[0]
    if a.get("keepdims", 1):
        imp.add("adaptive_avg_pool", node.input[:1])
        return
    imp.layers += global_avg_pool(imp.layer_name(), imp.tensor(node.input[0]), output, imp.shape(output))
    imp.runtime.add(output)


def _add(imp: _Importer, node: onnx.NodeProto) -> None:
    a, b = node.input[:2]
    if imp.const(a) is not None or imp.const(b) is not None:
        bias, source = (imp.const(a), b) if imp.const(a) is not None else (imp.const(b), a)
        producer = next((layer for layer in imp.layers if layer.output == imp.alias.get(source, source)), None)
        output = producer.output if producer is not None else None
        if producer is not None and producer.kind == "reshape" and producer.inputs[0].endswith(CHANNELS_LAST_PRODUCT):
            producer = next(layer for layer in imp.layers if layer.output == producer.inputs[0])
        if producer is None or producer.kind != "linear" or producer.attrs["bias"] is not None:
            raise imp.unsupported("adding a constant (only a MatMul's bias)")
        if imp.uses.get(output, 0) != 1:
            raise imp.unsupported("the MatMul before this bias has other users")
        out = producer.shape[-1]
        producer.attrs["bias"] = np.ascontiguousarray(np.broadcast_to(bias.astype(np.float32).reshape(-1), (out,)))
        imp.alias[node.output[0]] = output
        return
    if imp.shape(a) != imp.shape(b):
        return _binary("add")(imp, node)
    imp.add("add", [a, b], activation="none")


def _binary(kind: str) -> Callable[[_Importer, onnx.NodeProto], None]:
    """Add (broadcasting) / Sub / Mul / Div of two computed tensors, NumPy broadcasting (nn.binary)."""

    def handler(imp: _Importer, node: onnx.NodeProto) -> None:
        a, b = node.input[:2]
        if imp.const(a) is not None or imp.const(b) is not None:
            raise imp.unsupported(f"{node.op_type} with a constant operand (only of two computed tensors)")
        if len(imp.shape(node.output[0])) > MAX_BINARY_RANK:
            raise imp.unsupported(f"a rank-{len(imp.shape(node.output[0]))} result (element-wise ops take rank <= 4)")
        imp.add("binary", [a, b], op=kind, activation="none")

    return handler


def _concat(imp: _Importer, node: onnx.NodeProto) -> None:
    axis, rank = int(_attrs(node)["axis"]), len(imp.shape(node.output[0]))
    imp.add("concat", node.input, axis=axis % rank)


def _transpose(imp: _Importer, node: onnx.NodeProto) -> None:
    rank = len(imp.shape(node.input[0]))
    perm = tuple(int(p) for p in _attrs(node).get("perm", range(rank - 1, -1, -1)))
    if rank > MAX_PERMUTE_RANK:
        raise imp.unsupported(f"a transpose of a {rank}-d tensor (at most {MAX_PERMUTE_RANK}-d)")
    if perm == tuple(range(rank)):
        imp.alias[node.output[0]] = imp.tensor(node.input[0])
        return
    imp.add("permute", node.input[:1], perm=perm)


def _slice_to(imp: _Importer, source: str, output: str, axis: int, start: int, step: int) -> None:
    """A slice layer writing `output` (its shape from shape inference), or an alias when it keeps all."""
    if imp.shape(output) == imp.shape(source):
        imp.alias[output] = imp.tensor(source)
        return
    attrs = {"axis": axis, "start": start, "step": step}
    imp.layers.append(Layer(imp.layer_name(), "slice", [imp.tensor(source)], output, imp.shape(output), attrs))
    imp.runtime.add(output)


def _split(imp: _Importer, node: onnx.NodeProto) -> None:
    """Each output of a Split is a slice of the input (sizes from shape inference)."""
    rank = len(imp.shape(node.input[0]))
    axis, start = int(_attrs(node).get("axis", 0)) % rank, 0
    for output in node.output:
        _slice_to(imp, node.input[0], output, axis, start, 1)
        start += imp.shape(output)[axis]


def _slice(imp: _Importer, node: onnx.NodeProto) -> None:
    """Slice (opset >= 10: starts, ends, axes, steps as constant inputs): one slice per axis."""
    starts = imp.const(node.input[1], "starts").tolist()
    ends = imp.const(node.input[2], "ends").tolist()
    axes = imp.const(node.input[3], "axes").tolist() if len(node.input) > 3 and node.input[3] else range(len(starts))
    steps = imp.const(node.input[4], "steps").tolist() if len(node.input) > 4 and node.input[4] else [1] * len(starts)
    if any(step < 1 for step in steps):
        raise imp.unsupported(f"steps {steps} (only positive steps)")
    source = node.input[0]
    for index, (axis, start, end, step) in enumerate(zip(axes, starts, ends, steps)):
        shape = list(imp.shape(source))
        axis = axis % len(shape)
        start, end, _ = slice(start, end, step).indices(shape[axis])
        output = node.output[0] if index == len(starts) - 1 else f"{node.output[0]}_axis{axis}"
        shape[axis] = len(range(start, end, step))  # the shape, whatever shape inference could say
        imp.shapes[output] = tuple(shape)
        _slice_to(imp, source, output, axis, start, step)
        source = output


def _gather(imp: _Importer, node: onnx.NodeProto) -> None:
    """Gather of one constant index (`x[:, i]`): a slice of size 1, then the axis dropped."""
    rank = len(imp.shape(node.input[0]))
    axis, index = int(_attrs(node).get("axis", 0)) % rank, imp.const(node.input[1], "index")
    if index.ndim != 0:
        raise imp.unsupported(f"indices of shape {list(index.shape)} (only one constant index)")
    shape = list(imp.shape(node.input[0]))
    start = int(index) % shape[axis]
    shape[axis] = 1
    sliced = f"{node.output[0]}_slice"
    imp.shapes[sliced] = tuple(shape)
    _slice_to(imp, node.input[0], sliced, axis, start, 1)
    imp.add("reshape", [sliced])


def _prelu(imp: _Importer, node: onnx.NodeProto) -> None:
    """PRelu with a constant slope: one per channel (axis 1) or one shared (nn.prelu)."""
    slopes, shape = imp.weights(node.input[1], "slope"), imp.shape(node.input[0])
    flat = prelu_slopes(slopes, shape)
    if flat is None:
        raise imp.unsupported(f"slopes of shape {list(slopes.shape)} for a {list(shape)} input")
    imp.add("prelu", node.input[:1], weight=flat)


def _layer_norm(imp: _Importer, node: onnx.NodeProto) -> None:
    """LayerNormalization (opset 17) over the dims from `axis` on; Scale and B constants."""
    imp.only_first_output()
    a, rank = _attrs(node), len(imp.shape(node.input[0]))
    axis = int(a.get("axis", -1)) % rank
    count = int(np.prod(imp.shape(node.input[0])[axis:]))
    weight = np.broadcast_to(imp.weights(node.input[1], "scale").reshape(-1), (count,))
    bias = imp.weights(node.input[2], "bias") if len(node.input) > 2 and node.input[2] else None
    bias = None if bias is None else np.ascontiguousarray(np.broadcast_to(bias.reshape(-1), (count,)))
    imp.add(
        "layer_norm",
        node.input[:1],
        axes=tuple(range(axis, rank)),
        eps=float(a.get("epsilon", 1e-5)),
        weight=np.ascontiguousarray(weight),
        bias=bias,
    )


def _gemm(imp: _Importer, node: onnx.NodeProto) -> None:
    a = _attrs(node)
    if a.get("transA", 0) or a.get("alpha", 1.0) != 1.0 or a.get("beta", 1.0) != 1.0:
        raise imp.unsupported("transA, alpha or beta other than Gemm's defaults")
    weight = imp.weights(node.input[1], "weight")
    weight = weight if a.get("transB", 0) else weight.T
    bias = imp.const(node.input[2], "bias") if len(node.input) > 2 else None
    if bias is not None:
        bias = np.ascontiguousarray(np.broadcast_to(bias.astype(np.float32).reshape(-1), weight.shape[:1]))
    imp.add("linear", node.input[:1], node.input[1], weight=np.ascontiguousarray(weight), bias=bias, activation="none")


def _matmul(imp: _Importer, node: onnx.NodeProto) -> None:
    """A tensor times a 2-D constant: a linear layer (on the input flattened to 2-D and reshaped
    back when it has more dims: a channels-last linear layer)."""
    weight = imp.weights(node.input[1], "right-hand side")
    shape = imp.shape(node.input[0])
    if weight.ndim != 2 or len(shape) < 2:
        raise imp.unsupported("only an input of 2 or more dims times a 2-D constant")
    attrs = {"weight": np.ascontiguousarray(weight.T), "bias": None, "activation": "none"}
    if len(shape) == 2:
        imp.add("linear", node.input[:1], node.input[1], **attrs)
        return
    name, output = imp.layer_name(node.input[1]), node.output[0]
    rows, flat, product = int(np.prod(shape[:-1])), f"{output}_rows", f"{output}{CHANNELS_LAST_PRODUCT}"
    imp.layers += [
        Layer(name, "reshape", [imp.tensor(node.input[0])], flat, (rows, shape[-1])),
        Layer(name, "linear", [flat], product, (rows, weight.shape[1]), attrs),
        Layer(name, "reshape", [product], output, imp.shape(output)),
    ]
    imp.runtime.add(output)


CHANNELS_LAST_PRODUCT = "_product"  # suffix of the linear layer's output in a channels-last MatMul


def _reshape(imp: _Importer, node: onnx.NodeProto) -> None:
    if node.op_type == "Reshape":
        imp.const(node.input[1], "shape")
    elif node.op_type in ("Squeeze", "Unsqueeze") and len(node.input) > 1:
        imp.const(node.input[1], "axes")
    imp.add("reshape", node.input[:1])


def _softmax(imp: _Importer, node: onnx.NodeProto) -> None:
    """Softmax / LogSoftmax along one axis (before opset 13: over the flattened axes from `axis`
    on, the same only when that is the last)."""
    rank = len(imp.shape(node.input[0]))
    axis = int(_attrs(node).get("axis", -1 if imp.opset >= 13 else 1)) % rank
    if imp.opset < 13 and axis != rank - 1:
        raise imp.unsupported(f"opset {imp.opset} softmax over the flattened axes {axis}.. (only the last)")
    imp.add("softmax", node.input[:1], axis=axis, log=node.op_type == "LogSoftmax")


def _identity(imp: _Importer, node: onnx.NodeProto) -> None:
    if node.op_type == "Dropout":
        imp.only_first_output()
        if len(node.input) > 2 and node.input[2] and imp.const(node.input[2], "training_mode").any():
            raise imp.unsupported("training mode")
    source = imp.alias.get(node.input[0], node.input[0])
    if source in imp.constants:
        imp.constants[node.output[0]] = imp.constants[source]
        return
    imp.alias[node.output[0]] = imp.tensor(source)


def _constant(imp: _Importer, node: onnx.NodeProto) -> None:
    (attr,) = node.attribute
    value = helper.get_attribute_value(attr)
    imp.constants[node.output[0]] = (
        numpy_helper.to_array(value) if isinstance(value, onnx.TensorProto) else np.asarray(value)
    )


_HANDLERS: dict[str, Callable[[_Importer, onnx.NodeProto], None]] = {
    "Conv": _conv,
    "BatchNormalization": _batchnorm,
    "Relu": _relu,
    "Clip": _clip,
    "Sigmoid": _activation("sigmoid"),
    "Tanh": _activation("tanh"),
    "HardSwish": _activation("hardswish"),
    "HardSigmoid": _hard_sigmoid,
    "LeakyRelu": _leaky_relu,
    "PRelu": _prelu,
    "Gelu": _gelu,
    "MaxPool": _pool("max"),
    "AveragePool": _pool("avg"),
    "GlobalAveragePool": _global_avg_pool,
    "ReduceMean": _reduce_mean,
    "Add": _add,
    "Sub": _binary("sub"),
    "Mul": _binary("mul"),
    "Div": _binary("div"),
    "Concat": _concat,
    "Gemm": _gemm,
    "MatMul": _matmul,
    "Flatten": _reshape,
    "Reshape": _reshape,
    "Squeeze": _reshape,
    "Unsqueeze": _reshape,
    "Softmax": _softmax,
    "Gather": _gather,
    "LogSoftmax": _softmax,
    "Transpose": _transpose,
    "Split": _split,
    "Slice": _slice,
    "LayerNormalization": _layer_norm,
    "Identity": _identity,
    "Dropout": _identity,
    "Constant": _constant,
}
