"""C for the block dialect: one generated kernel per block-sparse layer (conv or linear).

A block-pruned layer is the GEMM `out[Cout, P] = W x in[K, P]` whose filters come in blocks of R
that share one list of kept columns (see dialects/block.py). For `block.conv2d` the emitter prints

* `<layer>_off` / `<layer>_row`: per filter block, the input-matrix row of each kept column;
  `<layer>_weights`: per kept column the block's R weights (inline or from the blob);
* `<layer>_items(job, begin, end)`, run by the thread pool over (pixel chunk, filter-block group)
  work items, pixel-chunk major: the chunk's slice of the input rows (sized to stay in L2) is
  reused by every filter block of the item. Per filter block: register tiles of `rows` filters
  x `vectors` vectors of pixels; the loop over the block's kept columns does one (unaligned)
  vector load per column per vector, broadcasts each weight and FMAs it into every row of the
  tile — no per-element index. Bias + activation in the epilogue. The ragged pixel end of a
  chunk runs one vector at a time, then (vector ISAs) one pixel at a time; the filters past Cout
  of a partial last block are computed on zero weights and not stored.
* `<layer>(ctx, in, out)`: per image, the input matrix is the input itself for a 1x1, stride-1,
  unpadded conv (row c = channel c); any other conv first gathers only the rows of the union of
  kept columns (runtime `pdnn_gather_rows`, im2col of those rows) into the module's scratch.

`block.linear` (N x K → N x M, N usually 1) runs one work item per filter block: a loop over the
block's kept columns whose body is a fixed-size loop over the R filters (gcc vectorises it),
correct for any N.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from patdnn.backend.c.pattern_loop import activation_lines
from patdnn.backend.c.state import CState
from patdnn.backend.common import int32_array
from patdnn.dialects import block, common
from patdnn.dialects.common import round_up
from patdnn.isa import ISAS, Isa

L2_SLICE_BYTES = 256 * 1024  # a chunk's input rows: stay in L2 while every filter block reads them
FILTERS_PER_ITEM = 64  # filters (blocks x R) per work item: enough work per item, enough items
MAX_VECTORS = 4  # pixel vectors per register tile
ROW_ALIGN = 16  # floats: gathered rows start on 64-byte boundaries


def register_tile(isa: Isa, filters: int, pixels: int) -> tuple[int, int]:
    """(rows, vectors) of the register tile: `rows` divides the block's `filters` and leaves room
    for the `vectors` input vectors and one broadcast weight beside rows x vectors accumulators."""
    rows = max(d for d in range(1, filters + 1) if filters % d == 0 and d + 2 <= isa.registers)
    vectors = max(1, min(MAX_VECTORS, (isa.registers - 1) // (rows + 1), -(-pixels // isa.vector_width)))
    return rows, vectors


@dataclass(frozen=True)
class BlockGeometry:
    """The sizes one block-sparse conv is printed with."""

    n: int
    cin_size: int  # floats of one input image
    cout: int
    pixels: int  # P = Ho * Wo
    filters: int  # R, filters per block
    blocks: int
    rows: int  # filters per register tile (divides R)
    vectors: int
    width: int  # floats per vector
    in_rows: int  # rows of the input matrix the kernel reads (K, or the gathered union)
    ld: int  # floats between two input-matrix rows
    chunk: int  # pixels per work item
    group: int  # filter blocks per work item
    direct: bool  # the input matrix is the input itself (1x1, stride 1, no padding)

    @property
    def tile(self) -> int:
        return self.vectors * self.width

    @property
    def chunks(self) -> int:
        return -(-self.pixels // self.chunk)

    @property
    def groups(self) -> int:
        return -(-self.blocks // self.group)

    @staticmethod
    def of(op: block.Conv2dOp, isa: Isa, gathered: int) -> BlockGeometry:
        n, cin, h, w = common.shape_of(op.input)
        _, cout, ho, wo = common.shape_of(op.output)
        direct = (
            common.pair(op.kernel) == (1, 1) and common.pair(op.stride) == (1, 1) and common.pair(op.padding) == (0, 0)
        )
        pixels, filters = ho * wo, block.block_rows(op)
        rows, vectors = register_tile(isa, filters, pixels)
        tile = vectors * isa.vector_width
        in_rows = cin if direct else gathered
        ld = pixels if direct else round_up(pixels, ROW_ALIGN)
        fit = L2_SLICE_BYTES // (4 * max(in_rows, 1)) // tile * tile
        chunk = min(max(tile, fit), round_up(pixels, tile))
        blocks = -(-cout // filters)
        return BlockGeometry(
            n,
            cin * h * w,
            cout,
            pixels,
            filters,
            blocks,
            rows,
            vectors,
            isa.vector_width,
            in_rows,
            ld,
            chunk,
            max(1, min(blocks, FILTERS_PER_ITEM // filters)),
            direct,
        )


def _declare(emitter: CState, op: block.BlockSparseBase, name: str, rows: np.ndarray) -> None:
    """The column tables and weights of one layer."""
    offsets = np.asarray(op.offsets.get_values(), dtype=np.int64)
    emitter.out += [int32_array(f"{name}_off", offsets), int32_array(f"{name}_row", rows)]
    emitter.declare_weights_and_bias(name, op)


def emit_block_conv(emitter: CState, op: block.Conv2dOp) -> str:
    """Prints one block conv's tables, work-item function and driver; returns the call."""
    name = emitter.layer_symbol(op, "bconv")
    columns = np.asarray(op.columns.get_values(), dtype=np.int64)
    union = np.unique(columns)
    geo = BlockGeometry.of(op, emitter.isa, union.size)
    rows = columns if geo.direct else np.searchsorted(union, columns)
    (kh, kw), (sh, sw), (ph, pw) = common.pair(op.kernel), common.pair(op.stride), common.pair(op.padding)
    _, cin, h, w = common.shape_of(op.input)
    _, _, ho, wo = common.shape_of(op.output)
    emitter.out.append(
        f"/* {name}: block conv {cin} -> {geo.cout} channels, {h}x{w} -> {ho}x{wo}, kernel [{kh}, {kw}], stride "
        f"[{sh}, {sw}], padding [{ph}, {pw}], {op.activation.text()}; blocks of {geo.filters} filters, "
        f"{columns.size}/{geo.blocks * cin * kh * kw} block columns kept, "
        f"{'direct input' if geo.direct else f'{union.size} gathered rows'}; register tile {geo.rows}x{geo.tile}, "
        f"work items of {geo.chunk} pixels x {geo.group} blocks */"
    )
    _declare(emitter, op, name, rows)
    if not geo.direct:
        emitter.out.append(int32_array(f"{name}_gather", union))
        emitter.reserve_scratch(geo.in_rows * geo.ld)
    emitter.out += ConvItems(emitter.isa, op, name, geo).lines()
    image_in = f"in + (int64_t)n * {geo.cin_size}"
    gather = (
        []
        if geo.direct
        else [
            f"    pdnn_gather_rows(ctx, {image_in}, patdnn_scratch, {geo.ld}, {name}_gather, {union.size}, {h}, {w}, "
            f"{ho}, {wo}, {kh}, {kw}, {sh}, {sw}, {ph}, {pw});"
        ]
    )
    emitter.out += [
        f"static void {name}(pdnn_ctx *ctx, const float *in, float *out) {{",
        f"  for (int n = 0; n < {geo.n}; ++n) {{",
        *gather,
        f"    pdnn_conv_job job = {{{image_in if geo.direct else 'patdnn_scratch'}, "
        f"out + (int64_t)n * {geo.cout * geo.pixels}, NULL, 0}};",
        f"    pdnn_parallel_for(ctx, {geo.chunks * geo.groups}, {name}_items, &job);",
        "  }",
        "}",
        "",
    ]
    return f"{name}(ctx, {emitter.value_names[op.input]}, {emitter.value_names[op.output]});"


