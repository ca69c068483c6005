"""C for `kernel.pattern_conv`: the loop nest around the register-level pattern bodies.

For one layer the emitter prints

* the FKW index (from fkw-pack, else derived from the pattern ids): per (channel block, filter,
  pattern) a segment (first kernel, end kernel, first weight), and the input channel of every kept
  kernel; weights stay in the canonical FKW order, inline or from the blob;
* `<layer>_filters(job, begin, end)`, run by the thread pool on a range of (reordered) filters:
  column tiles → row tiles → channel blocks → filters → one branch-free loop per pattern segment,
  whose body is the `kernel.pattern_body` of that pattern replicated over the vectors of a row.
  The register tile is `tile_y` rows x `tile_x` columns of one filter. Partial sums of all but
  the last channel block go to a scratch tile; the last block applies the activation and stores.
  The last row tile is shifted up to end on the last row (it recomputes a few rows instead of
  branching); the last column tile stores through a small buffer;
* `<layer>(ctx, in, out)`: for each block of output rows (sized so its input stays in L2), builds
  the block's tap-shifted input (runtime `pdnn_shift_input`: one aligned, unit-stride plane per
  kernel column, any stride) in scratch, then runs the filters on that block. The last block is
  shifted up to end on the last row, like the last tile. With several threads each thread takes
  a band of output rows (whole register tiles) and shifts and computes its blocks in its own
  scratch slot: one fork/join per layer instead of two barriers per block, and each core reads
  the shifted input from its own L2 (VGG-16's 256->512 @28 layer on 2 cores: 2.03 -> 1.32 ms). Only
  when there are fewer register-tile rows than threads (7x7, 14x14 layers with tall tiles) do
  the threads split the filters of each shared block instead.
"""

from __future__ import annotations

from dataclasses import dataclass
import numpy as np
from xdsl.ir import SSAValue

from patdnn.backend.c_emitter import CEmitter, EmitError, _int_array
from patdnn.backend.isa import Isa
from patdnn.dialects import kernel, pattern
from patdnn.fkw import BlockedFkw, blocked_fkw

