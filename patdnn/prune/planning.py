"""Which scheme each layer gets: the `--schemes` spec turned into a checked, complete plan.

Specs:
  patterns            every prunable 3x3 conv (`prunable_convs`) gets `pattern <connectivity>x`,
                      every other conv/linear stays dense (PatDNN; the default)
  blocks:RxC:RATE[:rows]
                      every conv with groups 1 but the first (when it reads the image) and every
                      linear but the last (the classifier) gets `block RxC RATEx [rows]`
  rule | search      the scheme-mapping methods of Gong et al. (patdnn.mapping.rules / .search)
                      at the overall `--rate`
  FILE.json | FILE.lr a plan written by hand or by the mapping tools (unnamed layers stay dense)

The complete plan names every Conv2d and Linear of the model (dense included), so the plan saved
next to the pruned model says exactly what was applied.
"""

from __future__ import annotations

import difflib
import importlib.util
import re
from pathlib import Path
from typing import Any

import torch

from patdnn.lr import load_plan
from patdnn.sparsity.layers import is_prunable, pattern_convs, prunable_convs
from patdnn.sparsity.plan import Plan
from patdnn.sparsity.scheme import Scheme, SchemeError, SchemeKind

DEFAULT_SPEC = "patterns"
MAPPED_SPECS = ("rule", "search")  # resolved from the trained dense model, after the dense phase
_MAPPERS = {"rule": ("patdnn.mapping.rules", "rule_plan"), "search": ("patdnn.mapping.search", "search_plan")}
_BLOCKS = re.compile(r"blocks:(\d+)x(\d+):(\d+(?:\.\d+)?)(?::(columns|rows))?")


def scheme_layers(model: torch.nn.Module) -> dict[str, torch.nn.Module]:
    """Every layer a scheme can name: the model's Conv2d and Linear modules, in order."""
    return {name: m for name, m in model.named_modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))}


def check_spec(spec: str, rate: float | None = None) -> None:
    """Rejects a malformed spec before any training (the plan itself needs the model)."""
    if spec in MAPPED_SPECS and rate is None:
        raise SchemeError(f"--schemes {spec} needs the overall target --rate (e.g. --rate 8)")
    if spec in MAPPED_SPECS and importlib.util.find_spec(_MAPPERS[spec][0]) is None:
        raise SchemeError(f"--schemes {spec}: the scheme-mapping module {_MAPPERS[spec][0]} is not available")
    if spec in (DEFAULT_SPEC, *MAPPED_SPECS) or _BLOCKS.fullmatch(spec):
        return
    if spec.startswith("blocks"):
        raise SchemeError(f"--schemes {spec!r}: expected blocks:ROWSxCOLS:RATE[:rows], e.g. blocks:8x16:4")
    path = Path(spec)
    if path.suffix not in (".json", ".lr"):
        raise SchemeError(
            f"--schemes {spec!r}: expected patterns, blocks:ROWSxCOLS:RATE, rule, search, or a plan file (.json or .lr)"
        )
    if not path.exists():
        raise SchemeError(f"plan file {path} does not exist")


def prunable_layers(model: torch.nn.Module) -> list[str]:
    """The layers a plan may prune (as `patdnn.sparsity.layers`' `prunable`, which the mapping
    methods use): every linear and every conv with groups 1, except a first conv that reads the
    image (<= 4 input channels: little to gain, accuracy to lose, as PatDNN leaves it dense).
    The overall compression rate is counted over these layers."""
    layers = scheme_layers(model)
    first = next(iter(layers), None)
    return [
        n
        for n, m in layers.items()
        if isinstance(m, torch.nn.Linear) or is_prunable("conv", m.groups, m.in_channels, n == first)
    ]


def default_block_layers(model: torch.nn.Module) -> list[str]:
    """`blocks:` covers every prunable layer but the last linear (the classifier: small, and each
    of its weights is one class's evidence)."""
    layers = scheme_layers(model)
    linears = [n for n, m in layers.items() if isinstance(m, torch.nn.Linear)]
    return [n for n in prunable_layers(model) if not (linears and n == linears[-1])]


