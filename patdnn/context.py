"""An xDSL context with everything patdnn IR uses, and the parser on top of it.

Pipelines (which passes run, per target) are in patdnn/pipeline.py.
"""

from __future__ import annotations

from xdsl.context import Context
from xdsl.dialects import arith, builtin, func, memref
from xdsl.dialects.builtin import ModuleOp
from xdsl.parser import Parser

from patdnn.dialects import get_all_dialects


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
