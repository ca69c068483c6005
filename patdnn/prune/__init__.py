"""Pattern pruning of torch models: library selection, extended ADMM, masked retraining.

`run_pruning(PruneConfig(...))` is the whole pipeline (also the `patdnn prune` command);
`one_shot_pattern_prune` is its projection step alone (no training).
"""

from patdnn.prune.admm import Admm, project_to_connectivity, project_to_patterns, rho_schedule
from patdnn.prune.export import load_patterns, save_patterns
from patdnn.prune.library import cross_library, select_library
from patdnn.prune.masks import MaskEnforcer, mask_violations, pattern_masks
from patdnn.prune.oneshot import (
    depthwise_convs, extract_library, one_shot_pattern_prune, pattern_convs, prunable_convs,
)
from patdnn.prune.pipeline import PruneConfig, run_pruning

__all__ = [
    "Admm", "MaskEnforcer", "PruneConfig", "cross_library", "depthwise_convs", "extract_library", "load_patterns",
    "mask_violations", "one_shot_pattern_prune", "pattern_convs", "pattern_masks", "project_to_connectivity",
    "project_to_patterns", "prunable_convs", "rho_schedule", "run_pruning", "save_patterns", "select_library",
]
