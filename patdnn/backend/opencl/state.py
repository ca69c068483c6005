"""The OpenCL host emitter's state, which its handlers (kernels, nn, block) work on, and launches.

`OpenCLState` is a host C module (patdnn.backend.c.state.ModuleEmitter: weights declared by the
C target's `declare_weights`, so blobs are resolved and checked the same way; the same layer
names and model descriptor) plus what OpenCL adds: the schedule defaults, the device and
precision compiled in, the generated kernels' sources, device buffers (weights, int32 index
arrays, the (buffer, element offset) of every tensor) and launch sites. The printer
(patdnn.backend.opencl.printer.OpenCLHostEmitter) is an OpenCLState with a dispatch table;
handlers take an OpenCLState and never import the printer.

`Launch` is one kernel launch (a kernel, its `pdnn_cl_arg` arguments — `buf(id)`, `num(value)` —
and its NDRange); `pad_launch` is the runtime's zero padding of a convolution's input.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
from xdsl.ir import Attribute, Operation, SSAValue

from patdnn.backend.c.state import ModuleEmitter
from patdnn.backend.common import EmitError, int32_array, layer_name
from patdnn.backend.opencl.schedule import ClConvGeometry, ClSchedule
from patdnn.dialects.common import ActivationAttr, weights_count

STATE = "patdnn_opencl"  # the model's pdnn_cl state, exported for the Python API
FIXED_GROUPS = {1: (64,), 2: (64, 1), 3: (8, 8, 1)}  # work-group sizes of runtime kernels (by dims)


def buf(buffer_id: str) -> str:
    return f"PDNN_CL_BUF({buffer_id})"


def num(value: int) -> str:
    return f"PDNN_CL_INT({int(value)})"


@dataclass(frozen=True)
class Launch:
    """One kernel launch: its arguments (pdnn_cl_arg expressions) and NDRange."""

    kernel: str
    args: list[str]
    global_size: tuple[int, ...]
    local: tuple[int, ...] | None = None  # None: the OpenCL implementation chooses

    @staticmethod
    def fixed(kernel: str, args: list[str], items: tuple[int, ...]) -> Launch:
        """A launch of a runtime kernel over at least `items` work-items with a fixed work-group
        size per dimension count: one compiled variant per kernel whatever the shapes (the kernel
        skips the work-items past the end)."""
        local = FIXED_GROUPS[len(items)]
        return Launch(kernel, args, tuple(-(-n // g) * g for n, g in zip(items, local)), local)


def pad_launch(source: tuple[str, int], scratch: str, geo: ClConvGeometry) -> Launch:
    """The runtime's `pdnn_pad` of a convolution's input (buffer, offset) into `scratch`, sized
    by `geo` (zeros around it, room for the last tile's over-read)."""
    return Launch.fixed(
        "pdnn_pad",
        [
            buf(source[0]),
            num(source[1]),
            buf(scratch),
            num(0),
            num(geo.h),
            num(geo.w),
            num(geo.padded_h),
            num(geo.padded_w),
            num(geo.pad[0]),
            num(geo.pad[1]),
        ],
        (geo.padded_w, geo.padded_h, geo.n * geo.cin),
    )


def layer_label(op: Operation, fallback: str) -> str:
    """The profiling label of an op's launches: its layer name, else `fallback`."""
    layer = layer_name(op)
    return layer if layer is not None else fallback


@dataclass(kw_only=True)
class OpenCLState(ModuleEmitter):
    schedule: ClSchedule = field(default_factory=ClSchedule)
    device: str = ""
    precision: str = "fp32"
    kernel_sources: list[str] = field(default_factory=list)
    act_table: list[ActivationAttr] = field(default_factory=list)  # the program's PDNN_ACT_TABLE
    tensors: dict[SSAValue, tuple[str, int]] = field(default_factory=dict)  # value -> (buffer id, offset)
    # Of the function being printed: its buffer ids (arena, padded-input scratch) and sites.
    arena_symbol: str = ""
    scratch: str = ""
    sites_symbol: str = ""
    sites: list[str] = field(default_factory=list)

    # -- device buffers -----------------------------------------------------------------
    def device_buffer(self, symbol: str, init: str) -> str:
        """A static buffer id `symbol`, created at init by the runtime call `init`."""
        self.out.append(f"static int {symbol} = -1;")
        self.init_lines.append(f"{symbol} = {init};")
        return symbol

    def upload_weights(self, symbol: str, weights: Attribute) -> str:
        """A device copy of weights already declared (as host `symbol`) with declare_weights."""
        return self.device_buffer(f"{symbol}_cl", f"pdnn_cl_weights({STATE}, {symbol}, {weights_count(weights)})")

    def device_weights(self, symbol: str, weights: Attribute | None) -> str:
        if weights is None:
            return "-1"
        self.declare_weights(symbol, weights)
        return self.upload_weights(symbol, weights)

    def device_int32(self, symbol: str, values: np.ndarray) -> str:
        values = values if values.size else np.zeros(1, dtype=np.int32)
        self.out.append(int32_array(f"{symbol}_data", values))
        return self.device_buffer(f"{symbol}_cl", f"pdnn_cl_int32({STATE}, {symbol}_data, {values.size})")

    def tensor(self, value: SSAValue) -> tuple[str, int]:
        if value not in self.tensors:
            raise EmitError(f"operand {value} has no OpenCL buffer")
        return self.tensors[value]

    def launch(self, label: str, launches: list[Launch]) -> str:
        """Creates the launch sites at init; returns the statements that enqueue them."""
        lines = []
        for item in launches:
            index = len(self.sites)
            site = f"{self.sites_symbol}[{index}]"
            self.sites.append(item.kernel)
            self.init_lines.append(
                f"{{ const pdnn_cl_arg a[] = {{{', '.join(item.args)}}}; "
                f"{site} = pdnn_cl_site({STATE}, {json.dumps(item.kernel)}, {json.dumps(label)}, a, {len(item.args)}); }}"
            )
            dims = len(item.global_size)
            local = f", l[{dims}] = {{{', '.join(map(str, item.local))}}}" if item.local else ""
            lines.append(
                f"{{ static const size_t g[{dims}] = {{{', '.join(map(str, item.global_size))}}}{local}; "
                f"pdnn_cl_launch({STATE}, {site}, {dims}, g, {'l' if item.local else 'NULL'}); }}"
            )
        return "\n  ".join(lines)
