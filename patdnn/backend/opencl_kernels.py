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
input channels come from FKW buffers (patdnn.fkw); per-layer sizes are compile-time constants.

The schedule is tunable per layer with a `patdnn.opencl = {tile_x = 4, tile_y = 2, wg_x = 8,
wg_y = 8}` dictionary attribute on the op (any subset); the target options give the defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import singledispatchmethod

from xdsl.dialects.builtin import DictionaryAttr, IntegerAttr
from xdsl.ir import Operation, SSAValue

from patdnn.backend.c_emitter import EmitError
from patdnn.dialects import kernel, pattern

SCHEDULE_ATTR = "patdnn.opencl"


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


@dataclass(frozen=True)
class ClSchedule:
    """Output pixels per work-item (tile_x columns x tile_y rows) and work-items per group."""

    tile_x: int = 4
    tile_y: int = 2
    wg_x: int = 8
    wg_y: int = 8

    def for_op(self, op: Operation) -> ClSchedule:
        """This schedule with the op's `patdnn.opencl` overrides applied (and checked)."""
        overrides = op.attributes.get(SCHEDULE_ATTR)
        values = {}
        if isinstance(overrides, DictionaryAttr):
            for key, attr in overrides.data.items():
                if key not in self.__dataclass_fields__ or not isinstance(attr, IntegerAttr):
                    raise EmitError(
                        f"{SCHEDULE_ATTR}: unknown or non-integer entry '{key}' "
                        f"(expected integers {', '.join(self.__dataclass_fields__)})"
                    )
                values[key] = attr.value.data
        return replace(self, **values).checked()

    def checked(self) -> ClSchedule:
        for key, value in vars(self).items():
            if value < 1:
                raise EmitError(f"OpenCL schedule {key}={value} must be >= 1")
        return self


@dataclass(frozen=True)
class ClConvGeometry:
    """The sizes one generated convolution kernel (pattern or block-sparse) is printed with."""

    input_shape: tuple[int, int, int, int]  # n, cin, h, w
    output_shape: tuple[int, int, int, int]  # n, cout, ho, wo
    kernel: tuple[int, int]  # kh, kw
    stride: tuple[int, int]
    pad: tuple[int, int]
    tile_x: int
    tile_y: int
    tiles_x: int
    tiles_y: int
    padded_w: int  # of the zero-padded input: room for the last tile's over-read
    padded_h: int
    local: tuple[int, int, int]
    global_size: tuple[int, int, int]

    n = property(lambda self: self.input_shape[0])
    cin = property(lambda self: self.input_shape[1])
    h = property(lambda self: self.input_shape[2])
    w = property(lambda self: self.input_shape[3])
    cout = property(lambda self: self.output_shape[1])
    ho = property(lambda self: self.output_shape[2])
    wo = property(lambda self: self.output_shape[3])

    @property
    def plane(self) -> int:
        return self.padded_h * self.padded_w

    @property
    def padded_count(self) -> int:
        return self.n * self.cin * self.plane

    @property
    def needs_padding(self) -> bool:
        """Whether the kernel reads a zero-padded copy of the input (else the input itself)."""
        return (self.padded_h, self.padded_w) != (self.h, self.w)

    @staticmethod
    def of(op: kernel.PatternConvOp, schedule: ClSchedule) -> ClConvGeometry:
        k = op.library.size
        return ClConvGeometry.window(pattern.shape_of(op.input), pattern.shape_of(op.output), (k, k),
                                     tuple(op.stride.get_values()), tuple(op.padding.get_values()), schedule)

    @staticmethod
    def window(input_shape, output_shape, kernel_size: tuple[int, int], stride, pad, schedule: ClSchedule,
               planes: int | None = None) -> ClConvGeometry:
        """Tiles a convolution's output for `schedule`; global dimension 2 runs over batch x
        `planes` (default: the output channels, one work-group column per filter)."""
        n, cin, h, w = input_shape
        _, cout, ho, wo = output_shape
        (kh, kw), (sh, sw), (ph, pw) = kernel_size, stride, pad
        tile_x, tile_y = min(schedule.tile_x, wo), min(schedule.tile_y, ho)
        tiles_x, tiles_y = _ceil_div(wo, tile_x), _ceil_div(ho, tile_y)
        # Last input column/row a tile reads, plus one; never less than the padded input itself.
        padded_w = max(w + 2 * pw, (tiles_x * tile_x - 1) * sw + kw)
        padded_h = max(h + 2 * ph, (tiles_y * tile_y - 1) * sh + kh)
        wg_x, wg_y = min(schedule.wg_x, tiles_x), min(schedule.wg_y, tiles_y)
        global_size = (_ceil_div(tiles_x, wg_x) * wg_x, _ceil_div(tiles_y, wg_y) * wg_y, n * (planes or cout))
        return ClConvGeometry(
            tuple(input_shape), tuple(output_shape), (kh, kw), (sh, sw), (ph, pw),  # type: ignore[arg-type]
            tile_x, tile_y, tiles_x, tiles_y, padded_w, padded_h, (wg_x, wg_y, 1), global_size,
        )

    def edge_checks(self, j: int, t: int) -> list[str]:
        """Conditions under which output (row j, column t) of a tile at (x0, y0) lies inside the
        output: only columns/rows past the remainder can fall outside, and only in the last tile."""
        ragged_x, ragged_y = self.wo % self.tile_x != 0, self.ho % self.tile_y != 0
        return ([f"x0 + {t} < {self.wo}"] if ragged_x and t >= self.wo % self.tile_x else []) + (
            [f"y0 + {j} < {self.ho}"] if ragged_y and j >= self.ho % self.tile_y else []
        )


