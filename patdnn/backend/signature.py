"""Which function of a module is the model entry, and which of its buffers are inputs/outputs."""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.dialects import func
from xdsl.dialects.builtin import MemRefType, ModuleOp
from xdsl.ir import BlockArgument, SSAValue
from xdsl.utils.exceptions import DiagnosticException


@dataclass(frozen=True)
class EntrySignature:
    func: func.FuncOp
    inputs: list[BlockArgument]
    outputs: list[BlockArgument]  # the arguments some op writes (an `outs` operand)

    @staticmethod
    def shape(value: SSAValue) -> tuple[int, ...]:
        assert isinstance(value.type, MemRefType)
        return tuple(value.type.get_shape())


def entry_signature(module: ModuleOp, entry: str = "") -> EntrySignature:
    funcs = [op for op in module.ops if isinstance(op, func.FuncOp)]
    if not funcs:
        raise DiagnosticException("the module has no function to use as the model entry point")
    chosen = funcs[0]
    if entry:
        matches = [f for f in funcs if f.sym_name.data == entry]
        if not matches:
            raise DiagnosticException(f"entry function @{entry} not found")
        chosen = matches[0]
    args = list(chosen.body.block.args)
    written = {op.output for op in chosen.body.walk() if isinstance(getattr(op, "output", None), SSAValue)}
    return EntrySignature(chosen, [a for a in args if a not in written], [a for a in args if a in written])
