"""Kernel patterns: candidate enumeration, natural patterns, a model's pattern library, and the
two PatDNN projections (pattern, connectivity).

A pattern is a KxK 0/1 mask. PatDNN's 3x3 patterns keep 4 entries including the centre: there
are C(8, 3) = 56 candidates, and a library is a small subset (8 by default): by default the
most frequent *natural* patterns (centre + largest neighbours) over the model's 3x3 kernels
(`extract_library`). A pattern layer is described by its `PatternInfo`: the library and the
per-kernel pattern ids.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import torch

from patdnn.sparsity.layers import depthwise_convs, pattern_convs

PatternInfo = tuple[np.ndarray, np.ndarray]  # (library (P, K, K) 0/1, ids (Cout, Cin), -1 = removed)


def candidate_patterns(kernel_size: int = 3, entries: int = 4) -> np.ndarray:
    """All (N, K, K) masks with `entries` kept entries including the centre."""
    centre = (kernel_size * kernel_size) // 2
    others = [i for i in range(kernel_size * kernel_size) if i != centre]
    masks = []
    for chosen in combinations(others, entries - 1):
        mask = np.zeros(kernel_size * kernel_size, dtype=np.float32)
        mask[[centre, *chosen]] = 1.0
        masks.append(mask.reshape(kernel_size, kernel_size))
    return np.stack(masks)


def natural_patterns(weights: np.ndarray, entries: int = 4) -> np.ndarray:
    """The natural pattern of every kernel of (Cout, Cin, K, K) weights: the centre plus the
    `entries - 1` largest-magnitude other entries, as (Cout, Cin, K, K) masks."""
    cout, cin, k, _ = weights.shape
    flat = np.abs(weights.reshape(cout, cin, k * k)).astype(np.float64)
    centre = (k * k) // 2
    flat[:, :, centre] = np.inf  # the centre is always kept
    keep = np.argsort(-flat, axis=2, kind="stable")[:, :, :entries]
    masks = np.zeros((cout, cin, k * k), dtype=np.float32)
    np.put_along_axis(masks, keep, 1.0, axis=2)
    return masks.reshape(cout, cin, k, k)


def pattern_projection(weights: np.ndarray, library: np.ndarray) -> np.ndarray:
    """Per kernel, the library pattern keeping the largest L2 norm (the Euclidean projection onto
    'every kernel follows one library pattern'). Returns (Cout, Cin) pattern ids."""
    energy = np.einsum("oikl,pkl->oip", weights.astype(np.float64) ** 2, library.astype(np.float64))
    return np.argmax(energy, axis=2)


def strongest_kernels(weights: np.ndarray, rate: float) -> np.ndarray:
    """The Euclidean projection onto 'at most round(N / rate) non-zero kernels' keeps the kernels
    with the largest L2 norm (ties broken by position). Returns a (Cout, Cin) bool mask."""
    norms = (weights.astype(np.float64) ** 2).sum(axis=(2, 3)).reshape(-1)
    keep = max(1, int(round(norms.size / rate))) if rate > 1 else norms.size
    order = np.argsort(-norms, kind="stable")
    kept = np.zeros(norms.size, dtype=bool)
    kept[order[:keep]] = True
    return kept.reshape(weights.shape[:2])


def connectivity_projection(weights: np.ndarray, ids: np.ndarray, library: np.ndarray, rate: float) -> np.ndarray:
    """Removes whole kernels: keeps the round(N / rate) kernels with the largest L2 norm after
    pattern pruning (ties broken by position). Returns ids with -1 for removed kernels."""
    return np.where(strongest_kernels(weights * library[ids], rate), ids, -1)


def pattern_ids(weight: np.ndarray, library: np.ndarray, connectivity: float) -> np.ndarray:
    """Per kernel the best library pattern, -1 for kernels removed by connectivity pruning."""
    return connectivity_projection(weight, pattern_projection(weight, library), library, connectivity)


def apply_patterns(weights: np.ndarray, ids: np.ndarray, library: np.ndarray) -> np.ndarray:
    """Dense weights with everything outside each kernel's pattern (and removed kernels) zeroed."""
    masks = np.where((ids >= 0)[:, :, None, None], library[np.clip(ids, 0, None)], 0.0)
    return (weights * masks).astype(np.float32)


def extract_library(
    model: torch.nn.Module, num_patterns: int = 8, entries: int = 4, include_depthwise: bool = False
) -> np.ndarray:
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


def random_pattern_layer(
    rng: np.random.Generator,
    cout: int,
    cin: int,
    num_patterns: int = 8,
    connectivity: float = 3.6,
    kernel_size: int = 3,
    entries: int = 4,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A random pattern-pruned layer: (masked dense weights, ids, library) — for tests and examples."""
    candidates = candidate_patterns(kernel_size, entries)
    library = candidates[rng.choice(len(candidates), size=num_patterns, replace=False)]
    weights = rng.standard_normal((cout, cin, kernel_size, kernel_size)).astype(np.float32)
    ids = pattern_projection(weights, library)
    ids = connectivity_projection(weights, ids, library, connectivity)
    return apply_patterns(weights, ids, library), ids, library
