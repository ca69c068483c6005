"""Choosing the pattern library: the top-K natural patterns of a trained model, or a fixed one.

A library is a (P, 3, 3) float32 0/1 array; every pattern keeps the centre and the same number
of entries (the compiler groups kernels by pattern and unrolls each pattern's taps).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from patdnn.sparsity.patterns import candidate_patterns, extract_library

LIBRARY_SIZES = (4, 6, 8, 12)  # the sizes PatDNN evaluates; any 1..56 is accepted


def cross_library() -> np.ndarray:
    """PCONV's 4 'cross' patterns: the centre plus 3 of its 4 edge neighbours (no corners)."""
    cross = np.zeros((3, 3), dtype=bool)
    cross[[0, 1, 1, 1, 2], [1, 0, 1, 2, 1]] = True
    inside = [p for p in candidate_patterns(3, 4) if not (p.astype(bool) & ~cross).any()]
    return np.stack(inside).astype(np.float32)


FIXED_LIBRARIES = {"pconv-cross": cross_library}


def validate_library(library: np.ndarray, source: str = "library") -> np.ndarray:
    """Checks shape (P, 3, 3), 0/1 entries, centre kept, equal entry counts, no duplicates."""
    library = np.asarray(library, dtype=np.float32)
    if library.ndim != 3 or library.shape[1:] != (3, 3) or len(library) == 0:
        raise ValueError(f"{source}: a pattern library has shape (P, 3, 3), got {library.shape}")
    if not np.isin(library, (0.0, 1.0)).all():
        raise ValueError(f"{source}: pattern entries must be 0 or 1")
    if not (library[:, 1, 1] == 1).all():
        raise ValueError(f"{source}: every pattern must keep the centre")
    counts = library.reshape(len(library), -1).sum(axis=1)
    if len(set(counts.tolist())) != 1:
        raise ValueError(f"{source}: all patterns must keep the same number of entries, got {sorted(set(counts))}")
    if len(np.unique(library.reshape(len(library), -1), axis=0)) != len(library):
        raise ValueError(f"{source}: the library has duplicate patterns")
    return library


def parse_library_spec(spec: str | int, entries: int = 4) -> int | np.ndarray:
    """A library `spec` checked before any training: a count K (returned as int; the library is
    the top-K natural patterns of the trained model), a fixed library's name (see
    FIXED_LIBRARIES) or a .npy file holding a (P, 3, 3) array (both returned as the library)."""
    if not 1 <= entries <= 9:
        raise ValueError(f"entries {entries} out of range 1..9 (kept weights per 3x3 kernel, centre included)")
    if isinstance(spec, int) or str(spec).isdigit():
        k = int(spec)
        available = len(candidate_patterns(3, entries))
        if not 1 <= k <= available:
            raise ValueError(f"library size {k} out of range 1..{available} for {entries}-entry patterns")
        return k
    if spec in FIXED_LIBRARIES:
        return validate_library(FIXED_LIBRARIES[spec](), spec)
    path = Path(spec)
    if path.suffix == ".npy":
        if not path.exists():
            raise ValueError(f"pattern library file {path} does not exist")
        return validate_library(np.load(path), str(path))
    raise ValueError(f"--patterns {spec!r}: expected a count (e.g. 8), {' or '.join(FIXED_LIBRARIES)}, or a .npy file")


def select_library(model: torch.nn.Module, spec: str | int = 8, entries: int = 4) -> np.ndarray:
    """The library named by `spec` (see `parse_library_spec`), extracted from `model` for a count."""
    parsed = parse_library_spec(spec, entries)
    if isinstance(parsed, int):
        return validate_library(extract_library(model, parsed, entries))
    return parsed
