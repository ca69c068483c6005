"""An xDSL context with everything patdnn IR uses, and a pass-pipeline runner."""

from __future__ import annotations

from xdsl.context import Context
from xdsl.dialects import arith, builtin, func, memref
from xdsl.dialects.builtin import ModuleOp
from xdsl.parser import Parser
from xdsl.passes import PassPipeline

from patdnn.dialects import get_all_dialects
from patdnn.passes import get_all_passes



def default_pipeline(isa: str = "neon", threads: int = 1, autotune: bool = False, budget: int = 60) -> str:
    """The optimising pipeline for a C target: schedule, lower, reorder filters for `threads`,
    pack FKW, share loads, fold residual adds into convolutions, place buffers (see
    patdnn/passes/__init__.py)."""
    tune = f"tile-tune{{isa={isa} threads={threads}" + (f" auto=true budget={int(budget)}" if autotune else "") + "}"
    return f"{tune},lower-pattern-to-kernel,filter-kernel-reorder{{threads={threads}}},fkw-pack,load-elim,fuse-residual-add,plan-buffers"


DEFAULT_PIPELINE = default_pipeline()


def make_context() -> Context:
    ctx = Context()
    for dialect in (builtin.Builtin, func.Func, memref.MemRef, arith.Arith):
        ctx.load_dialect(dialect)
    for name, factory in get_all_dialects().items():
        ctx.register_dialect(name, factory)
    return ctx


def parse_module(text: str, name: str = "<input>") -> ModuleOp:
    module = Parser(make_context(), text, name).parse_module()
    module.verify()
    return module


def run_pipeline(module: ModuleOp, spec: str = DEFAULT_PIPELINE) -> ModuleOp:
    """Applies a textual pass pipeline (`a,b{opt=1}`) in place and verifies the result."""
    if spec:
        PassPipeline.parse_spec(get_all_passes(), spec).apply(make_context(), module)
    module.verify()
    return module
