"""The OpenCL printer as a patdnn-opt target: `-t opencl` / `-t "opencl{tile_x=4 wg_x=16 precision=fp16}"`
(the Target options precision and device, see patdnn/target.py, plus the printer's own below).

Prints the host C of the model (see patdnn.backend.opencl.printer) with the OpenCL C program
embedded; `kernels_only=true` prints just the generated per-layer kernels (pattern and
block-sparse layers).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp

from patdnn.backend.common import EmitError
from patdnn.backend.opencl.printer import OpenCLHostEmitter
from patdnn.backend.opencl.schedule import ClSchedule
from patdnn.backend.opt_target import PrinterTarget
from patdnn.target import PRECISIONS, Target


def emit_opencl(
    module: ModuleOp,
    schedule: ClSchedule | None = None,
    device: str = "",
    precision: str = "fp32",
    entry: str = "",
    kernels_only: bool = False,
) -> str:
    """The host C (or with kernels_only, the OpenCL C kernels) of a lowered module."""
    if precision not in PRECISIONS:
        raise EmitError(f"unknown OpenCL precision '{precision}', expected one of: {', '.join(PRECISIONS)}")
    emitter = OpenCLHostEmitter(entry=entry, schedule=schedule or ClSchedule(), device=device, precision=precision)
    return emitter.kernels_source(module) if kernels_only else emitter.emit_module(module)


@dataclass(frozen=True)
class OpenCLTarget(PrinterTarget):
    name = "opencl"
    code = "opencl"

    target: Target = Target(code="opencl", isa="")

    tile_x: int = ClSchedule.tile_x
    """Output columns per work-item (a layer's `patdnn.opencl` attribute overrides it)."""

    tile_y: int = ClSchedule.tile_y
    """Output rows per work-item."""

    wg_x: int = ClSchedule.wg_x
    """Work-items per work-group along the output width (capped by the layer's tiles)."""

    wg_y: int = ClSchedule.wg_y
    """Work-items per work-group along the output height."""

    entry: str = ""
    """The function the model descriptor calls (default: the first function)."""

    kernels_only: bool = False
    """Print only the generated per-layer kernels (pattern and block-sparse layers; OpenCL C)."""

    def emit(self, ctx: Context, module: ModuleOp, output: IO[str]) -> None:
        schedule = ClSchedule(self.tile_x, self.tile_y, self.wg_x, self.wg_y).checked()
        output.write(
            emit_opencl(module, schedule, self.target.device, self.target.precision, self.entry, self.kernels_only)
        )
