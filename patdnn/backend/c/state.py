"""The emitter state the C handlers (and the OpenCL host printer) work on.

`ModuleEmitter` is what every generated host C module has, whatever runs its layers: the output
lines, the body of `patdnn_init`, the weights blobs it reads, the layer namer, weights
declarations (inline arrays or blob offsets resolved at init) and the `patdnn_model` descriptor
(see runtime/patdnn_runtime.h) of its entry function. `CState` adds what the C target's handlers
use: the vector ISA, the C names of SSA values and the per-call scratch sizes. The printer
(patdnn.backend.c.printer.CEmitter) is a CState with a dispatch table; handlers take a CState and
never import the printer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
from xdsl.dialects.builtin import DenseIntOrFPElementsAttr, ModuleOp
from xdsl.ir import Attribute, Operation, SSAValue

from patdnn.backend.common import EmitError, c_ident, float_array, layer_name
from patdnn.backend.signature import entry_signature
from patdnn.dialects import common
from patdnn.isa import HALF_ISAS, Isa


@dataclass(kw_only=True)
class ModuleEmitter:
    entry: str = ""  # the function the model descriptor calls ("": the first one)
    out: list[str] = field(default_factory=list)
    init_lines: list[str] = field(default_factory=list)  # body of patdnn_init
    blobs: dict[str, tuple[int, str]] = field(default_factory=dict)  # file -> (required bytes, sha256)
    layer_counts: dict[str, int] = field(default_factory=dict)  # layers named so far, per group

    def layer_symbol(self, op: Operation, kind: str, group: str = "") -> str:
        """A unique C prefix for one generated layer: `kind` and a running count (`conv3`), or in
        a `group` (`nn`), the group, its own running count and `kind` (`nn3_conv`); then the
        layer's name, if it has one (`conv3_features_0`)."""
        index = self.layer_counts.get(group, 0)
        self.layer_counts[group] = index + 1
        name = f"{group}{index}_{kind}" if group else f"{kind}{index}"
        layer = layer_name(op)
        return name if layer is None else f"{name}_{c_ident(layer)}"

    def declare_weights(self, symbol: str, weights: Attribute) -> None:
        """`static const float *symbol`, pointed at inline data or at its blob segment by patdnn_init."""
        self.out.append(f"static const float *{symbol};")
        if isinstance(weights, common.BlobRefAttr):
            file, offset, size = weights.file.data, weights.offset.data, weights.size.data
            required, digest = self.blobs.get(file, (0, weights.sha256.data))
            if digest != weights.sha256.data:
                raise EmitError(f"weights blob '{file}' is referenced with two different sha256 digests")
            self.blobs[file] = (max(required, offset + size), digest)
            blob_var = f"blob_{list(self.blobs).index(file)}"
            self.init_lines.append(f"{symbol} = (const float *)({blob_var} + {offset});")
            return
        assert isinstance(weights, DenseIntOrFPElementsAttr)
        values = np.frombuffer(weights.data.data, dtype=np.float32)
        self.out.append(f"static const float {symbol}_data[{max(values.size, 1)}] = {float_array(values)};")
        self.init_lines.append(f"{symbol} = {symbol}_data;")

    def declare_weights_and_bias(self, name: str, op: Operation) -> None:
        """The layer `name`'s `<name>_weights` and, when it has a bias, `<name>_bias`."""
        self.declare_weights(f"{name}_weights", op.weights)
        if op.bias is not None:
            self.declare_weights(f"{name}_bias", op.bias)

    def declare_layer_weights(self, op: Operation, kind: str) -> tuple[str, str]:
        """Declares an nn op's weights and bias (`nn<i>_<kind>_<layer>_w` / `_b`); returns both
        symbols ("NULL": no bias)."""
        prefix = self.layer_symbol(op, kind, group="nn")
        self.declare_weights(f"{prefix}_w", op.weights)
        if op.bias is None:
            return f"{prefix}_w", "NULL"
        self.declare_weights(f"{prefix}_b", op.bias)
        return f"{prefix}_w", f"{prefix}_b"

    def emit_model_descriptor(self, module: ModuleOp) -> None:
        """patdnn_init / patdnn_run and the `patdnn_model` descriptor of the entry function."""
        signature = entry_signature(module, self.entry)
        entry, inputs, outputs = signature.func, signature.inputs, signature.outputs
        args = list(entry.body.block.args)

        def c_array(items: list[str], empty: str = "0") -> str:
            return "{" + ", ".join(items or [empty]) + "}"

        def shapes(kind: str, values: list[SSAValue]) -> list[str]:
            """Element counts, ranks and dims of the inputs or outputs (`kind`)."""
            dims = [list(map(str, signature.shape(v))) for v in values]
            return [
                f"static const int64_t patdnn_{kind}_sizes[] = {c_array([str(common.element_count(v)) for v in values])};",
                f"static const int patdnn_{kind}_ranks[] = {c_array([str(len(d)) for d in dims])};",
                *[f"static const int64_t patdnn_{kind}_{i}_dims[] = {c_array(d)};" for i, d in enumerate(dims)],
                f"static const int64_t *const patdnn_{kind}_dims[] = "
                + c_array([f"patdnn_{kind}_{i}_dims" for i in range(len(dims))], "NULL")
                + ";",
            ]

        call_args = [
            f"(float *)inputs[{inputs.index(a)}]" if a in inputs else f"outputs[{outputs.index(a)}]" for a in args
        ]
        blob_lines: list[str] = []
        for i, (file, (required, digest)) in enumerate(self.blobs.items()):
            blob_lines += [
                f'  const unsigned char *blob_{i} = pdnn_ctx_blob(ctx, {json.dumps(file)}, {required}ULL, "{digest}");',
                f"  if (!blob_{i}) return -1;",
            ]
        self.out += [
            *shapes("input", inputs),
            *shapes("output", outputs),
            "",
            "static int patdnn_init(pdnn_ctx *ctx) {",
            "  (void)ctx;",
            *blob_lines,
            *[f"  {line}" for line in self.init_lines],
            "  return 0;",
            "}",
            "",
            "static void patdnn_run(pdnn_ctx *ctx, const float *const *inputs, float *const *outputs) {",
            "  (void)inputs; (void)outputs;",
            f"  {c_ident(entry.sym_name.data)}(ctx, {', '.join(call_args)});",
            "}",
            "",
            "const pdnn_model_desc patdnn_model = {",
            f"  {json.dumps(entry.sym_name.data)}, {len(inputs)}, {len(outputs)}, patdnn_input_sizes, patdnn_output_sizes,",
            "  patdnn_input_ranks, patdnn_output_ranks, patdnn_input_dims, patdnn_output_dims,",
            "  patdnn_init, patdnn_run,",
            "};",
        ]
        if len(inputs) == 1 and len(outputs) == 1:  # the plain C entry points of a one-in/one-out model
            self.out += [
                "",
                "int model_init(pdnn_ctx *ctx) { return patdnn_init(ctx); }",
                "void model_run(pdnn_ctx *ctx, const float *in, float *out) { patdnn_run(ctx, &in, &out); }",
            ]


@dataclass
class CState(ModuleEmitter):
    isa: Isa
    value_names: dict[SSAValue, str] = field(default_factory=dict)  # C expression of each buffer
    scratch_floats: int = 0  # the largest per-layer scratch, allocated once at init
    slot_floats: int = 0  # the largest per-thread scratch slot (one per pool thread, at init)
    mca_regions: list | None = None  # a list: mark the pattern kernel loops for llvm-mca (patdnn.estimate)
    precision: str = "fp32"  # fp16: pattern convolutions in the ISA's half form (pattern_isa)

    @property
    def pattern_isa(self) -> Isa:
        """The ISA pattern convolutions are printed with: the half form under precision=fp16."""
        if self.precision != "fp16":
            return self.isa
        if self.isa.name not in HALF_ISAS:
            raise EmitError(f"precision=fp16 needs isa=neon, not isa={self.isa.name}")
        return HALF_ISAS[self.isa.name]

    def reserve_scratch(self, floats: int) -> None:
        self.scratch_floats = max(self.scratch_floats, floats)

    def reserve_thread_slot(self, floats: int) -> None:
        """Scratch of which every thread of the pool gets its own copy (slot s at s * floats)."""
        self.slot_floats = max(self.slot_floats, floats)
