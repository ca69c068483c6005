"""The register-tile loop nest of a `kernel.pattern_conv` in C, PatDNN's form, and its geometry.

`ConvGeometry` holds the sizes one convolution is printed with (register tile, channel blocks,
row blocks of the tap-shifted input, sized by SHIFTED_BLOCK_BYTES to stay in L2). `FilterLoop`
prints `<layer>_filters(job, begin, end)`, run by the thread pool on a range of (reordered)
filters: column tiles → row tiles → channel blocks → filters → one branch-free loop per pattern
segment, whose body is the `kernel.pattern_body` of that pattern replicated over the vectors of a
row. The register tile is `tile_y` rows x `tile_x` columns of one filter. Partial sums of all but
the last channel block go to a scratch tile; the last block applies the activation and stores.
The last row tile is shifted up to end on the last row (it recomputes a few rows instead of
branching); the last column tile stores through a small buffer. The tap-list form
(patdnn.backend.c.pattern_taps) shares its tile loops, accumulators and stores.
`activation_lines` is the fused activation of any register tile (the block kernels use it too).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from xdsl.dialects.builtin import DictionaryAttr, IntegerAttr
from xdsl.ir import SSAValue

from patdnn.backend.activation import C_NAME, as_attr, c_float, runtime_params
from patdnn.backend.common import EmitError
from patdnn.dialects import kernel
from patdnn.dialects.common import Activation, ActivationAttr, round_up, shape_of
from patdnn.dialects.pattern import SCHEDULE_ATTR
from patdnn.isa import Isa
from patdnn.notes import layer_title, note

SHIFTED_BLOCK_BYTES = 1024 * 1024  # tap-shifted input of one row block: stays in a core's L2


@dataclass(frozen=True)
class ConvGeometry:
    """The sizes the loop nest of one convolution is printed with."""

    n: int
    cin: int
    h: int
    w: int
    cout: int
    ho: int
    wo: int
    k: int
    stride: tuple[int, int]
    pad: tuple[int, int]
    dilation: tuple[int, int]
    vectors: int  # vectors per row of the register tile
    tile: int  # output columns per register tile (vectors * vector width)
    rows: int  # output rows per register tile
    block: int  # input channels per cache block
    row_len: int  # elements per row of a tap-shifted plane (a multiple of the tile)
    block_rows: int  # output rows per row block (>= rows; the input of a block is shifted at once)
    elem_bytes: int = 4  # bytes per element of the shifted planes and weights (2: fp16)

    @property
    def plane_rows(self) -> int:
        """Input rows of a row block's tap-shifted plane."""
        return (self.block_rows - 1) * self.stride[0] + self.span

    @property
    def span(self) -> int:
        """Input rows one output row reads: (K - 1) * dilation + 1."""
        return (self.k - 1) * self.dilation[0] + 1

    @property
    def num_row_blocks(self) -> int:
        return -(-self.ho // self.block_rows)

    @property
    def num_blocks(self) -> int:
        return -(-self.cin // self.block)

    @property
    def plane(self) -> int:
        return self.plane_rows * self.row_len

    @property
    def shifted_floats(self) -> int:
        """Scratch floats the tap-shifted planes take (fp16 planes take half)."""
        return -(-self.cin * self.k * self.plane * self.elem_bytes // 4)

    @property
    def psum_floats(self) -> int:
        return self.cout * self.rows * self.tile if self.num_blocks > 1 else 0

    @staticmethod
    def of(op: kernel.PatternConvOp, isa: Isa) -> ConvGeometry:
        n, cin, h, w = shape_of(op.input)
        _, cout, ho, wo = shape_of(op.output)
        sh, sw = op.stride.get_values()
        ph, pw = op.padding.get_values()
        dh, dw = op.dilation.get_values()
        k = op.library.size
        span = (k - 1) * dh + 1
        vw = isa.vector_width
        tile = min(round_up(op.schedule_value("tile_x"), vw), round_up(wo, vw))
        rows = min(op.schedule_value("tile_y"), ho)
        block = min(op.schedule_value("channel_block"), cin)
        _note_changes(op, isa, tile, block)
        row_len = round_up(wo, tile)
        per_row = cin * k * row_len * isa.elem_bytes  # bytes of one shifted input row, all channels and columns
        fit = max(rows, ((SHIFTED_BLOCK_BYTES // per_row - span) // sh + 1) // rows * rows)
        block_rows = min(ho, fit)
        return ConvGeometry(
            n,
            cin,
            h,
            w,
            cout,
            ho,
            wo,
            k,
            (sh, sw),
            (ph, pw),
            (dh, dw),
            tile // vw,
            tile,
            rows,
            block,
            row_len,
            block_rows,
            isa.elem_bytes,
        )


def _note_changes(op: kernel.PatternConvOp, isa: Isa, tile: int, block: int) -> None:
    """A `Note` (patdnn.notes) for each value of the layer's `patdnn.schedule` printed otherwise."""
    schedule = op.attributes.get(SCHEDULE_ATTR)
    asked = schedule.data if isinstance(schedule, DictionaryAttr) else {}
    title = layer_title(op, "a pattern convolution")
    vw, wo = isa.vector_width, shape_of(op.output)[3]
    tile_x = asked.get("tile_x")
    if isinstance(tile_x, IntegerAttr) and tile_x.value.data != tile:
        value = tile_x.value.data
        if tile == round_up(value, vw):
            why = f"rounded up to {tile} (a multiple of the {vw}-lane vector)"
        else:
            why = f"reduced to {tile} (the layer's {wo} output columns, rounded up to the {vw}-lane vector)"
        note(f"{title}: tile_x {value} {why}")
    channel_block = asked.get("channel_block")
    if isinstance(channel_block, IntegerAttr) and channel_block.value.data != block:
        note(f"{title}: channel_block {channel_block.value.data} reduced to {block} (the layer's input channels)")


def activation_lines(isa: Isa, act: ActivationAttr | Activation, accs: list[str]) -> list[str]:
    """The fused activation applied in place to the accumulators `accs` (shared by the block kernels)
    while they are in registers: the piecewise-linear kinds as vector max/min/fma; the others
    (sigmoid, tanh, SiLU, GELU, hardswish, hardsigmoid) stored to a stack tile, run through the
    runtime's `pdnn_act_row` (its own exp/erf/tanh: the same bits on every ISA) and loaded back.

    NaN stays NaN, as in PyTorch: `Isa.max`/`Isa.min` keep a NaN in their first operand."""
    act = as_attr(act)
    kind = act.data
    if kind == Activation.NONE:
        return []
    if kind not in VECTOR_KINDS:
        width = len(accs) * isa.vector_width
        lines = [f"float act_tile[{width}];"]
        lines += [isa.store(f"act_tile + {i * isa.vector_width}", a) for i, a in enumerate(accs)]
        lines.append(f"pdnn_act_row(act_tile, {width}, {C_NAME[kind]});")
        return lines + [f"{a} = {isa.loadu(f'act_tile + {i * isa.vector_width}')};" for i, a in enumerate(accs)]
    if kind == Activation.LEAKY_RELU:  # max(x, 0) + min(x, 0) * slope: exact, fused or not
        lines = [f"const {isa.vec_type} vzero = {isa.broadcast('0.0f')};"]
        lines.append(f"const {isa.vec_type} vslope = {isa.broadcast(c_float(act.params[0]))};")
        return lines + [f"{a} = {isa.fma(isa.max(a, 'vzero'), isa.min(a, 'vzero'), 'vslope')};" for a in accs]
    lo, hi = (
        (0.0, 6.0) if kind == Activation.RELU6 else (0.0, math.inf) if kind == Activation.RELU else runtime_params(act)
    )
    names = {0.0: "vzero", 6.0: "vsix"}  # ReLU's and ReLU6's bounds keep their names
    vlo, vhi = names.get(lo, "vlo"), names.get(hi, "vhi")
    lines = []
    if lo != -math.inf:
        lines.append(f"const {isa.vec_type} {vlo} = {isa.broadcast(c_float(lo))};")
    if hi != math.inf:
        lines.append(f"const {isa.vec_type} {vhi} = {isa.broadcast(c_float(hi))};")
    for a in accs:
        clamped = isa.max(a, vlo) if lo != -math.inf else a
        clamped = isa.min(clamped, vhi) if hi != math.inf else clamped
        lines.append(f"{a} = {clamped};")
    return lines


VECTOR_KINDS = (Activation.RELU, Activation.RELU6, Activation.LEAKY_RELU, Activation.HARDTANH)
VECTOR_KINDS += (Activation.CLAMP_MIN, Activation.CLAMP_MAX)
"""Kinds the register epilogue computes with vector operations (the others call the runtime)."""


@dataclass
class FilterLoop:
    isa: Isa
    op: kernel.PatternConvOp
    name: str
    geo: ConvGeometry
    mca_regions: list | None = None
    """When a list (patdnn.estimate): the innermost kernel loops' bodies are marked for llvm-mca
    (`# LLVM-MCA-BEGIN/END <region>` asm comments) and (region, op, geo, pattern or None) appended."""

    def mca_mark(self, which: str, region: str, pattern: int | None = None) -> list[str]:
        """The BEGIN/END comment around one innermost loop body (nothing unless marking)."""
        if self.mca_regions is None:
            return []
        if which == "BEGIN":
            self.mca_regions.append((region, self.op, self.geo, pattern))
        return [f'__asm__ volatile("# LLVM-MCA-{which} {region}");']

    def acc(self, row: int, vector: int) -> str:
        return f"acc{row}_{vector}"

    @property
    def weights(self) -> str:
        """The C array of the layer's FKW weights the loops read."""
        return f"{self.name}_weights"

    def in_cast(self) -> str:
        """The cast of the job's float input pointer to the loop's element type ("" for float)."""
        return "" if self.isa.elem == "float" else f"(const {self.isa.elem} *)"

    def lines(self) -> list[str]:
        """PatDNN's loop: every filter of the thread, per channel block, one loop per pattern."""
        geo, name, op = self.geo, self.name, self.op
        patterns = op.library.num_patterns
        lines = self.open_tiles() + [
            f"  for (int b = 0; b < {geo.num_blocks}; ++b) {{",
            "  for (int64_t idx = begin; idx < end; ++idx) {",
        ]
        head = self.open_filter()
        head.insert(1, f"    const int32_t *sg = {name}_seg + ((int64_t)b * {geo.cout} + o) * {3 * patterns};")
        lines += head
        bodies = op.bodies()
        for p in range(patterns):
            entries = op.library.entries()[p]
            lines += [
                f"    {{ /* pattern {p}: {op.library.pretty(p)} */",
                f"      const {self.isa.elem} *w = {self.weights} + sg[{3 * p + 2}];",
                f"      for (int32_t k = sg[{3 * p}]; k < sg[{3 * p + 1}]; ++k, w += {entries}) {{",
                *(f"        {s}" for s in self.mca_mark("BEGIN", f"{name}_p{p}", p)),
                f"        const {self.isa.elem} *ip = tile_in + (int64_t){name}_chan[k] * {geo.k * geo.plane};",
            ]
            lines += [f"        {s}" for s in self.body(bodies[p]) + self.mca_mark("END", f"{name}_p{p}")]
            lines += ["      }", "    }"]
        return lines + self.close_filter() + ["  }", "  }", "  }", "  }", "}", ""]

    def open_tiles(self) -> list[str]:
        """The function head and the column / row tile loops (left open)."""
        geo = self.geo
        return [
            f"static void {self.name}_filters(void *arg, int64_t begin, int64_t end) {{",
            "  const pdnn_conv_job *job = (const pdnn_conv_job *)arg;",
            "  const int y_end = job->y_end;",
            f"  for (int x0 = 0; x0 < {geo.wo}; x0 += {geo.tile}) {{",
            "  for (int yy = job->y_begin; yy < y_end; yy += " + str(geo.rows) + ") {",
            f"  const int y0 = yy + {geo.rows} <= y_end ? yy : y_end - {geo.rows};",
            f"  const {self.isa.elem} *tile_in = {self.in_cast()}job->in + (int64_t)(y0 - job->y_begin) * {geo.stride[0] * geo.row_len} + x0;",
        ]

    def open_filter(self, psum_index: str = "o") -> list[str]:
        """Filter `o` of visit `idx` in channel block `b`: its accumulators, from the bias (first
        block) or its partial sums (the `psum_index`-th tile of the scratch)."""
        isa, geo, name, op = self.isa, self.geo, self.name, self.op
        vw = isa.vector_width
        accs = [(r, v) for r in range(geo.rows) for v in range(geo.vectors)]
        bias = isa.broadcast(f"{name}_bias[o]" if op.bias is not None else "0.0f")
        filter_of = f"{name}_order[idx]" if op.filter_order is not None else "idx"
        lines = [f"    const int o = (int){filter_of};", f"    const {isa.vec_type} vbias = {bias};"]
        if geo.num_blocks > 1:
            lines.append(f"    float *ps = job->psum + (int64_t){psum_index} * {geo.rows * geo.tile};")
            lines += [
                f"    {isa.vec_type} {self.acc(r, v)} = b == 0 ? vbias : {isa.load(f'ps + {r * geo.tile + v * vw}')};"
                for r, v in accs
            ]
        else:
            lines.append(f"    {isa.vec_type} {', '.join(f'{self.acc(r, v)} = vbias' for r, v in accs)};")
        return lines

    def close_filter(self) -> list[str]:
        """Partial sums out after all but the last block; activation and the output store after it."""
        isa, geo, vw = self.isa, self.geo, self.isa.vector_width
        accs = [(r, v) for r in range(geo.rows) for v in range(geo.vectors)]
        lines = []
        if geo.num_blocks > 1:
            lines.append(f"    if (b < {geo.num_blocks - 1}) {{")
            lines += [f"      {isa.store(f'ps + {r * geo.tile + v * vw}', self.acc(r, v))}" for r, v in accs]
            lines += ["      continue;", "    }"]
        lines += [f"    {s}" for s in self.epilogue([self.acc(r, v) for r, v in accs])]
        lines += [f"    {s}" for s in self.store(accs)]
        return lines

    def body(self, body: kernel.PatternBodyOp) -> list[str]:
        """One kept kernel: the body's loads and FMAs, replicated over the vectors of a row."""
        isa, geo, vw = self.isa, self.geo, self.isa.vector_width
        names: dict[SSAValue, str] = {}
        weights: set[int] = set()
        lines: list[str] = []
        for count, inner in enumerate(body.body.block.ops):
            if isinstance(inner, kernel.LoadTapOp):
                offset = inner.col.value.data * geo.plane + inner.row.value.data * geo.row_len
                names[inner.result] = f"v{count}"
                lines += [
                    f"const {isa.vec_type} v{count}_{t} = {isa.load(f'ip + {offset + t * vw}')};"
                    for t in range(geo.vectors)
                ]
            elif isinstance(inner, kernel.FmaOp):
                entry, row = inner.entry.value.data, inner.row_index()
                if entry not in weights:
                    weights.add(entry)
                    lines.append(f"const {isa.vec_type} w{entry} = {isa.broadcast(f'w[{entry}]')};")
                value = names[inner.value]
                lines += [
                    f"{self.acc(row, t)} = {isa.fma(self.acc(row, t), f'{value}_{t}', f'w{entry}')};"
                    for t in range(geo.vectors)
                ]
            else:
                raise EmitError(f"'{inner.name}' cannot be printed inside a pattern body")
        return lines

    def epilogue(self, accs: list[str]) -> list[str]:
        return activation_lines(self.isa, self.op.activation, accs)

    def store(self, accs: list[tuple[int, int]], isa: Isa | None = None, acc=None) -> list[str]:
        """Full tiles store straight to the output rows; the ragged last column tile goes through
        a buffer (one branch per tile, never per element). `isa` / `acc`: the fp32 vectors and
        their names when the tile was computed in another precision (pattern_fp16.py)."""
        isa, acc = isa or self.isa, acc or self.acc
        geo, vw = self.geo, isa.vector_width
        lines = [f"float *out_t = job->out + (int64_t)o * {geo.ho * geo.wo} + (int64_t)y0 * {geo.wo} + x0;"]
        if geo.wo % geo.tile == 0:
            return lines + [isa.store(f"out_t + {r * geo.wo + v * vw}", acc(r, v)) for r, v in accs]
        lines += [f"if (x0 + {geo.tile} <= {geo.wo}) {{"]
        lines += [f"  {isa.store(f'out_t + {r * geo.wo + v * vw}', acc(r, v))}" for r, v in accs]
        lines += ["} else {", f"  float tail[{geo.rows * geo.tile}];"]
        lines += [f"  {isa.store(f'tail + {r * geo.tile + v * vw}', acc(r, v))}" for r, v in accs]
        lines += [
            f"  for (int r = 0; r < {geo.rows}; ++r)",
            f"    memcpy(out_t + r * {geo.wo}, tail + r * {geo.tile}, (size_t)({geo.wo} - x0) * sizeof(float));",
            "}",
        ]
        return lines
