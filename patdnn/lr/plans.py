"""Reading a pruning plan from a file: a .json plan (the JSON form of patdnn.sparsity.plan) or an
LR file whose layers carry `prune` lines. It is here, not in patdnn.sparsity, because reading an
LR file needs the LR parser, and the LR imports patdnn.sparsity."""

from __future__ import annotations

from pathlib import Path

from patdnn.lr.parser import prune_plan
from patdnn.sparsity.plan import Plan, plan_from_json
from patdnn.sparsity.scheme import SchemeError


def load_plan(path: Path) -> Plan:
    """Reads a plan from a .json file (or an LR file with `prune` lines)."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as e:
        raise SchemeError(f"cannot read plan {path}: {e.strerror}") from None
    if path.suffix == ".lr":
        return prune_plan(text, str(path))
    return plan_from_json(text, str(path))
