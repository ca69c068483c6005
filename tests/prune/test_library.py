"""Library selection: top-K natural patterns, fixed libraries, validation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from patdnn.prune.library import cross_library, select_library, validate_library
from patdnn.sparsity.patterns import candidate_patterns


def _model_with_kernels(kernels: np.ndarray) -> torch.nn.Module:
    """Two stacked 3x3 convs; the second one holds `kernels` (the first is skipped: 1 input channel)."""
    model = torch.nn.Sequential(torch.nn.Conv2d(1, len(kernels), 3), torch.nn.Conv2d(len(kernels), 1, 3))
    with torch.no_grad():
        model[1].weight.copy_(torch.from_numpy(kernels[None]))
    return model


def test_top_k_are_the_most_frequent_natural_patterns():
    candidates = candidate_patterns()
    counts = {5: 7, 11: 5, 30: 3, 2: 1}  # candidate index -> how many kernels have it as natural pattern
    kernels = []
    for index, n in counts.items():
        for _ in range(n):
            # pattern entries large, the rest small: the natural pattern is that candidate
            kernels.append(candidates[index] * 2.0 + (1 - candidates[index]) * 0.1)
    model = torch.nn.Sequential(torch.nn.Conv2d(len(kernels), 1, 3))
    with torch.no_grad():
        model[0].weight.copy_(torch.from_numpy(np.stack(kernels)[None]))
    library = select_library(model, 3)
    np.testing.assert_array_equal(library, candidates[[5, 11, 30]])


def test_entries_parameter_changes_pattern_size():
    model = _model_with_kernels(np.random.default_rng(0).standard_normal((16, 3, 3)).astype(np.float32))
    library = select_library(model, 4, entries=5)
    assert library.shape == (4, 3, 3) and (library.reshape(4, -1).sum(1) == 5).all()


def test_cross_library_is_pconv():
    library = cross_library()
    assert library.shape == (4, 3, 3)
    assert (library[:, [0, 0, 2, 2], [0, 2, 0, 2]] == 0).all()  # no corners
    assert (library[:, 1, 1] == 1).all() and (library.reshape(4, -1).sum(1) == 4).all()


def test_library_from_file(tmp_path):
    path = tmp_path / "lib.npy"
    np.save(path, candidate_patterns()[:6])
    np.testing.assert_array_equal(select_library(torch.nn.Conv2d(1, 1, 3), str(path)), candidate_patterns()[:6])


@pytest.mark.parametrize(
    "library, message",
    [
        (np.ones((2, 2, 2)), "shape"),
        (candidate_patterns()[[0, 0]], "duplicate"),
        (np.concatenate([candidate_patterns()[:1], candidate_patterns(3, 5)[:1]]), "same number"),
        (np.where(candidate_patterns()[:2] == 1, 1, 0) * np.array([[1, 1, 1], [1, 0, 1], [1, 1, 1]]), "centre"),
    ],
)
def test_bad_libraries_are_rejected(library, message):
    with pytest.raises(ValueError, match=message):
        validate_library(library)


@pytest.mark.parametrize("spec", ["0", "57", "crosses", "missing.npy"])
def test_bad_library_specs(spec):
    with pytest.raises(ValueError):
        select_library(torch.nn.Conv2d(1, 1, 3), spec)
