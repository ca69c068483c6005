"""The one pipeline table: which passes turn imported IR into printable IR, per target.

`default_pipeline(target)` is what `patdnn.compile`, `patdnnc` (`--print-pipeline` prints it), the
auto-tuner and the OpenCL build run. It returns pass objects, not text, so no option (the ISA, the
thread count) is formatted into a string and parsed back; `pipeline_text` gives the `-p` spelling
of `patdnn-opt` for people and docs. The passes, in order (each in passes/, one per file):

    C:       tile-tune{isa threads [log]} → lower-pattern-to-kernel → filter-kernel-reorder{threads}
             → fkw-pack → load-elim → fuse-residual-add → fuse-conv-chain{threads} → plan-buffers
    OpenCL:  the same without tile-tune and fuse-conv-chain (its kernels run the chains unfused): work-item tiles are the OpenCL target's options, and
             filter-kernel-reorder only puts filters with similar segment loops next to each other,
             so neighbouring work-groups (one filter each) run alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields, replace
from pathlib import Path

from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass, PassPipeline

from patdnn.context import make_context
from patdnn.passes import get_all_passes
from patdnn.target import Target


def _pass(name: str, **options) -> ModulePass:
    return get_all_passes()[name]()(**options)


def default_pipeline(target: Target, tuning_log: Path | str | None = None, fuse: bool = True) -> tuple[ModulePass, ...]:
    """The optimising pipeline for `target`; `tuning_log`: the auto-tuner's log, from which
    tile-tune takes the schedules of the layers it holds (the others get the rule's); `fuse`:
    whether conv chains are fused (fuse-conv-chain; C targets only — OpenCL runs them unfused)."""
    schedule: tuple[ModulePass, ...] = ()
    reorder: dict[str, int] = {}
    if not target.is_opencl:
        log = {"log": str(tuning_log)} if tuning_log else {}
        schedule = (_pass("tile-tune", isa=target.pattern_isa, threads=target.threads, **log),)
        reorder = {"threads": target.threads}
    return (
        *schedule,
        _pass("lower-pattern-to-kernel"),
        _pass("filter-kernel-reorder", **reorder),
        _pass("fkw-pack"),
        _pass("load-elim"),
        _pass("fuse-residual-add"),
        *((_pass("fuse-conv-chain", threads=target.threads),) if fuse and not target.is_opencl else ()),
        _pass("plan-buffers"),
    )


def replace_pass(pipeline: Sequence[ModulePass], **options) -> tuple[ModulePass, ...]:
    """`pipeline` with new option values for the pass named by `name=`: e.g.
    `replace_pass(p, name="tile-tune", tile_y=2)` (for ablations and tests)."""
    name = options.pop("name")
    if not any(p.name == name for p in pipeline):
        raise ValueError(f"the pipeline has no pass '{name}'")
    return tuple(replace(p, **options) if p.name == name else p for p in pipeline)


def without_pass(pipeline: Sequence[ModulePass], name: str) -> tuple[ModulePass, ...]:
    """`pipeline` without the pass `name` (for ablations)."""
    if not any(p.name == name for p in pipeline):
        raise ValueError(f"the pipeline has no pass '{name}'")
    return tuple(p for p in pipeline if p.name != name)


def pipeline_text(pipeline: Sequence[ModulePass]) -> str:
    """The `patdnn-opt -p` spelling of a pipeline."""
    return ",".join(str(p) for p in pipeline)


_KINDS = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}


def _fits(value: object, kind: type) -> bool:
    if kind is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def check_pass_spec(text: str) -> None:
    """Checks the options of patdnn's passes in a `-p` spelling before xDSL builds them: an unknown
    option or a value of the wrong type is a ValueError naming the pass and the option
    (`tile-tune: option tile_x takes an integer, got 'abc'`), where xDSL would only say
    "Incompatible types". Other passes and malformed strings are left to xDSL
    (`ArgSpecParseError`)."""
    from typing import get_type_hints

    from xdsl.utils.arg_spec import parse_pipeline as parse_specs

    ours = get_all_passes()
    for spec in parse_specs(text) if text else ():
        if spec.name not in ours:
            continue
        cls = ours[spec.name]()
        hints = get_type_hints(cls)
        options = [f.name for f in fields(cls) if f.init and f.name != "name"]
        for option, values in spec.normalize_parameter_names().parameters.items():
            if option not in options:
                known = ", ".join(f'"{o}"' for o in options) or "none"
                raise ValueError(f'{spec.name}: no option "{option}" (its options: {known})')
            kind = hints[option]
            if kind in _KINDS and not (len(values) == 1 and _fits(values[0], kind)):
                got = ",".join(f"'{v}'" if isinstance(v, str) else str(v).lower() for v in values) or "nothing"
                raise ValueError(f"{spec.name}: option {option} takes {_KINDS[kind]}, got {got}")


def parse_pipeline(text: str) -> tuple[ModulePass, ...]:
    """The passes of a `-p` spelling (`a,b{opt=1}`); mistakes in patdnn's pass options are one
    ValueError naming the pass and option (`check_pass_spec`)."""
    check_pass_spec(text)
    return tuple(PassPipeline.parse_spec(get_all_passes(), text).passes) if text else ()


def run_pipeline(module: ModuleOp, pipeline: Sequence[ModulePass] | str) -> ModuleOp:
    """Applies a pipeline (pass objects, or a `-p` spelling) in place and verifies the result."""
    passes = parse_pipeline(pipeline) if isinstance(pipeline, str) else tuple(pipeline)
    if passes:
        PassPipeline(passes).apply(make_context(), module)
    module.verify()
    return module
