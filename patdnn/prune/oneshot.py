"""One-shot pattern + connectivity pruning by magnitude (no retraining).

The library is PatDNN's: the K most frequent *natural* patterns (centre + largest neighbours)
over all 3x3 kernels of the network (`patdnn.sparsity.patterns.extract_library`). Each kernel is
then projected onto its best library pattern and each layer keeps its strongest kernels
(connectivity). This is the projection step of the ADMM pipeline, usable on its own for compiler
tests and benchmarks.
"""

from __future__ import annotations

import numpy as np
import torch

from patdnn.sparsity.layers import pattern_convs, prunable_convs
from patdnn.sparsity.patterns import PatternInfo, apply_patterns, extract_library, pattern_ids


@torch.no_grad()
def one_shot_pattern_prune(
    model: torch.nn.Module,
    num_patterns: int = 8,
    entries: int = 4,
    connectivity: float = 3.6,
    library: np.ndarray | None = None,
    skip_first: bool = True,
) -> dict[str, PatternInfo]:
    """Prunes the model's 3x3 convs (see `prunable_convs`) in place; returns {conv name: (library, ids)}.
    A model without any 3x3 conv (groups 1, any dilation) raises a one-line ValueError."""
    if not pattern_convs(model):
        raise ValueError(
            f"no 3x3 convolution to pattern-prune in {type(model).__name__} "
            "(pattern pruning applies to 3x3 Conv2d layers with groups 1)"
        )
    if library is None:
        library = extract_library(model, num_patterns, entries)
    return {
        name: (library, pattern_prune_conv(conv, library, connectivity))
        for name, conv in prunable_convs(model, skip_first).items()
    }


@torch.no_grad()
def pattern_prune_conv(conv: torch.nn.Conv2d, library: np.ndarray, connectivity: float) -> np.ndarray:
    """Prunes one 3x3 conv in place to `library` and 1/connectivity of its kernels; returns the
    (Cout, Cin) pattern ids (-1: removed kernel)."""
    weight = conv.weight.detach().cpu().numpy()
    ids = pattern_ids(weight, library, connectivity)
    conv.weight.copy_(torch.from_numpy(apply_patterns(weight, ids, library)))
    return ids
