"""Pruning of torch models by per-layer plan (pattern, block or dense): library selection,
extended ADMM over each layer's constraint sets, hard pruning, masked retraining.

On your own module and data: `prune_model(model, train, val, loss_fn, PruneSpec(...))` runs it all
and returns a `PruneResult`; a `Pruner` does the same inside your own training loop
(`PruningCallback` in a Lightning one). `run_pruning(PruneConfig(...))` is the whole pipeline with
data, checkpoints and report (also the `patdnn prune` command), built on the `Pruner`;
`one_shot_pattern_prune` is PatDNN's projection step alone, `hard_prune` any plan's (no training).
The vocabulary (schemes, plans, patterns, the model's pattern library and prunable convs) is
`patdnn.sparsity`.
"""

from patdnn.prune.admm import Admm, SchemeAdmm, project_to_connectivity, project_to_patterns, rho_schedule
from patdnn.prune.export import load_patterns, save_patterns
from patdnn.prune.hardprune import hard_prune
from patdnn.prune.library import cross_library, select_library
from patdnn.prune.lightning import PruningCallback
from patdnn.prune.masks import MaskEnforcer, mask_violations, pattern_masks
from patdnn.prune.oneshot import one_shot_pattern_prune
from patdnn.prune.pipeline import PruneConfig, run_pruning
from patdnn.prune.planning import prunable_layers, resolve_plan
from patdnn.prune.pruner import Pruner, PruneResult, PruneSpec, top1_accuracy
from patdnn.prune.turnkey import prune_model

__all__ = [
    "Admm",
    "MaskEnforcer",
    "PruneConfig",
    "PruneResult",
    "PruneSpec",
    "Pruner",
    "PruningCallback",
    "SchemeAdmm",
    "cross_library",
    "hard_prune",
    "load_patterns",
    "mask_violations",
    "one_shot_pattern_prune",
    "pattern_masks",
    "project_to_connectivity",
    "project_to_patterns",
    "prune_model",
    "prunable_layers",
    "resolve_plan",
    "rho_schedule",
    "run_pruning",
    "save_patterns",
    "select_library",
    "top1_accuracy",
]