@dataclass
class ConvItems:
    """The work-item function of one block conv."""

    isa: Isa
    op: block.Conv2dOp
    name: str
    geo: BlockGeometry

    def lines(self) -> list[str]:
        geo, name = self.geo, self.name
        bias = self.op.bias is not None
        lines = [
            f"static void {name}_items(void *arg, int64_t begin, int64_t end) {{",
            "  const pdnn_conv_job *job = (const pdnn_conv_job *)arg;",
            "  for (int64_t item = begin; item < end; ++item) {",
            f"  const int p0 = (int)(item / {geo.groups}) * {geo.chunk};",
            f"  const int p1 = p0 + {geo.chunk} < {geo.pixels} ? p0 + {geo.chunk} : {geo.pixels};",
            f"  const int blk0 = (int)(item % {geo.groups}) * {geo.group};",
            f"  const int blk1 = blk0 + {geo.group} < {geo.blocks} ? blk0 + {geo.group} : {geo.blocks};",
            "  for (int b = blk0; b < blk1; ++b) {",
            f"  const int32_t *rows = {name}_row + {name}_off[b];",
            f"  const int nk = {name}_off[b + 1] - {name}_off[b];",
            f"  for (int r0 = 0; r0 < {geo.filters}; r0 += {geo.rows}) {{",
            f"    const int o = b * {geo.filters} + r0;",
            f"    const int nr = {geo.cout} - o < {geo.rows} ? {geo.cout} - o : {geo.rows}; /* filters to store */",
            f"    const float *wb = {name}_weights + (int64_t){name}_off[b] * {geo.filters} + r0;",
            f"    float *ob = job->out + (int64_t)o * {geo.pixels};",
            *[
                f"    const float bias{r} = {f'{r} < nr ? {name}_bias[o + {r}] : ' if bias else ''}0.0f;"
                for r in range(geo.rows)
            ],
            "    int p = p0;",
        ]
        lines += self.tile_loop(self.isa, geo.vectors, f"p + {geo.tile} <= p1", geo.tile)
        if geo.vectors > 1:
            lines += self.tile_loop(self.isa, 1, f"p + {geo.width} <= p1", geo.width)
        if geo.width > 1:
            lines += self.tile_loop(ISAS["scalar"], 1, "p < p1", 1, fused=True)
        lines += ["  }", "  }", "  }", "}", ""]
        return lines

    def tile_loop(self, isa: Isa, vectors: int, condition: str, step: int, fused: bool = False) -> list[str]:
        """`for (; condition; p += step)` over register tiles of rows x `vectors` vectors of `isa`.
        `fused`: the scalar pixel tail of a vector ISA fuses its FMAs like the vector code."""
        geo, vw = self.geo, isa.vector_width
        accs = [[f"acc{r}_{v}" for v in range(vectors)] for r in range(geo.rows)]
        fma = (lambda a, x, w: f"__builtin_fmaf({x}, {w}, {a})") if fused else isa.fma
        body = ["const float *x = job->in + p;"]
        for r in range(geo.rows):
            bias = isa.broadcast(f"bias{r}")
            body.append(f"{isa.vec_type} " + ", ".join(f"{a} = {bias}" for a in accs[r]) + ";")
        body += [
            "const float *w = wb;",
            f"for (int j = 0; j < nk; ++j, w += {geo.filters}) {{",
            f"  const float *xr = x + (int64_t)rows[j] * {geo.ld};",
        ]
        body += [f"  const {isa.vec_type} x{v} = {isa.loadu(f'xr + {v * vw}')};" for v in range(vectors)]
        for r in range(geo.rows):
            body.append(f"  {{ const {isa.vec_type} wv = {isa.broadcast(f'w[{r}]')};")
            body += [f"    {accs[r][v]} = {fma(accs[r][v], f'x{v}', 'wv')};" for v in range(vectors)]
            body.append("  }")
        body.append("}")
        body += activation_lines(isa, self.op.activation, [a for row in accs for a in row])
        partial = geo.cout % geo.rows != 0  # only then can a tile have fewer filters to store
        for r in range(geo.rows):
            stores = [isa.store(f"ob + {r * geo.pixels} + p + {v * vw}", accs[r][v]) for v in range(vectors)]
            body.append(f"if ({r} < nr) {{ {' '.join(stores)} }}" if partial else " ".join(stores))
        return [f"    for (; {condition}; p += {step}) {{", *[f"      {s}" for s in body], "    }"]


