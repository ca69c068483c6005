"""OpenCL C for `kernel.pattern_conv`: one kernel per layer, one branch-free loop per pattern.

Work decomposition: work-item = a `tile_y` x `tile_x` block of output pixels of ONE filter;
work-group = `wg_x` x `wg_y` such blocks of the same filter (global dimension 2 runs over
batch x filters). Every work-item of a group therefore walks the same FKW segments — identical
trip counts, no divergence — and filter reordering (`filter_order`) only changes which groups run
side by side. The input is zero-padded beforehand (runtime kernel `pdnn_pad`), wide and tall
enough for the last tile's over-read, so loads need no bounds checks; only the stores of edge
tiles are guarded, and only when the output size is not a multiple of the tile.

Inside a segment loop the `kernel.pattern_body` of the pattern is replicated over the tile, with
one handler per body op: `kernel.load_tap` loads each distinct input element once per kept kernel
(neighbouring outputs share taps: register-level load elimination across the tile) and
`kernel.fma` multiplies with the kernel's weight `entry`, loaded once. A body lowered for a CPU
register tile of several rows is re-tiled: the FMAs into accumulator row 0 are the pattern's taps. Weights, segment starts and
input channels come from FKW buffers (patdnn.sparsity.fkw); per-layer sizes are compile-time constants.

The schedule is tunable per layer with a `patdnn.opencl = {tile_x = 4, tile_y = 2, wg_x = 8,
wg_y = 8}` dictionary attribute on the op (any subset); the target options give the defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import singledispatchmethod

import numpy as np
from xdsl.ir import Operation, SSAValue

from patdnn.backend.activation import RUNTIME_KIND, as_attr, c_float, c_scalar, runtime_params
from patdnn.backend.common import EmitError
from patdnn.backend.opencl.schedule import ClConvGeometry
from patdnn.backend.opencl.state import Launch, OpenCLState, buf, layer_label, num, pad_launch
from patdnn.dialects import kernel
from patdnn.dialects.common import Activation, ActivationAttr, kernel_ids
from patdnn.sparsity.fkw import fkw_index


def guarded(checks: list[str], statement: str) -> str:
    return f"if ({' && '.join(checks)}) {statement}" if checks else statement


def activation_lines(act: ActivationAttr | Activation, accs: list[str], ctype: str = "real") -> list[str]:
    """The fused activation applied in place to the accumulator variables `accs` (of C type `ctype`):
    the piecewise-linear kinds inline, the others through the program's `pdnn_act_k` (in f32).

    Comparisons, not fmax/fmin (which return the other operand for NaN): NaN stays NaN, as in PyTorch."""
    act = as_attr(act)
    if act.data == Activation.NONE:
        return []
    if act.data in (Activation.RELU, Activation.RELU6):  # in `ctype` (half in fp16 mode)
        zero, six = f"({ctype})0", f"({ctype})6"
        clamp = "{0}" if act.data == Activation.RELU else f"({{0}} > {six} ? {six} : {{0}})"
        return [f"{acc} = {acc} < {zero} ? {zero} : {clamp.format(acc)};" for acc in accs]
    inline = c_scalar(act, "v")
    if inline is not None:
        return [f"{{ const float v = (float){acc}; {acc} = ({ctype}){inline}; }}" for acc in accs]
    a, b = runtime_params(act) if act.params else (0.0, 0.0)
    call = f"pdnn_act_k((float){{}}, {RUNTIME_KIND[act.data]}, {c_float(a)}, {c_float(b)})"
    return [f"{acc} = ({ctype}){call.format(acc)};" for acc in accs]


@dataclass
class PatternKernelPrinter:
    """Prints the OpenCL C kernel of one `kernel.pattern_conv` (see the module docstring)."""

    op: kernel.PatternConvOp
    name: str
    geo: ClConvGeometry

    def __post_init__(self) -> None:
        self.loaded: dict[int, str] = {}  # input offset (from the tile origin) -> variable
        self.taps: dict[SSAValue, tuple[int, int]] = {}  # load_tap result -> (row, col)
        self.weights: set[int] = set()  # entries already loaded for this kernel

    @property
    def has_order(self) -> bool:
        return self.op.filter_order is not None

    def accumulators(self) -> list[tuple[int, int, str]]:
        return [(j, t, f"acc{j}_{t}") for j in range(self.geo.tile_y) for t in range(self.geo.tile_x)]

    def source(self) -> str:
        geo, op = self.geo, self.op
        library = op.library
        num_patterns = library.num_patterns
        params = [
            "__global const real *in",
            "__global real *out",
            "int out_off",
            "__global const real *w",
            *(["__global const real *bias"] if op.bias is not None else []),
            "__global const int *seg",
            "__global const int *wseg",
            "__global const int *chan",
            *(["__global const int *order"] if self.has_order else []),
        ]
        sh, sw = geo.stride
        accs = self.accumulators()
        lines = [
            f"/* {self.name}: {geo.cin} -> {geo.cout} channels, {geo.h}x{geo.w} -> {geo.ho}x{geo.wo}, "
            f"stride {list(geo.stride)}, padding {list(geo.pad)}, {dilation_note(op)}{op.activation.text()}; "
            f"{num_patterns} patterns; tile {geo.tile_y}x{geo.tile_x}, work-group {geo.local[0]}x{geo.local[1]}; "
            f"padded input {geo.padded_h}x{geo.padded_w} */",
            f"__kernel __attribute__((reqd_work_group_size({geo.local[0]}, {geo.local[1]}, 1)))",
            f"void {self.name}({', '.join(params)}) {{",
            "  const int tx = get_global_id(0), ty = get_global_id(1), z = get_global_id(2);",
        ]
        if geo.global_size[:2] != (geo.tiles_x, geo.tiles_y):
            lines.append(f"  if (tx >= {geo.tiles_x} || ty >= {geo.tiles_y}) return; /* work-group padding */")
        filter_of = f"order[z % {geo.cout}]" if self.has_order else f"z % {geo.cout}"
        lines += [
            f"  const int b = z / {geo.cout}, o = {filter_of};",
            f"  const int x0 = tx * {geo.tile_x}, y0 = ty * {geo.tile_y};",
            f"  __global const real *in_t = in + b * {geo.cin * geo.plane} + y0 * {sh * geo.padded_w} + x0 * {sw};",
            f"  __global real *out_t = out + out_off + (b * {geo.cout} + o) * {geo.ho * geo.wo} + y0 * {geo.wo} + x0;",
            f"  const real init = {'bias[o]' if op.bias is not None else '(real)0'};",
            f"  real {', '.join(f'{a} = init' for _, _, a in accs)};",
        ]
        bodies = op.bodies()
        for p in range(num_patterns):
            entries = library.entries()[p]
            lines += [
                f"  {{ /* pattern {p}: {library.pretty(p)} */",
                f"    __global const real *wp = w + wseg[o * {num_patterns} + {p}];",
                f"    const int end = seg[o * {num_patterns} + {p + 1}];",
                f"    for (int k = seg[o * {num_patterns} + {p}]; k < end; ++k, wp += {entries}) {{",
                f"      __global const real *ip = in_t + chan[k] * {geo.plane};",
            ]
            self.loaded, self.taps, self.weights = {}, {}, set()
            for inner in bodies[p].body.block.ops:
                lines += [f"      {s}" for s in self.print(inner)]
            lines += ["    }", "  }"]
        lines += [f"  {s}" for s in self.epilogue()]
        lines += [f"  {s}" for s in self.stores()]
        lines += ["}", ""]
        return "\n".join(lines)

    # -- body ops: one handler each -------------------------------------------------------
    @singledispatchmethod
    def print(self, op: Operation) -> list[str]:
        raise EmitError(f"'{op.name}' cannot be printed inside an OpenCL pattern body")

    @print.register
    def _(self, op: kernel.LoadTapOp) -> list[str]:
        self.taps[op.result] = (op.row.value.data, op.col.value.data)
        return []  # loads are printed where an FMA first needs them (each distinct offset once)

    @print.register
    def _(self, op: kernel.FmaOp) -> list[str]:
        if op.value not in self.taps:
            raise EmitError("kernel.fma operand is not a kernel.load_tap of the same body")
        if op.acc_row is not None and op.acc_row.value.data != 0:
            return []  # another row of a CPU register tile: the same taps as row 0, shifted
        row, col = self.taps[op.value]
        entry = op.entry.value.data
        lines = []
        if entry not in self.weights:
            self.weights.add(entry)
            lines.append(f"const real w{entry} = wp[{entry}];")
        sh, sw = self.geo.stride
        dw = self.op.dilation.get_values()[1]  # rows come dilated from the lowering, columns are kernel columns
        for j, t, acc in self.accumulators():
            offset = (row + j * sh) * self.geo.padded_w + col * dw + t * sw
            if offset not in self.loaded:
                self.loaded[offset] = f"i{offset}"
                lines.append(f"const real i{offset} = ip[{offset}];")
            lines.append(f"{acc} = fma({self.loaded[offset]}, w{entry}, {acc});")
        return lines

    # -- epilogue -----------------------------------------------------------------------------
    def epilogue(self) -> list[str]:
        return activation_lines(self.op.activation, [acc for _, _, acc in self.accumulators()])

    def stores(self) -> list[str]:
        """Stores the tile; edge tiles guard the columns/rows past the output's end."""
        return [
            guarded(self.geo.edge_checks(j, t), f"out_t[{j * self.geo.wo + t}] = {acc};")
            for j, t, acc in self.accumulators()
        ]


