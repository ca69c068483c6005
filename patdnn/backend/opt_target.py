"""The base of patdnn-opt's `-t` targets: a patdnn Target string plus the printer's own options.

`-t avx512{threads=2}`, `-t c{isa=neon entry=main}`, `-t opencl{precision=fp16 tile_x=4}`: the
keys the printer declares as dataclass fields (entry, OpenCL's work-item tiles...) configure the
printer, all others go to `patdnn.target.Target`, so `-t` takes the same string as `patdnnc --target`
and `patdnn.compile(target=...)`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import ClassVar

from xdsl.utils.arg_spec import ArgSpec
from xdsl.utils.target import Target as XdslTarget

from patdnn.target import Target, TargetError


@dataclass(frozen=True)
class PrinterTarget(XdslTarget):
    code: ClassVar[str]  # the Target code kind this printer prints ("c" or "opencl")

    target: Target = Target()

    @classmethod
    def from_spec(cls, spec: ArgSpec):
        own = {f.name for f in fields(cls)} - {"target"}
        params = spec.normalize_parameter_names().parameters
        printer = ArgSpec(cls.name, {k: v for k, v in params.items() if k in own})
        target = Target.from_arg_spec(ArgSpec(spec.name, {k: v for k, v in params.items() if k not in own}))
        if target.code != cls.code:
            raise TargetError(f"target {target} is not printed by the '{cls.name}' printer")
        return replace(super().from_spec(printer), target=target)
