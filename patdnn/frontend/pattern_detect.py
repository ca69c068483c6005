"""Recovering a pattern library and per-kernel pattern ids from the zeros of a 3x3 conv."""

from __future__ import annotations

import numpy as np

MAX_PATTERNS = 32  # ids are i8; real libraries have 4–12 patterns
MAX_DENSITY = 0.6  # above this a conv is cheaper dense than pattern-sparse


def detect_patterns(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(library (P, K, K), ids (Cout, Cin)) if `weight` is pattern-sparse, else None.

    Every kept kernel's non-zero set must lie inside a library mask; the library is the set of
    maximal non-zero sets (a kernel whose pruned-in weight happens to be exactly 0 still maps to
    its pattern), most frequent first. All-zero kernels are removed (-1)."""
    cout, cin, k, k2 = weight.shape
    if k != 3 or k2 != 3:
        return None
    nonzero = (weight != 0).reshape(cout * cin, k * k)
    if nonzero.mean() > MAX_DENSITY:
        return None
    codes = (nonzero.astype(np.int64) << np.arange(k * k)).sum(axis=1)
    distinct, counts = np.unique(codes[codes != 0], return_counts=True)
    if distinct.size == 0:  # every kernel removed: any one-pattern library will do
        centre = np.zeros((1, k, k), np.float32)
        centre[0, k // 2, k // 2] = 1.0
        return centre, np.full((cout, cin), -1, np.int64)
    maximal = [
        (int(c), int(n))
        for c, n in zip(distinct, counts)
        if not any((int(c) & int(d)) == int(c) and c != d for d in distinct)
    ]
    if len(maximal) > MAX_PATTERNS:
        return None
    # Order by how many kernels each pattern covers (own count plus subsets), most first.
    covered = {m: int(sum(n for c, n in zip(distinct, counts) if (int(c) & m) == int(c))) for m, _ in maximal}
    library_codes = sorted(covered, key=lambda m: (-covered[m], m))
    lookup = {}
    for c in distinct:
        lookup[int(c)] = next(i for i, m in enumerate(library_codes) if (int(c) & m) == int(c))
    ids = np.array([lookup.get(int(c), -1) if c else -1 for c in codes], dtype=np.int64).reshape(cout, cin)
    library = np.array([[(m >> b) & 1 for b in range(k * k)] for m in library_codes], np.float32).reshape(-1, k, k)
    return library, ids
