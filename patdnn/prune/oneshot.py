"""One-shot pattern + connectivity pruning by magnitude (no retraining).

The library is PatDNN's: the K most frequent *natural* patterns (centre + largest neighbours)
over all 3x3 kernels of the network. Each kernel is then projected onto its best library pattern
and each layer keeps its strongest kernels (connectivity). This is the projection step of the
ADMM pipeline, usable on its own for compiler tests and benchmarks.
"""

from __future__ import annotations

import numpy as np
import torch

from patdnn.patterns import apply_patterns, natural_patterns
from patdnn.schemes.apply import pattern_ids


def pattern_convs(model: torch.nn.Module) -> dict[str, torch.nn.Conv2d]:
    """The convolutions pattern pruning applies to: 3x3, not grouped, not dilated."""
    return {
        name: m
        for name, m in model.named_modules()
        if isinstance(m, torch.nn.Conv2d) and m.kernel_size == (3, 3) and m.groups == 1 and m.dilation == (1, 1)
    }


def prunable_convs(model: torch.nn.Module, skip_first: bool = True) -> dict[str, torch.nn.Conv2d]:
    """The 3x3 convs that get patterns. `skip_first`: leave the first conv dense when it reads
    an image (<= 4 input channels: little to gain, accuracy to lose), as PatDNN does."""
    convs = pattern_convs(model)
    first = next(iter(convs), None)
    if skip_first and first is not None and convs[first].in_channels <= 4:
        del convs[first]
    return convs


def depthwise_convs(model: torch.nn.Module) -> dict[str, torch.nn.Conv2d]:
    """The depthwise 3x3 convs (one input channel per group), e.g. most of MobileNet-V2's 3x3 kernels."""
    return {
        name: m
        for name, m in model.named_modules()
        if isinstance(m, torch.nn.Conv2d) and m.kernel_size == (3, 3) and m.groups > 1
        and m.groups == m.in_channels and m.dilation == (1, 1)
    }


def extract_library(model: torch.nn.Module, num_patterns: int = 8, entries: int = 4,
                    include_depthwise: bool = False) -> np.ndarray:
    """The `num_patterns` most frequent natural patterns of the model's 3x3 kernels, (P, 3, 3).

    `include_depthwise`: count depthwise kernels too (a MobileNet has almost no other 3x3 kernels)."""
    counts: dict[bytes, tuple[int, np.ndarray]] = {}
    convs = {**pattern_convs(model), **(depthwise_convs(model) if include_depthwise else {})}
    for conv in convs.values():
        masks = natural_patterns(conv.weight.detach().cpu().numpy(), entries).reshape(-1, 3, 3)
        unique, freq = np.unique(masks.reshape(len(masks), -1), axis=0, return_counts=True)
        for mask, n in zip(unique, freq):
            key = mask.tobytes()
            counts[key] = (counts.get(key, (0, mask))[0] + int(n), mask)
    ranked = sorted(counts.values(), key=lambda item: (-item[0], tuple(item[1])))
    return np.stack([mask.reshape(3, 3) for _, mask in ranked[:num_patterns]]).astype(np.float32)


@torch.no_grad()
def one_shot_pattern_prune(
    model: torch.nn.Module,
    num_patterns: int = 8,
    entries: int = 4,
    connectivity: float = 3.6,
    library: np.ndarray | None = None,
    skip_first: bool = True,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Prunes the model's 3x3 convs (see `prunable_convs`) in place; returns {conv name: (library, ids)}."""
    if library is None:
        library = extract_library(model, num_patterns, entries)
    return {name: (library, pattern_prune_conv(conv, library, connectivity))
            for name, conv in prunable_convs(model, skip_first).items()}


@torch.no_grad()
def pattern_prune_conv(conv: torch.nn.Conv2d, library: np.ndarray, connectivity: float) -> np.ndarray:
    """Prunes one 3x3 conv in place to `library` and 1/connectivity of its kernels; returns the
    (Cout, Cin) pattern ids (-1: removed kernel)."""
    weight = conv.weight.detach().cpu().numpy()
    ids = pattern_ids(weight, library, connectivity)
    conv.weight.copy_(torch.from_numpy(apply_patterns(weight, ids, library)))
    return ids
