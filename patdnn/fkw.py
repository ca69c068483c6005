"""FKW (filter–kernel–weight) storage of a pattern convolution, computed with numpy.

The kept weights of a `pattern.conv2d` are stored filter-major, then by pattern id (library
order), then by input channel — so the kernels of one pattern in one filter form a contiguous
*segment* that generated code runs as one branch-free loop. This module converts between that
compact order and dense (Cout, Cin, K, K) weights, and derives the index arrays code needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FkwIndex:
    """Index arrays of one layer (P = library size, Cout = filters, N = kept kernels).

    segment_start[o*P + p] .. segment_start[o*P + p + 1] are the kept kernels of filter o that use
    pattern p (indices into `channel`); weight_start[o*P + p] is where their weights begin.
    """

    segment_start: np.ndarray  # (Cout*P + 1,) int32
    weight_start: np.ndarray  # (Cout*P,) int32
    channel: np.ndarray  # (N,) int32: input channel of every kept kernel, FKW order

    @property
    def num_kernels(self) -> int:
        return int(self.channel.size)


def fkw_order(ids: np.ndarray, num_patterns: int) -> tuple[np.ndarray, np.ndarray]:
    """The kept kernels in FKW order (filter, then pattern id, then input channel), as
    (filter, input channel) index arrays."""
    filters, channels = np.nonzero((ids >= 0) & (ids < num_patterns))
    order = np.lexsort((channels, ids[filters, channels], filters))
    return filters[order].astype(np.int64), channels[order].astype(np.int64)


def fkw_index(ids: np.ndarray, entries: list[int]) -> FkwIndex:
    """Derives the FKW index arrays from the (Cout, Cin) pattern ids (-1: removed)."""
    cout, _ = ids.shape
    num_patterns = len(entries)
    counts = np.stack([(ids == p).sum(axis=1) for p in range(num_patterns)], axis=1)  # (Cout, P)
    flat = counts.reshape(-1)
    segment_start = np.concatenate([[0], np.cumsum(flat)]).astype(np.int32)
    weight_counts = (counts * np.asarray(entries, dtype=np.int64)[None, :]).reshape(-1)
    weight_start = np.concatenate([[0], np.cumsum(weight_counts)[:-1]]).astype(np.int32)
    _, channel = fkw_order(ids, num_patterns)
    return FkwIndex(segment_start, weight_start, channel.astype(np.int32))


def pack_weights(dense: np.ndarray, ids: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """Dense (Cout, Cin, K, K) weights → the compact FKW f32 vector of `pattern.conv2d`.

    Values outside a kernel's mask are dropped (the caller decides how ids were chosen)."""
    filters, channels = fkw_order(ids, masks.shape[0])
    kept = masks[ids[filters, channels]] > 0  # (N, K, K); boolean indexing keeps row-major order
    return np.ascontiguousarray(dense[filters, channels][kept], dtype=np.float32)


def unpack_weights(packed: np.ndarray, ids: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """The inverse of `pack_weights`: the masked dense (Cout, Cin, K, K) weights."""
    cout, cin = ids.shape
    k = masks.shape[1]
    filters, channels = fkw_order(ids, masks.shape[0])
    kept = masks[ids[filters, channels]] > 0
    if int(kept.sum()) != packed.size:
        raise ValueError(f"packed weights hold {packed.size} values, the pattern ids need {int(kept.sum())}")
    kernels = np.zeros((filters.size, k, k), dtype=np.float32)
    kernels[kept] = packed
    dense = np.zeros((cout, cin, k, k), dtype=np.float32)
    dense[filters, channels] = kernels
    return dense