def resolve_plan(
    spec: str,
    model: torch.nn.Module,
    connectivity: float,
    rate: float | None,
    input_shape: tuple[int, ...],
    mapper_options: dict[str, Any] | None = None,
) -> Plan:
    """The complete, checked plan that `spec` means for `model` (see the module docstring);
    `mapper_options` go to search_plan (e.g. its log file)."""
    check_spec(spec, rate)
    if spec == DEFAULT_SPEC:
        plan: Plan = {name: Scheme.pattern(connectivity) for name in prunable_convs(model)}
    elif match := _BLOCKS.fullmatch(spec):
        scheme = Scheme.blocks(int(match[1]), int(match[2]), float(match[3]), match[4] or "columns")
        plan = {name: scheme for name in default_block_layers(model)}
    elif spec in MAPPED_SPECS:
        assert rate is not None
        plan = _mapped_plan(spec, model, rate, input_shape, mapper_options or {})
    else:
        plan = load_plan(Path(spec))
    plan = complete_plan(check_plan(plan, model, spec), model)
    if not pruned_layers(plan):
        raise SchemeError(f"--schemes {spec}: the plan prunes no layer (every layer is dense)")
    return plan


def _mapped_plan(
    spec: str, model: torch.nn.Module, rate: float, input_shape: tuple[int, ...], options: dict[str, Any]
) -> Plan:
    module, function = _MAPPERS[spec]
    mapper = getattr(importlib.import_module(module), function)  # imported only when used
    return dict(mapper(model, input_shape, rate, **(options if spec == "search" else {})))


def check_plan(plan: Plan, model: torch.nn.Module, source: str = "plan") -> Plan:
    """Every named layer exists and can take its scheme; raises SchemeError naming the layer."""
    layers, modules, patternable = scheme_layers(model), dict(model.named_modules()), pattern_convs(model)
    prunable = set(prunable_layers(model))
    for name, scheme in plan.items():
        if name not in layers:
            near = difflib.get_close_matches(name, list(layers), n=4, cutoff=0.5)
            what = (
                f"is a {type(modules[name]).__name__}, not a Conv2d or Linear" if name in modules else "does not exist"
            )
            hint = f"; near names: {', '.join(near)}" if near else f"; layers: {_summary(list(layers))}"
            raise SchemeError(f"{source}: layer '{name}' {what}{hint}")
        layer = layers[name]
        if scheme.kind == SchemeKind.PATTERN and name not in patternable:
            raise SchemeError(
                f"{source}: layer '{name}' ({_describe(layer)}) cannot take '{scheme}': "
                f"pattern pruning needs a 3x3 conv with groups 1"
            )
        if scheme.kind == SchemeKind.BLOCK and isinstance(layer, torch.nn.Conv2d) and layer.dilation != (1, 1):
            raise SchemeError(
                f"{source}: layer '{name}' is a dilated conv (dilation {list(layer.dilation)}): block pruning "
                f"needs dilation 1 (use 'pattern' or 'dense' there)"
            )
        if scheme.kind == SchemeKind.BLOCK and isinstance(layer, torch.nn.Conv2d) and layer.groups != 1:
            kind = "depthwise" if layer.groups == layer.in_channels else "grouped"
            raise SchemeError(
                f"{source}: layer '{name}' is a {kind} conv (groups {layer.groups}): block "
                f"pruning needs groups 1 (use 'dense' there)"
            )
        if scheme.kind != SchemeKind.DENSE and name not in prunable:
            raise SchemeError(
                f"{source}: layer '{name}' is the first conv and reads the image "
                f"({layer.in_channels} input channels): keep it dense"
            )
    return plan


def complete_plan(plan: Plan, model: torch.nn.Module) -> Plan:
    """`plan` over every conv/linear of the model, in model order; unnamed layers dense."""
    return {name: plan.get(name, Scheme.dense()) for name in scheme_layers(model)}


def pruned_layers(plan: Plan, kind: SchemeKind | None = None) -> dict[str, Scheme]:
    """The layers the plan prunes (of one kind, if given)."""
    return {n: s for n, s in plan.items() if s.kind != SchemeKind.DENSE and (kind is None or s.kind == kind)}


def plan_text(plan: Plan) -> dict[str, str]:
    """The plan in text form (checkpoint, report, comparison on resume)."""
    return {name: str(scheme) for name, scheme in plan.items()}


def _describe(layer: torch.nn.Module) -> str:
    if isinstance(layer, torch.nn.Linear):
        return f"linear {layer.in_features}->{layer.out_features}"
    return f"conv {'x'.join(map(str, layer.kernel_size))}, groups {layer.groups}"


def _summary(names: list[str]) -> str:
    return ", ".join(names) if len(names) <= 8 else f"{', '.join(names[:6])}, … ({len(names)} in all)"
