"""`filter-kernel-reorder`: PatDNN's filter kernel reorder, as a `filter_order` permutation.

Kernels inside a filter are already grouped by pattern (the FKW order: every pattern segment is
one branch-free loop). This pass orders the *filters*: it sorts them by length (kept weights,
i.e. FMAs per output vector) and then by their pattern mix, so filters that run similar segment
loops sit next to each other, and deals them to `threads` groups in a snake order (largest to
group 0, 1, …, T-1, then T-1, …, 0), so that the runtime's static split of the filter range into
`threads` contiguous chunks gives every thread the same number of filters and nearly the same
work. Results are still written to each filter's own output channel (no copy pass).
"""

from dataclasses import dataclass

import numpy as np
from xdsl.context import Context
from xdsl.dialects.builtin import DenseArrayBase, ModuleOp, i64
from xdsl.passes import ModulePass
from xdsl.utils.exceptions import PassFailedException

from patdnn.dialects import common, kernel


def chunk_sizes(n: int, parts: int) -> list[int]:
    """The runtime's static split of n items into `parts` chunks (runtime/threadpool.c)."""
    base, rem = divmod(n, parts)
    return [base + (1 if i < rem else 0) for i in range(parts)]


def reorder_filters(ids: np.ndarray, entries: list[int], threads: int) -> np.ndarray:
    """The filter order: similar filters adjacent, balanced across `threads` equal-count chunks."""
    cout = ids.shape[0]
    counts = np.stack([(ids == p).sum(axis=1) for p in range(len(entries))], axis=1)  # (Cout, P)
    work = counts @ np.asarray(entries)
    # Longest first; ties by pattern mix (lexicographic on the per-pattern counts), then index.
    keys = [np.arange(cout)] + [-counts[:, p] for p in reversed(range(len(entries)))] + [-work]
    ranked = np.lexsort(keys)
    sizes = chunk_sizes(cout, max(1, threads))
    groups: list[list[int]] = [[] for _ in sizes]
    snake = [g for g in range(len(sizes))] + [g for g in reversed(range(len(sizes)))]
    turn = 0
    for f in ranked:
        while len(groups[snake[turn % len(snake)]]) >= sizes[snake[turn % len(snake)]]:
            turn += 1
        groups[snake[turn % len(snake)]].append(int(f))
        turn += 1
    return np.array([f for g in groups for f in g], dtype=np.int64)


@dataclass(frozen=True)
class FilterKernelReorderPass(ModulePass):
    """Sets `filter_order` on every kernel.pattern_conv (see module docstring)."""

    name = "filter-kernel-reorder"

    threads: int = 1
    """Threads the model will run on: the filters are balanced across this many chunks."""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        if self.threads < 1:
            raise PassFailedException(f"filter-kernel-reorder: threads={self.threads} must be >= 1")
        for inner in op.walk():
            if isinstance(inner, kernel.PatternConvOp):
                order = reorder_filters(common.kernel_ids(inner), inner.library.entries(), self.threads)
                inner.properties["filter_order"] = DenseArrayBase.from_list(i64, order.tolist())
