"""C for `kernel.pattern_conv` in tap-list form (`filter_group` > 0): cache-blocked, branch-light.

PatDNN's form (pattern_loop.FilterLoop) runs one loop per pattern for every (channel block, filter):
with channel blocks small enough for L1 most of those loops run 0 or 1 times and their exits are
mispredicted, so it only pays with large (L2) blocks — where every kernel's input rows come from
L2. On a core with two FMA and two load ports the shared loads of `load-elim` matter less than
where the loads come from, so this form trades them for L1 locality:

* every kept kernel becomes one entry of a tap list: the offsets of its taps in the tile's
  tap-shifted input — the pattern is in the offsets, so one loop with a fixed body (each load
  folded into its FMA) serves every pattern; its weights are copied once, at model load, from the
  FKW weights into the list's order, so they stream with the offsets (reading them in FKW order
  costs ~12% on VGG-16's 512-channel layers);
* the list is ordered (filter, channel block): a (filter, block) visit is one loop, one exit;
* loops: column tiles → row tiles → L2 blocks of channel blocks → groups of `filter_group`
  filters → channel blocks (~96 KB of one tile's input rows, rules.L1_BLOCK_BYTES: mostly in L1)
  → filters of the group → kernels. A block's input is reused by the group's filters while it is
  (mostly) in L1, an L2 block's by every group, and partial sums stay with the filters of a group.

Needs patterns with equal entry counts (PatDNN's 4-entry libraries); others keep PatDNN's form.
"""

from __future__ import annotations

import numpy as np

from patdnn.backend.c.pattern_loop import ConvGeometry, FilterLoop
from patdnn.backend.c.state import CState
from patdnn.backend.common import int32_array

L2_BLOCK_BYTES = 256 * 1024  # a group sweep's input: stays in L2 next to the partial sums and weights


def tap_list_supported(entries: list[int]) -> bool:
    return len(set(entries)) == 1


def tap_list(op, geo: ConvGeometry, segments: np.ndarray, channels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(visit starts, taps, weight sources): per (filter, channel block) visit, in that order (filters
    in the order the loop visits them, so the list streams), the
    index of its first kernel; per kept kernel (in visit order) its tap offsets (plane of the
    kernel column + input row, relative to the tile's input) and the index of its first weight
    in the FKW weights."""
    library, patterns = op.library, op.library.num_patterns
    entries = library.entries()[0]
    tap_offsets = np.array(
        [[c * geo.plane + r * geo.dilation[0] * geo.row_len for r, c in library.taps(p)] for p in range(patterns)],
        dtype=np.int64,
    ).reshape(patterns, entries)
    seg = segments.reshape(geo.num_blocks, geo.cout, patterns, 3).astype(np.int64)
    first, end, weight = seg[..., 0].reshape(-1), seg[..., 1].reshape(-1), seg[..., 2].reshape(-1)
    lengths = end - first
    b, o, p = np.unravel_index(np.arange(first.size), (geo.num_blocks, geo.cout, patterns))
    # the kernels of every segment, flattened: kernel id, its visit (filter, block), pattern, weight
    kernel = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths - first, lengths)
    position = np.empty(geo.cout, np.int64)  # of each filter in the (reordered) filter loop
    position[np.array(list(op.filter_order.get_values())) if op.filter_order is not None else np.arange(geo.cout)] = (
        np.arange(geo.cout)
    )
    visit = np.repeat(position[o] * geo.num_blocks + b, lengths)
    weights = np.repeat(weight - first * entries, lengths) + kernel * entries
    offsets = channels[kernel].astype(np.int64)[:, None] * (geo.k * geo.plane) + tap_offsets[np.repeat(p, lengths)]
    order = np.argsort(visit, kind="stable")
    starts = np.searchsorted(visit[order], np.arange(geo.cout * geo.num_blocks + 1))
    return starts, offsets[order].reshape(-1), weights[order]


class TapListLoop(FilterLoop):
    """`<layer>_filters` in tap-list form (see the module docstring); shares the tile loops, the
    accumulator set-up and the stores with PatDNN's form."""

    def l2_blocks(self) -> int:
        """Channel blocks per L2 block: as many as keep one tile's input of the L2 block in L2."""
        geo = self.geo
        tile_rows = (geo.rows - 1) * geo.stride[0] + geo.span
        per_block = geo.block * geo.k * tile_rows * geo.tile * 4
        return max(1, min(geo.num_blocks, L2_BLOCK_BYTES // per_block))

    def lines(self) -> list[str]:
        isa, geo, name = self.isa, self.geo, self.name
        vw, nb, group = isa.vector_width, geo.num_blocks, self.op.schedule_value("filter_group")
        entries = self.op.library.entries()[0]
        l2 = self.l2_blocks()
        lines = self.open_tiles() + [
            f"  for (int c2 = 0; c2 < {nb}; c2 += {l2})",
            f"  for (int64_t g = begin; g < end; g += {group}) {{",
            f"  const int64_t g_end = g + {group} < end ? g + {group} : end;",
            f"  for (int b = c2; b < c2 + {l2} && b < {nb}; ++b)",
            "  for (int64_t idx = g; idx < g_end; ++idx) {",
        ]
        lines += self.open_filter(psum_index="idx")  # in loop order: partial sums stream too
        lines += [
            f"    for (int32_t k = {name}_visit[idx * {nb} + b]; k < {name}_visit[idx * {nb} + b + 1]; ++k) {{",
            *(f"      {s}" for s in self.mca_mark("BEGIN", f"{name}_taps")),
            f"      const int32_t *t = {name}_taps + (int64_t){entries} * k;",
            f"      const float *w = {name}_tapw + (int64_t){entries} * k;",
        ]
        for e in range(entries):
            lines.append(
                f"      {{ const float *ip = tile_in + t[{e}]; const {isa.vec_type} w{e} = {isa.broadcast(f'w[{e}]')};"
            )
            for r in range(geo.rows):
                for v in range(geo.vectors):
                    offset = r * geo.stride[0] * geo.row_len + v * vw
                    lines.append(
                        f"        {self.acc(r, v)} = {isa.fma(self.acc(r, v), isa.load(f'ip + {offset}'), f'w{e}')};"
                    )
            lines.append("      }")
        lines += [f"      {s}" for s in self.mca_mark("END", f"{name}_taps")]
        lines.append("    }")
        return lines + self.close_filter() + ["  }", "  }", "  }", "  }", "}", ""]


def emit_tap_list(
    emitter: CState, op, name: str, geo: ConvGeometry, segments: np.ndarray, channels: np.ndarray
) -> None:
    """The arrays TapListLoop reads, the load-time copy of the weights into list order, the loop."""
    starts, taps, sources = tap_list(op, geo, segments, channels)
    entries, kernels = op.library.entries()[0], sources.size
    emitter.out += [
        int32_array(f"{name}_visit", starts),
        int32_array(f"{name}_taps", taps),
        int32_array(f"{name}_tapw_src", sources),
        f"static float {name}_tapw[{max(kernels * entries, 1)}] __attribute__((aligned(64)));",
    ]
    emitter.init_lines.append(
        f"for (int i = 0; i < {kernels}; ++i) memcpy({name}_tapw + {entries} * i, {name}_weights + "
        f"{name}_tapw_src[i], {entries} * sizeof(float));"
    )
    emitter.out += TapListLoop(emitter.isa, op, name, geo, emitter.mca_regions).lines()
