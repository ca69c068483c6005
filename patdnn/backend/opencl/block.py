"""OpenCL C for the block-sparse ops (`block.conv2d`, `block.linear`): one kernel per layer.

Both ops are a GEMM `out[Cout, P] = W[Cout, K] x in[K, P]` whose filters come in blocks of R
(see patdnn.dialects.block): filter block b keeps the columns `start[b]..start[b+1]` of a column
list, and every kept column holds the block's R weights contiguously.

* block.conv2d — work-item = the R filters of ONE filter block x a `tile_y` x `tile_x` tile of
  output pixels (R x tile accumulators, in float); work-group = `wg_x` x `wg_y` pixel tiles of the
  same filter block (global dimension 2 runs over batch x filter blocks). The work-item loops over
  the block's kept columns: per column it loads the R weights and, per pixel of its tile, one input
  element at `coff[k]` + a compile-time offset. `coff` is the column decoded into (c, ky, kx) at
  compile time: `c * plane + ky * row + kx` in the (zero-padded when needed) input, so there is no
  im2col pass and no bounds check; trip counts, column offsets and weights are the same for every
  work-item of a group (uniform loads, no divergence). The input is zero-padded (runtime kernel
  `pdnn_pad`) only when the layer has padding or the last tile over-reads; a 1x1 convolution whose
  tile divides the output reads its input in place. Filters past Cout in the last block compute on
  zero weights and are not stored.
* block.linear — the pixels are the batch rows, usually one: to keep a GPU busy, a work-group of
  `wg_x * wg_y` work-items splits ONE filter block's kept columns (column k goes to work-item
  k mod group size), each accumulating R x `tile_x` batch rows; the partial sums meet in local
  memory and the group's first work-items add them up, apply bias and activation and store.
  Global: (group size, batch-row tiles, filter blocks).

Precision: buffers are `real` (half with -DPDNN_FP16, as the pattern kernels'); accumulation is in
float like the dense runtime kernels, since block layers (FC above all) have long reductions.

Schedule: the target's tile / work-group defaults, overridden per layer by the `patdnn.opencl`
attribute (as for pattern convolutions). Without a per-layer tile the default tile shrinks
(rows first) until R x tile <= MAX_ACCUMULATORS, so wide blocks do not spill registers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from xdsl.dialects.builtin import DictionaryAttr
from xdsl.ir import Operation

from patdnn.backend.common import EmitError
from patdnn.backend.opencl.kernels import activation_lines, guarded
from patdnn.backend.opencl.schedule import SCHEDULE_ATTR, ClConvGeometry, ClSchedule
from patdnn.backend.opencl.state import Launch, OpenCLState, buf, layer_label, num, pad_launch
from patdnn.dialects import block
from patdnn.dialects.common import ceil_div, pair, shape_of

MAX_ACCUMULATORS = 32  # float accumulators per work-item when the tile is not set per layer


def block_schedule(op: block.BlockSparseBase, schedule: ClSchedule) -> ClSchedule:
    """The op's schedule; a tile not set on the layer shrinks to at most MAX_ACCUMULATORS."""
    scheduled = schedule.for_op(op)
    overrides = op.attributes.get(SCHEDULE_ATTR)
    explicit = set(overrides.data) if isinstance(overrides, DictionaryAttr) else set()
    rows = block.block_rows(op)
    tile_x, tile_y = scheduled.tile_x, scheduled.tile_y
    while rows * tile_x * tile_y > MAX_ACCUMULATORS and "tile_y" not in explicit and tile_y > 1:
        tile_y = max(1, tile_y // 2)
    while rows * tile_x * tile_y > MAX_ACCUMULATORS and "tile_x" not in explicit and tile_x > 1:
        tile_x = max(1, tile_x // 2)
    return replace(scheduled, tile_x=tile_x, tile_y=tile_y)


def conv_geometry(op: block.Conv2dOp, schedule: ClSchedule) -> ClConvGeometry:
    rows = block.block_rows(op)
    cout = shape_of(op.output)[1]
    return ClConvGeometry.window(
        shape_of(op.input),
        shape_of(op.output),
        pair(op.kernel),
        pair(op.stride),
        pair(op.padding),
        block_schedule(op, schedule),
        planes=ceil_div(cout, rows),
    )


def column_offsets(op: block.Conv2dOp, geo: ClConvGeometry) -> np.ndarray:
    """Each kept column (c*KH + ky)*KW + kx as its offset c*plane + ky*row + kx in the kernel's input."""
    columns = np.asarray(op.columns.get_values(), dtype=np.int64)
    kh, kw = geo.kernel
    c, ky, kx = columns // (kh * kw), columns // kw % kh, columns % kw
    offsets = c * geo.plane + ky * geo.padded_w + kx
    if offsets.size and offsets.max() >= 2**31:
        raise EmitError(f"'{op.name}': input of {geo.cin} x {geo.plane} elements is too large for int offsets")
    return offsets.astype(np.int32)


def _weight_loads(rows: int) -> list[str]:
    return [f"const float w{r} = (float)wp[{r}];" for r in range(rows)]


def _bias_init(op: block.BlockSparseBase, rows: int, cout: int, o0: str) -> list[str]:
    """The initial value of filter r of the block (float); rows past Cout read a valid bias."""
    if op.bias is None:
        return ["0.0f"] * rows
    ragged = cout % rows != 0
    return [
        f"(float)bias[min({o0} + {r}, {cout - 1})]" if ragged and r >= cout % rows else f"(float)bias[{o0} + {r}]"
        for r in range(rows)
    ]


def _params(op: block.BlockSparseBase, index_name: str) -> str:
    params = [
        "__global const real *in",
        "int in_off",
        "__global real *out",
        "int out_off",
        "__global const real *w",
        *(["__global const real *bias"] if op.bias is not None else []),
        "__global const int *start",
        f"__global const int *{index_name}",
    ]
    return ", ".join(params)


@dataclass
class _BlockKernelPrinter:
    """The OpenCL C of one block-sparse layer: the op, its kernel's name and its launch geometry."""

    op: block.Conv2dOp | block.LinearOp
    name: str
    geo: ClConvGeometry | ClLinearGeometry


class BlockConvPrinter(_BlockKernelPrinter):
    """The OpenCL C of one block.conv2d (see the module docstring)."""

    op: block.Conv2dOp
    geo: ClConvGeometry

    def source(self) -> str:
        op, geo, rows = self.op, self.geo, block.block_rows(self.op)
        blocks = ceil_div(geo.cout, rows)
        sh, sw = geo.stride
        tiles = [(j, t) for j in range(geo.tile_y) for t in range(geo.tile_x)]
        accs = {(r, j, t): f"acc{r}_{j}_{t}" for r in range(rows) for j, t in tiles}
        inits = _bias_init(op, rows, geo.cout, "o0")
        lines = [
            f"/* {self.name}: block-sparse {geo.cin} -> {geo.cout} channels, {geo.h}x{geo.w} -> {geo.ho}x{geo.wo}, "
            f"kernel {list(geo.kernel)}, stride {list(geo.stride)}, padding {list(geo.pad)}, "
            f"{op.activation.text()}; {blocks} filter blocks of {rows}, {len(op.columns)} kept columns of "
            f"{blocks * geo.cin * geo.kernel[0] * geo.kernel[1]}; tile {geo.tile_y}x{geo.tile_x}, work-group "
            f"{geo.local[0]}x{geo.local[1]}; {'padded ' if geo.needs_padding else ''}input {geo.padded_h}x{geo.padded_w} */",
            f"__kernel __attribute__((reqd_work_group_size({geo.local[0]}, {geo.local[1]}, 1)))",
            f"void {self.name}({_params(op, 'coff')}) {{",
            "  const int tx = get_global_id(0), ty = get_global_id(1), z = get_global_id(2);",
        ]
        if geo.global_size[:2] != (geo.tiles_x, geo.tiles_y):
            lines.append(f"  if (tx >= {geo.tiles_x} || ty >= {geo.tiles_y}) return; /* work-group padding */")
        lines += [
            f"  const int b = z / {blocks}, o0 = z % {blocks} * {rows};",
            f"  const int x0 = tx * {geo.tile_x}, y0 = ty * {geo.tile_y};",
            f"  __global const real *in_t = in + in_off + b * {geo.cin * geo.plane} + y0 * {sh * geo.padded_w} + x0 * {sw};",
            f"  __global real *out_t = out + out_off + (b * {geo.cout} + o0) * {geo.ho * geo.wo} + y0 * {geo.wo} + x0;",
            *[f"  float {', '.join(accs[r, j, t] + ' = ' + inits[r] for j, t in tiles)};" for r in range(rows)],
            f"  const int end = start[z % {blocks} + 1];",
            f"  __global const real *wp = w + start[z % {blocks}] * {rows};",
            f"  for (int k = start[z % {blocks}]; k < end; ++k, wp += {rows}) {{",
            "    __global const real *ip = in_t + coff[k];",
            *[f"    {s}" for s in _weight_loads(rows)],
        ]
        for j, t in tiles:
            lines.append(f"    const float i{j}_{t} = (float)ip[{j * sh * geo.padded_w + t * sw}];")
        for r in range(rows):
            lines.append(
                "    " + " ".join(f"{accs[r, j, t]} = fma(w{r}, i{j}_{t}, {accs[r, j, t]});" for j, t in tiles)
            )
        lines.append("  }")
        lines += [f"  {s}" for s in activation_lines(op.activation, list(accs.values()), "float")]
        ragged_rows = geo.cout % rows
        for (r, j, t), acc in accs.items():
            checks = geo.edge_checks(j, t) + ([f"o0 + {r} < {geo.cout}"] if ragged_rows and r >= ragged_rows else [])
            lines.append("  " + guarded(checks, f"out_t[{r * geo.ho * geo.wo + j * geo.wo + t}] = (real){acc};"))
        lines += ["}", ""]
        return "\n".join(lines)


@dataclass(frozen=True)
class ClLinearGeometry:
    """block.linear: (N, K) -> (N, M), `rows_per_item` batch rows per work-item, `group`
    work-items splitting a filter block's kept columns."""

    n: int
    k: int
    m: int
    rows_per_item: int
    group: int

    @staticmethod
    def of(op: block.LinearOp, schedule: ClSchedule) -> ClLinearGeometry:
        n, k = shape_of(op.input)
        m = shape_of(op.output)[1]
        scheduled = block_schedule(op, schedule)
        longest = max((len(cols) for cols in block.column_lists(op)), default=0)
        group = max(1, min(scheduled.wg_x * scheduled.wg_y, longest))
        return ClLinearGeometry(n, k, m, min(scheduled.tile_x, n), group)

    @property
    def row_tiles(self) -> int:
        return ceil_div(self.n, self.rows_per_item)

    def global_size(self, blocks: int) -> tuple[int, int, int]:
        return (self.group, self.row_tiles, blocks)


class BlockLinearPrinter(_BlockKernelPrinter):
    """The OpenCL C of one block.linear (see the module docstring)."""

    op: block.LinearOp
    geo: ClLinearGeometry

    def source(self) -> str:
        op, geo, rows = self.op, self.geo, block.block_rows(self.op)
        blocks, tn, group = ceil_div(geo.m, rows), geo.rows_per_item, geo.group
        accs = {(r, t): f"acc{r}_{t}" for r in range(rows) for t in range(tn)}
        ragged_n = geo.n % tn != 0
        lines = [
            f"/* {self.name}: block-sparse linear {geo.k} -> {geo.m}, batch {geo.n}, {op.activation.text()}; "
            f"{blocks} filter blocks of {rows}, {len(op.columns)} kept columns of {blocks * geo.k}; "
            f"{tn} batch row{'s' if tn > 1 else ''} per work-item, {group} work-items per filter block */",
            f"__kernel __attribute__((reqd_work_group_size({group}, 1, 1)))",
            f"void {self.name}({_params(op, 'col')}) {{",
            "  const int lid = get_local_id(0), n0 = get_global_id(1) * " + f"{tn}, blk = get_global_id(2);",
            f"  __local float part[{rows * tn}][{group}];",
        ]
        for t in range(tn):  # rows past N (last tile) re-read row N-1: never stored
            row = f"min(n0 + {t}, {geo.n - 1})" if ragged_n and t >= geo.n % tn else f"n0 + {t}"
            lines.append(f"  __global const real *in{t} = in + in_off + ({row}) * {geo.k};")
        lines += [
            f"  float {', '.join(f'{acc} = 0.0f' for acc in accs.values())};",
            "  const int end = start[blk + 1];",
            f"  __global const real *wp = w + (start[blk] + lid) * {rows};",
            f"  for (int k = start[blk] + lid; k < end; k += {group}, wp += {group * rows}) {{",
            "    const int c = col[k];",
            *[f"    {s}" for s in _weight_loads(rows)],
            *[f"    const float i{t} = (float)in{t}[c];" for t in range(tn)],
        ]
        for r in range(rows):
            lines.append("    " + " ".join(f"{accs[r, t]} = fma(w{r}, i{t}, {accs[r, t]});" for t in range(tn)))
        lines.append("  }")
        lines += [f"  part[{r * tn + t}][lid] = {acc};" for (r, t), acc in accs.items()]
        bias = "(float)bias[o0 + r]" if op.bias is not None else "0.0f"  # here o0 + r < M: no clamp
        lines += [
            "  barrier(CLK_LOCAL_MEM_FENCE);",
            f"  for (int q = lid; q < {rows * tn}; q += {group}) {{ /* q = r * {tn} + t */",
            f"    const int r = q / {tn}, n = n0 + q % {tn}, o0 = blk * {rows};",
            f"    if (o0 + r >= {geo.m} || n >= {geo.n}) continue;",
            f"    float s = {bias};",
            f"    for (int i = 0; i < {group}; ++i) s += part[q][i];",
            *[f"    {s}" for s in activation_lines(op.activation, ["s"], "float")],
            f"    out[out_off + n * {geo.m} + o0 + r] = (real)s;",
            "  }",
            "}",
            "",
        ]
        return "\n".join(lines)


def scratch_elements(op: Operation, schedule: ClSchedule) -> int:
    """Elements of the padded-input scratch buffer `op` needs (0: none)."""
    if isinstance(op, block.Conv2dOp):
        geo = conv_geometry(op, schedule)
        return geo.padded_count if geo.needs_padding else 0
    return 0


def block_launches(emitter: OpenCLState, op: block.Conv2dOp | block.LinearOp) -> list[Launch]:
    """Declares the kernel, weights and index buffers of a block op on the OpenCL host emitter
    state; returns its launches (a pdnn_pad first when the conv reads a padded input)."""
    rows = block.block_rows(op)
    kind = "bconv" if isinstance(op, block.Conv2dOp) else "bfc"
    name = emitter.layer_symbol(op, kind)
    weights = emitter.device_weights(f"{name}_weights", op.weights)
    bias = emitter.device_weights(f"{name}_bias", op.bias)
    start = emitter.device_int32(f"{name}_start", np.asarray(op.offsets.get_values(), dtype=np.int32))
    (in_buf, in_off), (out_buf, out_off) = emitter.tensor(op.input), emitter.tensor(op.output)
    launches = []
    if isinstance(op, block.Conv2dOp):
        geo = conv_geometry(op, emitter.schedule)
        index = emitter.device_int32(f"{name}_coff", column_offsets(op, geo))
        emitter.kernel_sources.append(BlockConvPrinter(op, name, geo).source())
        if geo.needs_padding:
            launches.append(pad_launch(emitter.tensor(op.input), emitter.scratch, geo))
            in_buf, in_off = emitter.scratch, 0
        global_size, local = geo.global_size, geo.local
    else:
        lgeo = ClLinearGeometry.of(op, emitter.schedule)
        index = emitter.device_int32(f"{name}_col", np.asarray(op.columns.get_values(), dtype=np.int32))
        emitter.kernel_sources.append(BlockLinearPrinter(op, name, lgeo).source())
        global_size, local = lgeo.global_size(ceil_div(lgeo.m, rows)), (lgeo.group, 1, 1)
    args = [
        buf(in_buf),
        num(in_off),
        buf(out_buf),
        num(out_off),
        buf(weights),
        *([buf(bias)] if op.bias is not None else []),
        buf(start),
        buf(index),
    ]
    launches.append(Launch(name, args, global_size, local))
    return launches


def print_block_op(emitter: OpenCLState, op: block.Conv2dOp | block.LinearOp) -> str:
    """The printer's handler of block.conv2d and block.linear: the enqueues of the op's launches."""
    launches = block_launches(emitter, op)
    return emitter.launch(layer_label(op, launches[-1].kernel), launches)
