"""One-shot projection of a layer or a whole plan (no retraining): pattern layers get the model's
pattern library (PatDNN's most frequent natural patterns) and connectivity pruning, block layers
the block projection. Used by hard pruning, the measured latency, the scheme benchmark and the
accuracy proxy of the search."""

from __future__ import annotations

import numpy as np
import torch

from patdnn.sparsity.block import project_block
from patdnn.sparsity.patterns import PatternInfo, apply_patterns, extract_library, pattern_ids
from patdnn.sparsity.plan import Plan
from patdnn.sparsity.scheme import Scheme, SchemeError, SchemeKind


def project(
    weight: np.ndarray, scheme: Scheme, library: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """(projected weights, pattern ids or None) of one layer's weights under `scheme`."""
    if scheme.kind == SchemeKind.DENSE:
        return weight, None
    if scheme.kind == SchemeKind.BLOCK:
        return project_block(weight, scheme), None
    if library is None:
        raise SchemeError("pattern schemes need a pattern library")
    ids = pattern_ids(weight, library, scheme.rate)
    return apply_patterns(weight, ids, library), ids


@torch.no_grad()
def apply_plan(
    model: torch.nn.Module, plan: Plan, library: np.ndarray | None = None, num_patterns: int = 8
) -> dict[str, PatternInfo]:
    """Prunes `model` in place by `plan`; returns {pattern layer: (library, ids)} for
    `patdnn.compile(..., patterns=)`. `library`: default the model's `num_patterns` most frequent
    natural patterns (computed before any layer is pruned)."""
    modules = dict(model.named_modules())
    missing = sorted(set(plan) - set(modules))
    if missing:
        raise SchemeError(f"the plan names layers the model does not have: {', '.join(missing[:5])}")
    if library is None and any(s.kind == SchemeKind.PATTERN for s in plan.values()):
        library = extract_library(model, num_patterns)
    patterns = {}
    for name, scheme in plan.items():
        if scheme.kind == SchemeKind.DENSE:
            continue
        layer = modules[name]
        weight, ids = project(layer.weight.detach().cpu().numpy(), scheme, library)
        layer.weight.copy_(torch.from_numpy(np.ascontiguousarray(weight)))
        if ids is not None:
            patterns[name] = (library, ids)
    return patterns
