"""IR module → LR text plus one fresh weights blob; and `format_lr` (LrModel → text).

The printer reads every weight array from the IR (inline `dense<…>` or the `#pattern.blob` files
it references, resolved against `weights_dir` and sha256-checked), and writes them with the
pattern ids to one blob of 64-byte aligned segments next to the LR file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from xdsl.dialects import func, memref
from xdsl.dialects.builtin import (
    DenseIntOrFPElementsAttr,
    DictionaryAttr,
    Float32Type,
    IntegerAttr,
    MemRefType,
    ModuleOp,
    StringAttr,
)
from xdsl.ir import Attribute, Operation, SSAValue

from patdnn.dialects.common import BlobRefAttr, dilation_of, kernel_ids
from patdnn.lr.blob import read_checked, segment
from patdnn.lr.errors import LrError
from patdnn.lr.fields import SIMPLE_FIELDS
from patdnn.lr.syntax import (
    INPUT,
    LAYER_ATTR,
    LR_NAME_OF_IR,
    MAGIC,
    OPS,
    OPTIONAL_FIELDS,
    OUTPUT,
    PRUNE,
    PRUNE_ATTR,
    SCHEDULE,
    SCHEDULE_ATTR,
    SCHEDULE_KEYS,
    BlockCount,
    KernelCount,
    Layer,
    Library,
    LrModel,
    Span,
    Storage,
    connectivity_ratio,
)
from patdnn.sparsity.blob import BlobWriter, sha256
from patdnn.sparsity.scheme import SchemeError, parse_scheme


def print_lr(module: ModuleOp, weights_dir: Path | str, out_lr: Path | str) -> Path:
    """Writes `out_lr` and its blob `<out_lr name>.weights` beside it; returns `out_lr`."""
    out_lr = Path(out_lr)
    model, payload = module_to_lr(module, Path(weights_dir), out_lr.name + ".weights")
    out_lr.parent.mkdir(parents=True, exist_ok=True)
    (out_lr.parent / model.weights_file).write_bytes(payload)
    out_lr.write_text(format_lr(model))
    return out_lr


# -- LrModel → text --------------------------------------------------------------------------------


def _list(values: Any) -> str:
    return "[" + ", ".join(str(v) for v in values) + "]"


def _string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _format_field(name: str, value: Any) -> str:
    if name in ("stride", "padding", "kernel"):
        return f"{name} {_list(value)}"
    if isinstance(value, Library):
        masks = ", ".join(_string(m) for m in value.masks)
        return f"library {value.size}x{value.size} [{masks}]" + (" off_centre" if value.off_centre else "")
    if isinstance(value, KernelCount):
        ratio = "inf" if value.ratio == float("inf") else f"{value.ratio:.2f}"
        return f"kernels {value.kept} of {value.total} connectivity {ratio}x"
    if isinstance(value, BlockCount):
        return f"block {value.rows}x{value.cols} columns {value.kept} of {value.total}"
    if isinstance(value, Storage):
        spans = [
            ("weights", value.weights),
            ("bias", value.bias),
            ("ids", value.ids),
            ("columns", value.columns),
            ("offsets", value.offsets),
        ]
        return f"storage {value.kind} " + " ".join(f"{k} @{s.offset} +{s.size}" for k, s in spans if s is not None)
    if name == SCHEDULE:
        pairs = [(k, value[k]) for k in SCHEDULE_KEYS if k in value]
        return " ".join(["schedule"] + [f"{k} {_string(v) if isinstance(v, str) else v}" for k, v in pairs])
    return f"{name} {value}"


def _format_layer(layer: Layer) -> str:
    lines = [tuple(f for f in line if f in layer.fields) for line in OPS[layer.op].lines]
    lines += [(f,) for f in OPTIONAL_FIELDS if f in layer.fields]
    lines = [" ".join(_format_field(f, layer.fields[f]) for f in line) for line in lines if line]
    name = "" if layer.name is None else _string(layer.name) + " "
    inputs = "".join(
        f"{value} " if i == len(layer.inputs) - 1 else f"{value}, " for i, value in enumerate(layer.inputs)
    )
    head = f"layer {name}{layer.op} {inputs}-> {layer.output} {_list(layer.shape)}"
    if len(lines) <= 1:
        return f"{head} {{ {lines[0]} }}" if lines else f"{head} {{ }}"
    return head + " {\n" + "".join(f"  {line}\n" for line in lines) + "}"


def format_lr(model: LrModel) -> str:
    header = (
        f"model {_string(model.name)} input {_list(model.input_shape)} output {_list(model.output_shape)} "
        f"weights {_string(model.weights_file)} sha256 {_string(model.sha256)}"
    )
    return "\n".join([MAGIC, "", header, "", *(_format_layer(layer) for layer in model.layers)]) + "\n"


# -- IR → LrModel ------------------------------------------------------------------------------------


class _Data:
    """Reads f32 weights from inline attributes or sha256-checked blob files (cached per file)."""

    def __init__(self, weights_dir: Path):
        self.weights_dir = weights_dir
        self.files: dict[tuple[str, str], bytes] = {}

    def f32(self, attr: Attribute, what: str) -> bytes:
        if isinstance(attr, BlobRefAttr):
            key = (attr.file.data, attr.sha256.data)
            if key not in self.files:
                self.files[key] = read_checked(self.weights_dir / key[0], key[1], what)
            return segment(self.files[key], _span(attr), self.weights_dir / key[0], what)
        assert isinstance(attr, DenseIntOrFPElementsAttr)
        if not isinstance(attr.get_type().get_element_type(), Float32Type):
            raise LrError(f"{what}: inline weights must be f32, got {attr.get_type()}")
        return np.frombuffer(attr.data.data, dtype="<f4").tobytes()


def _span(attr: BlobRefAttr) -> Span:
    return Span(attr.offset.data, attr.size.data)


def _the_function(module: ModuleOp) -> func.FuncOp:
    funcs = [op for op in module.ops if isinstance(op, func.FuncOp)]
    if len(funcs) != 1 or len(list(module.ops)) != 1:
        raise LrError(f"LR describes a module with exactly one func.func, got {len(list(module.ops))} top-level ops")
    fn = funcs[0]
    args = fn.body.block.args
    if len(args) != 2 or fn.function_type.outputs.data:
        raise LrError(f"LR describes @{fn.sym_name.data}(%input, %output) with no results, got {len(args)} arguments")
    for arg in args:
        if not isinstance(arg.type, MemRefType) or not isinstance(arg.type.get_element_type(), Float32Type):
            raise LrError(f"@{fn.sym_name.data}: arguments must be f32 memrefs, got {arg.type}")
    return fn


def module_to_lr(module: ModuleOp, weights_dir: Path, weights_file: str) -> tuple[LrModel, bytes]:
    """The LR syntax tree of `module` and the bytes of its fresh blob (named `weights_file`)."""
    fn = _the_function(module)
    arg_in, arg_out = fn.body.block.args
    names: dict[SSAValue, str] = {arg_in: INPUT, arg_out: OUTPUT}
    allocs: set[SSAValue] = set()
    data, blob = _Data(weights_dir), BlobWriter()
    layers = []
    for op in fn.body.block.ops:
        if isinstance(op, memref.AllocOp):
            allocs.add(op.memref)
        elif isinstance(op, func.ReturnOp):
            continue
        elif op.name in LR_NAME_OF_IR:
            layers.append(_layer(op, names, allocs, data, blob))
        else:
            raise LrError(f"LR cannot describe op {op.name} (LR ops: {', '.join(LR_NAME_OF_IR)})")
    payload = blob.payload()
    model = LrModel(
        fn.sym_name.data,
        tuple(arg_in.type.get_shape()),
        tuple(arg_out.type.get_shape()),
        weights_file,
        sha256(payload),
        layers,
    )
    return model, payload


def _layer(op: Operation, names: dict[SSAValue, str], allocs: set[SSAValue], data: _Data, blob: BlobWriter) -> Layer:
    lr_op = LR_NAME_OF_IR[op.name]
    name_attr = op.attributes.get(LAYER_ATTR)
    name = name_attr.data if isinstance(name_attr, StringAttr) else None
    title = f'layer "{name}"' if name is not None else f"{op.name} #{len(names) - 2}"
    *inputs, output = op.operands
    for value in inputs:
        if value not in names:
            raise LrError(f"{title} ({op.name}) reads a buffer that no earlier op writes")
    if output not in names:
        if output not in allocs:
            raise LrError(f"{title} ({op.name}) writes a buffer that is neither a memref.alloc nor the output")
        names[output] = f"%t{len(names) - 2}"  # names: %in, %out, then %t0, %t1, …
    elif names[output] == INPUT:
        raise LrError(f"{title} ({op.name}) writes the model input")
    fields: dict[str, Any] = {f: SIMPLE_FIELDS[f][1](op.properties[f]) for f in OPS[lr_op].fields if f in SIMPLE_FIELDS}
    if OPS[lr_op].storage is not None:
        fields |= _storage(op, title, data, blob)
    fields |= _schedule(op, title)
    fields |= _prune(op, title)
    lost = [p for p in ("axis", "log") if p in op.properties]  # nn.softmax / nn.concat options LR has no field for
    if lost:
        raise LrError(f"{title} ({op.name}) has {' and '.join(lost)}, which LR cannot describe (only the default axis)")
    modes = [m for m in ("ceil_mode", "exclude_padding") if m in op.properties]
    if "dilation" in op.properties and dilation_of(op) != (1, 1):
        modes.insert(0, f"dilation {list(dilation_of(op))}")
    if modes:  # convolution variants and pooling modes LR has no field for
        raise LrError(f"{title} ({op.name}) has {' and '.join(modes)}, which LR cannot describe")
    extra = set(op.attributes) - {LAYER_ATTR, SCHEDULE_ATTR, PRUNE_ATTR}
    if extra:
        raise LrError(f"{title} ({op.name}) has attribute(s) LR cannot describe: {', '.join(sorted(extra))}")
    return Layer(lr_op, tuple(names[v] for v in inputs), names[output], tuple(output.type.get_shape()), fields, name)


def _storage(op: Operation, title: str, data: _Data, blob: BlobWriter) -> dict[str, Any]:
    weights = _add(blob, data.f32(op.properties["weights"], f"{title} weights"))
    bias_attr = op.properties.get("bias")
    bias = None if bias_attr is None else _add(blob, data.f32(bias_attr, f"{title} bias"))
    if op.name.startswith("block."):
        offsets = np.asarray(op.offsets.get_values(), dtype="<i4")
        columns = np.asarray(op.columns.get_values(), dtype="<i4")
        rows, cols = op.block.get_values()
        width = op.input.type.get_shape()[1]  # GEMM columns: Cin*KH*KW (conv) or K (linear)
        if op.name == "block.conv2d":
            width *= int(np.prod(op.kernel.get_values()))
        return {
            "block": BlockCount(int(rows), int(cols), int(offsets[-1]), (len(offsets) - 1) * width),
            "storage": Storage(
                "block", weights, bias, None, _add(blob, columns.tobytes()), _add(blob, offsets.tobytes())
            ),
        }
    if op.name != "pattern.conv2d":
        return {"storage": Storage("dense", weights, bias)}
    ids = kernel_ids(op)
    library = op.library
    kept, total = int((ids >= 0).sum()), int(ids.size)
    return {
        "library": Library(
            library.size,
            tuple(library.pretty(i) for i in range(library.num_patterns)),
            bool(library.allow_off_centre.data),
        ),
        "kernels": KernelCount(kept, total, connectivity_ratio(kept, total)),
        "storage": Storage("fkw", weights, bias, _add(blob, ids.astype(np.int8).tobytes())),
    }


def _add(blob: BlobWriter, data: bytes) -> Span:
    return Span(*blob.add_bytes(data))


def _prune(op: Operation, title: str) -> dict[str, Any]:
    attr = op.attributes.get(PRUNE_ATTR)
    if attr is None:
        return {}
    if not isinstance(attr, StringAttr):
        raise LrError(f"{title}: {PRUNE_ATTR} must be a string (a pruning scheme), got {attr}")
    try:
        return {PRUNE: parse_scheme(attr.data)}
    except SchemeError as e:
        raise LrError(f"{title}: {PRUNE_ATTR}: {e}") from None


def _schedule(op: Operation, title: str) -> dict[str, Any]:
    attr = op.attributes.get(SCHEDULE_ATTR)
    if attr is None:
        return {}
    if not isinstance(attr, DictionaryAttr):
        raise LrError(f"{title}: {SCHEDULE_ATTR} must be a dictionary, got {attr}")
    schedule: dict[str, int | str] = {}
    for key, value in attr.data.items():
        kind = SCHEDULE_KEYS.get(key)
        if kind is int and isinstance(value, IntegerAttr):
            schedule[key] = value.value.data
        elif kind is str and isinstance(value, StringAttr):
            schedule[key] = value.data
        else:
            raise LrError(
                f"{title}: {SCHEDULE_ATTR} entry {key} = {value} is not an LR schedule key "
                f"({', '.join(SCHEDULE_KEYS)}) with an integer / string value"
            )
    return {SCHEDULE: schedule}
