"""The `c` target of patdnn-opt: `-t c{isa=neon}` / `-t c{isa=avx512}` / `-t c{isa=scalar entry=main}`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.utils.target import Target

from patdnn.backend.c_emitter import CEmitter, EmitError
from patdnn.backend.isa import get_isa


def emit_c(module: ModuleOp, isa: str = "neon", entry: str = "") -> str:
    """The C source of a lowered module (see patdnn.backend.c_emitter)."""
    try:
        target_isa = get_isa(isa)
    except ValueError as e:
        raise EmitError(str(e)) from None
    return CEmitter(target_isa, entry).emit_module(module)


@dataclass(frozen=True)
class CTarget(Target):
    name = "c"

    isa: str = "neon"
    """Vector ISA of the generated code: neon (ARMv8 intrinsics; SIMDe on x86), avx2, avx512 or scalar."""

    entry: str = ""
    """The function the model descriptor calls (default: the first function)."""

    def emit(self, ctx: Context, module: ModuleOp, output: IO[str]) -> None:
        output.write(emit_c(module, self.isa, self.entry))