def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


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
    vectors: int  # vectors per row of the register tile
    tile: int  # output columns per register tile (vectors * vector width)
    rows: int  # output rows per register tile
    block: int  # input channels per cache block
    row_len: int  # floats per row of a tap-shifted plane (a multiple of the tile)
    block_rows: int  # output rows per row block (>= rows; the input of a block is shifted at once)

    @property
    def plane_rows(self) -> int:
        """Input rows of a row block's tap-shifted plane."""
        return (self.block_rows - 1) * self.stride[0] + self.k

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
        return self.cin * self.k * self.plane

    @property
    def psum_floats(self) -> int:
        return self.cout * self.rows * self.tile if self.num_blocks > 1 else 0

    @staticmethod
    def of(op: kernel.PatternConvOp, isa: Isa) -> ConvGeometry:
        n, cin, h, w = pattern.shape_of(op.input)
        _, cout, ho, wo = pattern.shape_of(op.output)
        sh, sw = op.stride.get_values()
        ph, pw = op.padding.get_values()
        k = op.library.size
        vw = isa.vector_width
        tile = min(_round_up(op.schedule_value("tile_x"), vw), _round_up(wo, vw))
        rows = min(op.schedule_value("tile_y"), ho)
        block = min(op.schedule_value("channel_block"), cin)
        row_len = _round_up(wo, tile)
        per_row = cin * k * row_len * 4  # bytes of one shifted input row, all channels and columns
        fit = max(rows, ((SHIFTED_BLOCK_BYTES // per_row - k) // sh + 1) // rows * rows)
        block_rows = min(ho, fit)
        return ConvGeometry(
            n, cin, h, w, cout, ho, wo, k, (sh, sw), (ph, pw), tile // vw, tile, rows, block, row_len, block_rows
        )


def _fkw(op: kernel.PatternConvOp, geo: ConvGeometry) -> tuple[np.ndarray, np.ndarray]:
    """The (segments, channels) arrays: fkw-pack's, or derived here from the pattern ids."""
    if op.fkw_segments is not None and op.fkw_channels is not None:
        segments = np.frombuffer(op.fkw_segments.data.data, dtype=np.int32)
        return segments, np.frombuffer(op.fkw_channels.data.data, dtype=np.int32)
    index: BlockedFkw = blocked_fkw(pattern.kernel_ids(op), op.library.entries(), geo.block)
    return index.segments.reshape(-1), index.channel


def emit_pattern_conv(emitter: CEmitter, op: kernel.PatternConvOp, name: str) -> str:
    """Prints one layer's data, filter loop and driver; returns the call for the function body."""
    geo = ConvGeometry.of(op, emitter.isa)
    segments, channels = _fkw(op, geo)
    ids = pattern.kernel_ids(op)
    from patdnn.backend.c_pattern_taps import emit_tap_list, tap_list_supported  # builds on this module

    tap_lists = op.schedule_value("filter_group") > 0 and tap_list_supported(op.library.entries())
    emitter.out.append(
        f"/* {name}: {geo.cin} -> {geo.cout} channels, {geo.h}x{geo.w} -> {geo.ho}x{geo.wo}, "
        f"stride {list(geo.stride)}, padding {list(geo.pad)}, {op.activation.data.value}; "
        f"{op.library.num_patterns} patterns, {channels.size}/{ids.size} kernels kept; "
        f"register tile {geo.rows}x{geo.tile}, {geo.num_blocks} channel block(s) of {geo.block} */"
    )
    if not tap_lists:  # the tap-list form reads its own arrays, derived from these
        emitter.out += [
            f"static const int32_t {name}_seg[{max(segments.size, 1)}] = {_int_array(segments)};",
            f"static const int32_t {name}_chan[{max(channels.size, 1)}] = {_int_array(channels)};",
        ]
    emitter.declare_weights(f"{name}_weights", op.weights)
    if op.bias is not None:
        emitter.declare_weights(f"{name}_bias", op.bias)
    if op.filter_order is not None:
        order = np.array(list(op.filter_order.get_values()))
        emitter.out.append(f"static const int32_t {name}_order[{order.size}] = {_int_array(order)};")
    if tap_lists:
        emit_tap_list(emitter, op, name, geo, segments, channels)
    else:
        emitter.out += FilterLoop(emitter.isa, op, name, geo).lines()
    emitter.out += _driver(name, geo)
    emitter.reserve_thread_slot(geo.shifted_floats + geo.psum_floats)
    return f"{name}(ctx, {emitter.value_names[op.input]}, {emitter.value_names[op.output]});"


def activation_lines(isa: Isa, act: pattern.Activation, accs: list[str]) -> list[str]:
    """The fused activation applied in place to the accumulators `accs` (shared by the block kernels)."""
    if act == pattern.Activation.NONE:
        return []
    lines = [f"const {isa.vec_type} vzero = {isa.broadcast('0.0f')};"]
    if act == pattern.Activation.RELU6:
        lines.append(f"const {isa.vec_type} vsix = {isa.broadcast('6.0f')};")
    for a in accs:
        clamped = isa.max(a, "vzero")
        if act == pattern.Activation.RELU6:
            clamped = isa.min(clamped, "vsix")
        lines.append(f"{a} = {clamped};")
    return lines


@dataclass
class FilterLoop:
    isa: Isa
    op: kernel.PatternConvOp
    name: str
    geo: ConvGeometry

    def acc(self, row: int, vector: int) -> str:
        return f"acc{row}_{vector}"

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
                f"      const float *w = {name}_weights + sg[{3 * p + 2}];",
                f"      for (int32_t k = sg[{3 * p}]; k < sg[{3 * p + 1}]; ++k, w += {entries}) {{",
                f"        const float *ip = tile_in + (int64_t){name}_chan[k] * {geo.k * geo.plane};",
            ]
            lines += [f"        {s}" for s in self.body(bodies[p])]
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
            f"  const float *tile_in = job->in + (int64_t)(y0 - job->y_begin) * {geo.stride[0] * geo.row_len} + x0;",
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
        return activation_lines(self.isa, self.op.activation.data, accs)

    def store(self, accs: list[tuple[int, int]]) -> list[str]:
        """Full tiles store straight to the output rows; the ragged last column tile goes through
        a buffer (one branch per tile, never per element)."""
        isa, geo, vw = self.isa, self.geo, self.isa.vector_width
        lines = [f"float *out_t = job->out + (int64_t)o * {geo.ho * geo.wo} + (int64_t)y0 * {geo.wo} + x0;"]
        if geo.wo % geo.tile == 0:
            return lines + [isa.store(f"out_t + {r * geo.wo + v * vw}", self.acc(r, v)) for r, v in accs]
        lines += [f"if (x0 + {geo.tile} <= {geo.wo}) {{"]
        lines += [f"  {isa.store(f'out_t + {r * geo.wo + v * vw}', self.acc(r, v))}" for r, v in accs]
        lines += ["} else {", f"  float tail[{geo.rows * geo.tile}];"]
        lines += [f"  {isa.store(f'tail + {r * geo.tile + v * vw}', self.acc(r, v))}" for r, v in accs]
        lines += [
            f"  for (int r = 0; r < {geo.rows}; ++r)",
            f"    memcpy(out_t + r * {geo.wo}, tail + r * {geo.tile}, (size_t)({geo.wo} - x0) * sizeof(float));",
            "}",
        ]
        return lines


def _driver(name: str, geo: ConvGeometry) -> list[str]:
    """`<name>(ctx, in, out)`. With as many threads as register-tile rows allow, each thread takes
    its own band of output rows and shifts that band's input into its own scratch slot: no barrier
    between shifting and computing, and each core reads the input it wrote from its own L2.
    Otherwise (one thread, or fewer tile rows than threads) the threads share each row block,
    shifted once, and split its filters."""
    slot = geo.shifted_floats + geo.psum_floats
    psum = f" + {geo.shifted_floats}" if geo.psum_floats else ""
    sh, ph, b = geo.stride[0], geo.pad[0], geo.block_rows
    full = geo.ho // geo.rows  # whole register tiles in the output's height
    image_in, image_out = f"in + (int64_t)n * {geo.cin * geo.h * geo.w}", f"out + (int64_t)n * {geo.cout * geo.ho * geo.wo}"

    def shift(scratch: str, y_begin: str) -> str:
        return (f"pdnn_shift_input(ctx, {image_in}, {scratch}, {geo.cin}, {geo.h}, {geo.w}, {geo.k}, {geo.stride[1]}, "
                f"{y_begin} * {sh} - {ph}, {geo.pad[1]}, {geo.plane_rows}, {geo.row_len});")

    def job(scratch: str, y_begin: str, y_end: str) -> str:
        return (f"pdnn_conv_job job = {{{scratch}, {image_out}, {f'{scratch}{psum}' if psum else 'NULL'}, "
                f"{y_begin}, {y_end}}};")

    return [
        "typedef struct { pdnn_ctx *ctx; const float *in; float *out; int n, bands; } "
        f"{name}_band_job;",
        f"static void {name}_bands(void *arg, int64_t begin, int64_t end) {{",
        f"  const {name}_band_job *bj = ({name}_band_job *)arg;",
        "  pdnn_ctx *ctx = bj->ctx; /* nested calls run inline on this thread */",
        "  const float *in = bj->in; float *out = bj->out; const int n = bj->n;",
        "  for (int64_t s = begin; s < end; ++s) {",
        f"    const int lo = (int)(s * {full} / bj->bands) * {geo.rows}; /* whole register tiles; the last band gets the rest */",
        f"    const int hi = s + 1 == bj->bands ? {geo.ho} : (int)((s + 1) * {full} / bj->bands) * {geo.rows};",
        f"    float *slot = patdnn_scratch + s * {slot};",
        f"    {job('slot', '0', '0')}",
        f"    for (int yb = lo; yb < hi; yb += {b}) {{",
        f"      job.y_begin = yb + {b} <= hi ? yb : (hi - {b} > lo ? hi - {b} : lo);",
        f"      job.y_end = job.y_begin + {b} < hi ? job.y_begin + {b} : hi;",
        f"      {shift('slot', 'job.y_begin')}",
        f"      {name}_filters(&job, 0, {geo.cout});",
        "    }",
        "  }",
        "}",
        f"static void {name}(pdnn_ctx *ctx, const float *in, float *out) {{",
        "  int bands = pdnn_ctx_num_threads(ctx);",
        "  if (bands > patdnn_scratch_slots) bands = patdnn_scratch_slots;",
        f"  if (bands > {full}) bands = {full}; /* a band holds a register tile */",
        f"  for (int n = 0; n < {geo.n}; ++n) {{",
        "    if (bands > 1) {",
        f"      {name}_band_job bj = {{ctx, in, out, n, bands}};",
        f"      pdnn_parallel_for(ctx, bands, {name}_bands, &bj);",
        "      continue;",
        "    }",
        f"    for (int yb = 0; yb < {geo.ho}; yb += {b}) {{",
        f"      const int y_begin = yb + {b} <= {geo.ho} ? yb : {geo.ho - b};",
        f"      {shift('patdnn_scratch', 'y_begin')}",
        f"      {job('patdnn_scratch', 'y_begin', f'y_begin + {b}')}",
        f"      pdnn_parallel_for(ctx, {geo.cout}, {name}_filters, &job);",
        "    }",
        "  }",
        "}",
        "",
    ]
