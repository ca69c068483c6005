"""The C printer as a patdnn-opt target: `-t neon`, `-t avx512{threads=2}`, `-t c{isa=scalar entry=main}`
(any C Target string, see patdnn/target.py, plus `entry=`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp

from patdnn.backend.c.printer import CEmitter
from patdnn.backend.common import EmitError
from patdnn.backend.opt_target import PrinterTarget
from patdnn.isa import get_isa


def emit_c(module: ModuleOp, isa: str = "neon", entry: str = "", precision: str = "fp32") -> str:
    """The C source of a lowered module (see patdnn.backend.c.printer); `precision=fp16`: the
    pattern convolutions in the ISA's fp16 form (patdnn.isa.HALF_ISAS)."""
    try:
        target_isa = get_isa(isa)
    except ValueError as e:
        raise EmitError(str(e)) from None
    return CEmitter(target_isa, entry=entry, precision=precision).emit_module(module)


@dataclass(frozen=True)
class CTarget(PrinterTarget):
    name = "c"
    code = "c"

    entry: str = ""
    """The function the model descriptor calls (default: the first function)."""

    def emit(self, ctx: Context, module: ModuleOp, output: IO[str]) -> None:
        output.write(emit_c(module, self.target.isa, self.entry, self.target.precision))
