"""A pruning plan: {layer name: Scheme} for a model, read from / written to JSON.

JSON form: {"layers": {"layer1.0.conv1": "block 8x16 4x", "conv1": "dense", ...}} (layer names are
module paths, as in the LR and the pruner). A plan can also be read from an LR file whose layers
carry `prune` lines (see patdnn/lr).
"""

from __future__ import annotations

import json
from pathlib import Path

from patdnn.schemes.scheme import Scheme, SchemeError, parse_scheme

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


def load_plan(path: Path) -> Plan:
    """Reads a plan from a .json file (or an LR file with `prune` lines)."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as e:
        raise SchemeError(f"cannot read plan {path}: {e.strerror}") from None
    if path.suffix == ".lr":
        from patdnn.lr import prune_plan  # the LR package reads `prune` lines

        return prune_plan(text, str(path))
    return plan_from_json(text, str(path))
