"""The work decomposition of OpenCL convolution kernels (pattern and block-sparse).

`ClSchedule`: output pixels per work-item (`tile_x` x `tile_y`) and work-items per work-group
(`wg_x` x `wg_y`): the target options give the defaults, a layer's `patdnn.opencl = {tile_x = 4,
tile_y = 2, wg_x = 8, wg_y = 8}` dictionary attribute (any subset) overrides them. `ClConvGeometry`:
the sizes one convolution kernel is printed with for a schedule (tiles, the zero-padded input
with room for the last tile's over-read, work-group and NDRange).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from xdsl.dialects.builtin import DictionaryAttr, IntegerAttr
from xdsl.ir import Operation

from patdnn.backend.common import EmitError
from patdnn.dialects import kernel
from patdnn.dialects.common import ceil_div, shape_of

SCHEDULE_ATTR = "patdnn.opencl"


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
        dh, dw = op.dilation.get_values()
        k = op.library.size
        return ClConvGeometry.window(
            shape_of(op.input),
            shape_of(op.output),
            ((k - 1) * dh + 1, (k - 1) * dw + 1),  # the window a dilated kernel spans
            tuple(op.stride.get_values()),
            tuple(op.padding.get_values()),
            schedule,
        )

    @staticmethod
    def window(
        input_shape,
        output_shape,
        kernel_size: tuple[int, int],
        stride,
        pad,
        schedule: ClSchedule,
        planes: int | None = None,
    ) -> ClConvGeometry:
        """Tiles a convolution's output for `schedule`; global dimension 2 runs over batch x
        `planes` (default: the output channels, one work-group column per filter)."""
        n, cin, h, w = input_shape
        _, cout, ho, wo = output_shape
        (kh, kw), (sh, sw), (ph, pw) = kernel_size, stride, pad
        tile_x, tile_y = min(schedule.tile_x, wo), min(schedule.tile_y, ho)
        tiles_x, tiles_y = ceil_div(wo, tile_x), ceil_div(ho, tile_y)
        # Last input column/row a tile reads, plus one; never less than the padded input itself.
        padded_w = max(w + 2 * pw, (tiles_x * tile_x - 1) * sw + kw)
        padded_h = max(h + 2 * ph, (tiles_y * tile_y - 1) * sh + kh)
        wg_x, wg_y = min(schedule.wg_x, tiles_x), min(schedule.wg_y, tiles_y)
        global_size = (ceil_div(tiles_x, wg_x) * wg_x, ceil_div(tiles_y, wg_y) * wg_y, n * (planes or cout))
        return ClConvGeometry(
            tuple(input_shape),
            tuple(output_shape),
            (kh, kw),
            (sh, sw),
            (ph, pw),  # type: ignore[arg-type]
            tile_x,
            tile_y,
            tiles_x,
            tiles_y,
            padded_w,
            padded_h,
            (wg_x, wg_y, 1),
            global_size,
        )

    def edge_checks(self, j: int, t: int) -> list[str]:
        """Conditions under which output (row j, column t) of a tile at (x0, y0) lies inside the
        output: only columns/rows past the remainder can fall outside, and only in the last tile."""
        ragged_x, ragged_y = self.wo % self.tile_x != 0, self.ho % self.tile_y != 0
        return ([f"x0 + {t} < {self.wo}"] if ragged_x and t >= self.wo % self.tile_x else []) + (
            [f"y0 + {j} < {self.ho}"] if ragged_y and j >= self.ho % self.tile_y else []
        )