def dilation_note(op: kernel.PatternConvOp) -> str:
    """`dilation [d, d], ` for a kernel's head comment (nothing for dilation 1)."""
    dilation = list(op.dilation.get_values())
    return f"dilation {dilation}, " if dilation != [1, 1] else ""


def emit_pattern_conv(emitter: OpenCLState, op: kernel.PatternConvOp) -> str:
    """Uploads one pattern conv's weights and FKW index, prints its kernel; returns the enqueues
    of its launches (the input's zero padding, then the kernel)."""
    geo = ClConvGeometry.of(op, emitter.schedule.for_op(op))
    name = emitter.layer_symbol(op, "conv")
    index = fkw_index(kernel_ids(op), op.library.entries())
    weights = emitter.device_weights(f"{name}_weights", op.weights)
    bias = emitter.device_weights(f"{name}_bias", op.bias)
    fkw = [
        emitter.device_int32(f"{name}_{part}", values)
        for part, values in (("seg", index.segment_start), ("wseg", index.weight_start), ("chan", index.channel))
    ]
    order = []
    if op.filter_order is not None:
        order = [emitter.device_int32(f"{name}_order", np.array(list(op.filter_order.get_values()), dtype=np.int32))]
    emitter.kernel_sources.append(PatternKernelPrinter(op, name, geo).source())
    (in_buf, in_off), (out_buf, out_off) = emitter.tensor(op.input), emitter.tensor(op.output)
    pad = pad_launch((in_buf, in_off), emitter.scratch, geo)
    conv = Launch(
        name,
        [
            buf(emitter.scratch),
            buf(out_buf),
            num(out_off),
            buf(weights),
            *([buf(bias)] if op.bias is not None else []),
            *map(buf, fkw + order),
        ],
        geo.global_size,
        geo.local,
    )
    return emitter.launch(layer_label(op, name), [pad, conv])