def guarded(checks: list[str], statement: str) -> str:
    return f"if ({' && '.join(checks)}) {statement}" if checks else statement


def activation_lines(act: pattern.Activation, accs: list[str], ctype: str = "real") -> list[str]:
    """The fused activation applied in place to the accumulator variables `accs` (of C type `ctype`)."""
    if act == pattern.Activation.NONE:
        return []
    lines = []
    for acc in accs:
        value = f"fmax({acc}, ({ctype})0)"
        if act == pattern.Activation.RELU6:
            value = f"fmin({value}, ({ctype})6)"
        lines.append(f"{acc} = {value};")
    return lines


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
            "__global const real *in", "__global real *out", "int out_off", "__global const real *w",
            *(["__global const real *bias"] if op.bias is not None else []),
            "__global const int *seg", "__global const int *wseg", "__global const int *chan",
            *(["__global const int *order"] if self.has_order else []),
        ]
        sh, sw = geo.stride
        accs = self.accumulators()
        lines = [
            f"/* {self.name}: {geo.cin} -> {geo.cout} channels, {geo.h}x{geo.w} -> {geo.ho}x{geo.wo}, "
            f"stride {list(geo.stride)}, padding {list(geo.pad)}, {op.activation.data.value}; "
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
        for j, t, acc in self.accumulators():
            offset = (row + j * sh) * self.geo.padded_w + col + t * sw
            if offset not in self.loaded:
                self.loaded[offset] = f"i{offset}"
                lines.append(f"const real i{offset} = ip[{offset}];")
            lines.append(f"{acc} = fma({self.loaded[offset]}, w{entry}, {acc});")
        return lines

    # -- epilogue -----------------------------------------------------------------------------
    def epilogue(self) -> list[str]:
        return activation_lines(self.op.activation.data, [acc for _, _, acc in self.accumulators()])

    def stores(self) -> list[str]:
        """Stores the tile; edge tiles guard the columns/rows past the output's end."""
        return [guarded(self.geo.edge_checks(j, t), f"out_t[{j * self.geo.wo + t}] = {acc};")
                for j, t, acc in self.accumulators()]
