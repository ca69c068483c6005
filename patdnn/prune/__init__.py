"""Pattern pruning of torch models (library extraction, projections; ADMM comes later)."""

from patdnn.prune.oneshot import extract_library, one_shot_pattern_prune, pattern_convs

__all__ = ["extract_library", "one_shot_pattern_prune", "pattern_convs"]
