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


@dataclass(frozen=True)
class BlockedFkw:
    """The FKW index of one layer split into input-channel blocks, as generated code reads it.

    The weights keep the canonical FKW order (filter → pattern → channel); inside each (filter,
    pattern) run the kernels of one channel block are contiguous, so a block needs no copy of the
    weights, only its own segment table: `segments[(b*Cout + o)*P + p] = (first kernel, end kernel,
    first weight)` indexes `channel` and the weights.
    """

    channel_block: int
    num_blocks: int
    segments: np.ndarray  # (NB*Cout*P, 3) int32
    channel: np.ndarray  # (N,) int32: input channel of every kept kernel, FKW order


def blocked_fkw(ids: np.ndarray, entries: list[int], channel_block: int) -> BlockedFkw:
    """Segments of the kept kernels per (channel block, filter, pattern) — see `BlockedFkw`."""
    cout, cin = ids.shape
    num_patterns = len(entries)
    block = max(1, min(channel_block, cin))
    num_blocks = -(-cin // block)
    filters, channels = fkw_order(ids, num_patterns)
    patterns = ids[filters, channels].astype(np.int64)
    # Kernels are sorted by (filter, pattern, channel), hence by this key too.
    key = (filters * num_patterns + patterns) * num_blocks + channels // block
    bins = np.arange(cout * num_patterns * num_blocks)
    start = np.searchsorted(key, bins, side="left")
    end = np.searchsorted(key, bins, side="right")
    index = fkw_index(ids, entries)
    run_start = np.repeat(index.segment_start[:-1].astype(np.int64), num_blocks)  # first kernel of (o, p)
    run_weight = np.repeat(index.weight_start.astype(np.int64), num_blocks)
    per_kernel = np.tile(np.repeat(np.asarray(entries, dtype=np.int64), num_blocks), cout)
    weight = run_weight + (start - run_start) * per_kernel
    table = np.stack([start, end, weight], axis=1).reshape(cout, num_patterns, num_blocks, 3)
    segments = table.transpose(2, 0, 1, 3).reshape(-1, 3).astype(np.int32)  # (b, o, p) order
    return BlockedFkw(block, num_blocks, segments, channels.astype(np.int32))


def storage_bytes(ids: np.ndarray, entries: list[int], kernel_size: int) -> dict[str, int]:
    """Bytes to store one layer's weights densely, in CSR (f32 values + i32 column ids + row
    pointers) and in FKW (f32 weights + i32 channel per kernel + i32 offsets per filter/pattern)."""
    cout, cin = ids.shape
    kept = ids >= 0
    nonzeros = int(np.asarray(entries)[ids[kept]].sum())
    kernels = int(kept.sum())
    return {
        "dense": cout * cin * kernel_size * kernel_size * 4,
        "csr": nonzeros * 8 + (cout + 1) * 4,
        "fkw": nonzeros * 4 + kernels * 4 + (cout * len(entries) + 1) * 4 * 2,
    }
