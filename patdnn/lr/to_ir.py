"""LR syntax tree + its blob → IR module: `func.func @NAME(%input, %output)` with `memref.alloc`
intermediates, weights/bias as `#pattern.blob` references into the LR blob, pattern ids inline.

The informative lines are checked: `kernels K of T connectivity R` must match the ids, `block RxC
columns K of T` the column lists. Every storage segment starts at a multiple of the blob writer's
alignment (patdnn.sparsity.blob.ALIGN, 64 bytes) and no two segments share a byte, so an offset
moved by hand cannot silently read another tensor's bytes. A `prune` line becomes the op's
`patdnn.prune` attribute.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from xdsl.builder import ImplicitBuilder
from xdsl.dialects import func, memref
from xdsl.dialects.builtin import (
    BytesAttr,
    DenseArrayBase,
    DictionaryAttr,
    IntegerAttr,
    MemRefType,
    ModuleOp,
    StringAttr,
    f32,
    i8,
    i32,
    i64,
)
from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.utils.exceptions import VerifyException

from patdnn.dialects import block, nn, pattern
from patdnn.dialects.common import BlobRefAttr, PatternLibraryAttr
from patdnn.lr.blob import read_checked, segment
from patdnn.lr.fields import SIMPLE_FIELDS
from patdnn.lr.syntax import (
    INPUT,
    LAYER_ATTR,
    OPS,
    OUTPUT,
    PRUNE,
    PRUNE_ATTR,
    SCHEDULE,
    SCHEDULE_ATTR,
    Layer,
    LrModel,
    Span,
    connectivity_ratio,
)
from patdnn.sparsity.blob import ALIGN

IR_OPS: dict[str, type[Operation]] = {
    cls.name: cls for cls in (pattern.Conv2dOp, *nn.NN.operations, *block.Block.operations)
}
RATIO_TOLERANCE = 0.01  # R is printed with 2 decimals


def lr_to_ir(model: LrModel, weights_dir: Path | str) -> ModuleOp:
    """Builds and verifies the IR of `model`; its blob is `weights_dir / model.weights_file`."""
    blob_path = Path(weights_dir) / model.weights_file
    blob = read_checked(blob_path, model.sha256, model.filename)
    _check_segments(model)
    in_type, out_type = MemRefType(f32, model.input_shape), MemRefType(f32, model.output_shape)
    module = ModuleOp([])
    with ImplicitBuilder(module.body):
        fn = func.FuncOp(model.name, ((in_type, out_type), ()))
    arg_in, arg_out = fn.body.block.args
    arg_in.name_hint, arg_out.name_hint = "input", "output"
    values: dict[str, SSAValue] = {INPUT: arg_in, OUTPUT: arg_out}
    builder = _LayerBuilder(model, blob, blob_path)
    built: list[tuple[Layer, Operation]] = []
    with ImplicitBuilder(fn.body):
        for layer in model.layers:
            inputs = [_use(model, layer, values, name) for name in layer.inputs]
            output = _define(model, layer, values)
            built.append((layer, builder.build(layer, inputs, output)))
        func.ReturnOp()
    for layer, op in built:
        try:
            op.verify()
        except VerifyException as e:
            raise model.error(layer.pos, f"{layer.title}: {e}") from None
    module.verify()
    return module


SEGMENTS = ("weights", "bias", "ids", "columns", "offsets")


def _check_segments(model: LrModel) -> None:
    """Every storage segment aligned to ALIGN bytes, and no two of them overlapping."""
    spans: list[tuple[int, int, Layer, str]] = []
    for layer in model.layers:
        storage = layer.fields.get("storage")
        for part in SEGMENTS if storage is not None else ():
            span = getattr(storage, part)
            if span is None:
                continue
            if span.offset % ALIGN:
                raise model.error(
                    layer.field_pos.get("storage"),
                    f"{layer.title}: {part} segment @{span.offset} +{span.size} does not start at a multiple of "
                    f"{ALIGN} bytes (every blob segment is {ALIGN}-byte aligned)",
                )
            if span.size > 0:
                spans.append((span.offset, span.offset + span.size, layer, part))
    spans.sort(key=lambda s: (s[0], s[1]))
    for (start, end, layer, part), (start2, end2, layer2, part2) in zip(spans, spans[1:]):
        if start2 < end:
            owner = "its" if layer2 is layer else f"{layer.title}'s"
            raise model.error(
                layer2.field_pos.get("storage"),
                f"{layer2.title}: {part2} segment @{start2} +{end2 - start2} overlaps {owner} {part} segment "
                f"@{start} +{end - start} (bytes {start2}..{min(end, end2) - 1})",
            )


def _use(model: LrModel, layer: Layer, values: dict[str, SSAValue], name: str) -> SSAValue:
    if name == OUTPUT and OUTPUT not in _written(model, layer):
        raise model.error(layer.pos, f"{layer.title} reads {OUTPUT} before any layer writes it")
    if name not in values:
        raise model.error(layer.pos, f"{layer.title} reads {name}, which no earlier layer writes")
    return values[name]


def _written(model: LrModel, upto: Layer) -> set[str]:
    return {layer.output for layer in model.layers[: model.layers.index(upto)]}


def _define(model: LrModel, layer: Layer, values: dict[str, SSAValue]) -> SSAValue:
    """The output buffer: %out, an earlier intermediate (written again), or a fresh memref.alloc."""
    if layer.output in values:
        value = values[layer.output]
        if tuple(value.type.get_shape()) != layer.shape:  # type: ignore[attr-defined]
            have = list(value.type.get_shape())  # type: ignore[attr-defined]
            raise model.error(layer.pos, f"{layer.title}: {layer.output} has shape {have}, not {list(layer.shape)}")
        return value
    value = memref.AllocOp([], [], MemRefType(f32, layer.shape)).memref
    values[layer.output] = value
    return value


class _LayerBuilder:
    def __init__(self, model: LrModel, blob: bytes, blob_path: Path):
        self.model, self.blob, self.blob_path = model, blob, blob_path

    def ref(self, layer: Layer, span: Span | None, what: str) -> Attribute | None:
        if span is None:
            return None
        segment(self.blob, span, self.blob_path, f"{layer.title} {what}")
        if span.offset % 4 or span.size % 4:
            raise self.model.error(
                layer.field_pos.get("storage"),
                f"{layer.title}: {what} segment @{span.offset} +{span.size} is not f32-aligned",
            )
        return BlobRefAttr(self.model.weights_file, span.offset, span.size, self.model.sha256)

    def build(self, layer: Layer, inputs: list[SSAValue], output: SSAValue) -> Operation:
        spec = OPS[layer.op]
        props: dict[str, Attribute] = {f: SIMPLE_FIELDS[f][0](v) for f, v in layer.fields.items() if f in SIMPLE_FIELDS}
        storage = layer.fields.get("storage")
        if storage is not None:
            props["weights"] = self.ref(layer, storage.weights, "weights")
            if storage.bias is not None:
                props["bias"] = self.ref(layer, storage.bias, "bias")
        if layer.op == "pattern_conv2d":
            props |= self.pattern_props(layer, inputs[0], output)
        if spec.storage == "block":
            props |= self.block_props(layer, inputs[0])
        op = IR_OPS[spec.ir_name].create(operands=[*inputs, output], properties=props)
        if layer.name is not None:
            op.attributes[LAYER_ATTR] = StringAttr(layer.name)
        if PRUNE in layer.fields:
            op.attributes[PRUNE_ATTR] = StringAttr(str(layer.fields[PRUNE]))
        if SCHEDULE in layer.fields:
            op.attributes[SCHEDULE_ATTR] = DictionaryAttr(
                {
                    k: IntegerAttr(v, i64) if isinstance(v, int) else StringAttr(v)
                    for k, v in layer.fields[SCHEDULE].items()
                }
            )
        return op

    def block_props(self, layer: Layer, input: SSAValue) -> dict[str, Attribute]:
        """block, offsets, columns (read from the blob), checked against `block RxC columns K of T`."""
        count, storage = layer.fields["block"], layer.fields["storage"]
        arrays = {}
        for part in ("columns", "offsets"):
            data = segment(self.blob, getattr(storage, part), self.blob_path, f"{layer.title} {part}")
            if len(data) % 4:
                raise self.model.error(
                    layer.field_pos.get("storage"),
                    f"{layer.title}: {part} segment holds {len(data)} bytes, not a whole number of i32 values",
                )
            arrays[part] = np.frombuffer(data, dtype="<i4")
        offsets = arrays["offsets"]
        shape = input.type.get_shape()  # type: ignore[attr-defined]
        width = shape[1] * (int(np.prod(layer.fields["kernel"])) if "kernel" in layer.fields else 1)
        blocks = len(offsets) - 1
        kept = int(offsets[-1]) if offsets.size else 0
        if (count.kept, count.total) != (kept, blocks * width):
            raise self.model.error(
                layer.field_pos.get("block"),
                f"{layer.title}: `columns {count.kept} of "
                f"{count.total}`: the column lists keep {kept} of {blocks} blocks x {width} "
                f"columns = {blocks * width}",
            )
        return {
            "block": DenseArrayBase.from_list(i64, [count.rows, count.cols]),
            "offsets": DenseArrayBase(i32, BytesAttr(offsets.astype("<i4").tobytes())),
            "columns": DenseArrayBase(i32, BytesAttr(arrays["columns"].astype("<i4").tobytes())),
        }

    def pattern_props(self, layer: Layer, input: SSAValue, output: SSAValue) -> dict[str, Attribute]:
        """library, kernels (ids read from the blob, checked against `kernels K of T`), dilation."""
        lib, count, storage = layer.fields["library"], layer.fields["kernels"], layer.fields["storage"]
        cin, cout = input.type.get_shape()[1], output.type.get_shape()[1]  # type: ignore[attr-defined]
        ids = np.frombuffer(segment(self.blob, storage.ids, self.blob_path, f"{layer.title} ids"), dtype=np.int8)
        error = lambda msg: self.model.error(layer.field_pos.get("kernels"), f"{layer.title}: {msg}")  # noqa: E731
        if ids.size != cout * cin:
            raise self.model.error(
                layer.field_pos.get("storage"),
                f"{layer.title}: ids segment holds {ids.size} pattern ids, expected {cout}x{cin} = {cout * cin}",
            )
        kept = int((ids >= 0).sum())
        if count.total != ids.size:
            raise error(f"`kernels {count.kept} of {count.total}`: the layer has {cout}x{cin} = {ids.size} kernels")
        if count.kept != kept:
            raise error(f"`kernels {count.kept} of {count.total}`: the ids keep {kept} kernels")
        ratio = connectivity_ratio(kept, ids.size)
        if not (math.isinf(ratio) and math.isinf(count.ratio)) and not abs(ratio - count.ratio) <= RATIO_TOLERANCE:
            raise error(f"`connectivity {count.ratio:.2f}x` does not match {ids.size} / {kept} = {ratio:.2f}x")
        try:
            library = PatternLibraryAttr(lib.size, list(lib.masks), lib.off_centre)
        except Exception as e:  # noqa: BLE001 - attribute construction verifies the masks
            raise self.model.error(layer.field_pos.get("library"), f"{layer.title}: {e}") from None
        return {
            "library": library,
            "kernels": DenseArrayBase(i8, BytesAttr(ids.tobytes())),
            "dilation": DenseArrayBase.from_list(i64, [1, 1]),
        }