def emit_block_linear(emitter: CState, op: block.LinearOp) -> str:
    """Prints one block linear layer (work item = filter block, loop over the batch inside)."""
    name = emitter.layer_symbol(op, "bfc")
    n, k = common.shape_of(op.input)
    m = common.shape_of(op.output)[1]
    r = block.block_rows(op)
    columns = np.asarray(op.columns.get_values(), dtype=np.int64)
    blocks = -(-m // r)
    emitter.out.append(
        f"/* {name}: block linear {k} -> {m}, batch {n}, {op.activation.text()}; blocks of {r} "
        f"filters, {columns.size}/{blocks * k} block columns kept */"
    )
    _declare(emitter, op, name, columns)
    vector = emitter.isa.vector
    fma = "__builtin_fmaf(w[r], xv, acc[r])" if vector else "acc[r] + w[r] * xv"
    bias = f"r < nr ? {name}_bias[o + r] : 0.0f" if op.bias is not None else "0.0f"
    scalar = ISAS["scalar"]
    act = activation_lines(scalar, op.activation, ["acc[r]"])
    emitter.out += [
        f"static void {name}_items(void *arg, int64_t begin, int64_t end) {{",
        "  const pdnn_conv_job *job = (const pdnn_conv_job *)arg;",
        "  for (int64_t b = begin; b < end; ++b) {",
        f"    const int32_t *cols = {name}_row + {name}_off[b];",
        f"    const int nk = {name}_off[b + 1] - {name}_off[b];",
        f"    const int o = (int)b * {r}, nr = {m} - o < {r} ? {m} - o : {r};",
        f"    for (int i = 0; i < {n}; ++i) {{",
        f"      const float *x = job->in + (int64_t)i * {k};",
        f"      float acc[{r}];",
        f"      for (int r = 0; r < {r}; ++r) acc[r] = {bias};",
        f"      const float *w = {name}_weights + (int64_t){name}_off[b] * {r};",
        f"      for (int j = 0; j < nk; ++j, w += {r}) {{",
        "        const float xv = x[cols[j]];",
        f"        for (int r = 0; r < {r}; ++r) acc[r] = {fma};",
        "      }",
        *([f"      for (int r = 0; r < {r}; ++r) {{ {' '.join(act)} }}"] if act else []),
        f"      for (int r = 0; r < nr; ++r) job->out[(int64_t)i * {m} + o + r] = acc[r];",
        "    }",
        "  }",
        "}",
        "",
        f"static void {name}(pdnn_ctx *ctx, const float *in, float *out) {{",
        "  pdnn_conv_job job = {in, out, NULL, 0};",
        f"  pdnn_parallel_for(ctx, {blocks}, {name}_items, &job);",
        "}",
        "",
    ]
    return f"{name}(ctx, {emitter.value_names[op.input]}, {emitter.value_names[op.output]});"
