"""The pattern and connectivity projections are exact Euclidean projections (vs brute force)."""

from __future__ import annotations

from itertools import combinations, product

import numpy as np
import pytest

from patdnn.prune.admm import project_to_connectivity, project_to_patterns
from patdnn.prune.library import cross_library
from patdnn.sparsity.patterns import apply_patterns, candidate_patterns, connectivity_projection, pattern_projection


def _brute_pattern_projection(weights, library):
    """Per kernel, the closest point of the union of the library's subspaces."""
    result = np.zeros_like(weights)
    for o, i in product(range(weights.shape[0]), range(weights.shape[1])):
        candidates = [weights[o, i] * p for p in library]
        result[o, i] = min(candidates, key=lambda c: np.sum((weights[o, i] - c) ** 2))
    return result


def _brute_connectivity_projection(weights, keep):
    """Over every set of `keep` kernels, the one closest to `weights`."""
    flat = weights.reshape(-1, *weights.shape[2:])
    best, best_distance = None, np.inf
    for kept in combinations(range(len(flat)), keep):
        candidate = np.zeros_like(flat)
        candidate[list(kept)] = flat[list(kept)]
        distance = np.sum((flat - candidate) ** 2)
        if distance < best_distance - 1e-12:
            best, best_distance = candidate, distance
    return best.reshape(weights.shape)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("library", [candidate_patterns()[[0, 7, 20, 33, 41, 50]], cross_library()])
def test_pattern_projection_matches_brute_force(seed, library):
    weights = np.random.default_rng(seed).standard_normal((3, 2, 3, 3)).astype(np.float32)
    projected = project_to_patterns(weights, library)
    np.testing.assert_allclose(projected, _brute_pattern_projection(weights, library), rtol=0, atol=0)
    # each projected kernel lies inside one library pattern
    ids = pattern_projection(weights, library)
    assert np.all((projected != 0) <= library[ids].astype(bool))


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("rate", [1.0, 1.5, 2.0, 3.0, 6.0])
def test_connectivity_projection_matches_brute_force(seed, rate):
    weights = np.random.default_rng(seed).standard_normal((3, 2, 3, 3)).astype(np.float32)
    keep = max(1, round(6 / rate))
    projected = project_to_connectivity(weights, rate)
    np.testing.assert_allclose(projected, _brute_connectivity_projection(weights, keep), rtol=0, atol=0)
    assert int((np.abs(projected).sum(axis=(2, 3)) > 0).sum()) == keep


@pytest.mark.parametrize("seed", range(3))
def test_joint_projection_matches_brute_force(seed):
    """Pattern then connectivity (the hard-prune step) is the projection onto both sets at once:
    brute force over every kept-kernel set and every pattern choice."""
    rng = np.random.default_rng(seed)
    weights = rng.standard_normal((2, 2, 3, 3)).astype(np.float32)
    library = candidate_patterns()[rng.choice(56, 4, replace=False)]
    ids = connectivity_projection(weights, pattern_projection(weights, library), library, 2.0)
    ours = apply_patterns(weights, ids, library)
    best = min(
        (np.sum((weights - apply_patterns(weights, np.array(choice).reshape(2, 2), library)) ** 2), choice)
        for choice in product(range(-1, 4), repeat=4)
        if sum(c >= 0 for c in choice) == 2
    )
    assert np.sum((weights - ours) ** 2) == pytest.approx(best[0], rel=1e-6)
