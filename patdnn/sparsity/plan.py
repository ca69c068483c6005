"""A pruning plan: {layer name: Scheme} for a model, read from / written to JSON.

JSON form: {"layers": {"layer1.0.conv1": "block 8x16 4x", "conv1": "dense", ...}} (layer names are
module paths, as in the LR and the pruner). Plan files are read by `patdnn.lr.load_plan`: a .json
file in this form, or an LR file whose layers carry `prune` lines (that needs the LR parser, which
imports this package, so the reader lives in patdnn.lr).
"""

from __future__ import annotations

import json
from pathlib import Path

from patdnn.sparsity.scheme import Scheme, SchemeError, parse_scheme

Plan = dict[str, Scheme]


def plan_to_json(plan: Plan) -> str:
    return json.dumps({"layers": {name: str(scheme) for name, scheme in plan.items()}}, indent=1) + "\n"


def plan_from_json(text: str, source: str = "plan") -> Plan:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise SchemeError(f"{source}:{e.lineno}:{e.colno}: not valid JSON: {e.msg}") from None
    layers = data.get("layers") if isinstance(data, dict) else None
    if not isinstance(layers, dict):
        raise SchemeError(f'{source}: expected an object {{"layers": {{"<layer>": "<scheme>", ...}}}}')
    plan: Plan = {}
    for name, text_form in layers.items():
        try:
            plan[name] = parse_scheme(str(text_form))
        except SchemeError as e:
            raise SchemeError(f"{source}: layer '{name}': {e}") from None
    return plan


def save_plan(plan: Plan, path: Path) -> None:
    Path(path).write_text(plan_to_json(plan))
