"""`fkw-pack`: attaches the FKW (filter–kernel–weight) index to every kernel.pattern_conv.

The weights are already stored in FKW order (filter → pattern → input channel, the kept entries
of a kernel contiguous; see patdnn/sparsity/fkw.py). This pass makes the index explicit in the IR, blocked
by the layer's `channel_block`: `fkw_segments` = (first kernel, end kernel, first weight) per
(channel block, filter, pattern) — the per-filter offsets and per-pattern strides the loops read —
and `fkw_channels` = the input channel of every kept kernel, grouped by pattern within a filter.
It also records the layer's weight storage in bytes, FKW against dense and CSR, as
`patdnn.storage = {dense, csr, fkw}`; `report=true` prints the same as a table on stderr.
"""

import sys
from dataclasses import dataclass

import numpy as np
from xdsl.context import Context
from xdsl.dialects.builtin import I32, BytesAttr, DenseArrayBase, DictionaryAttr, IntegerAttr, ModuleOp, i32, i64
from xdsl.passes import ModulePass

from patdnn.dialects import common, kernel
from patdnn.sparsity.fkw import blocked_fkw, storage_bytes


def _i32_array(values: np.ndarray) -> DenseArrayBase[I32]:
    return DenseArrayBase(i32, BytesAttr(np.ascontiguousarray(values, dtype="<i4").tobytes()))


def pack(op: kernel.PatternConvOp) -> dict[str, int]:
    ids = common.kernel_ids(op)
    entries = op.library.entries()
    index = blocked_fkw(ids, entries, op.schedule_value("channel_block"))
    op.properties["fkw_segments"] = _i32_array(index.segments.reshape(-1))
    op.properties["fkw_channels"] = _i32_array(index.channel)
    storage = storage_bytes(ids, entries, op.library.size)
    op.attributes["patdnn.storage"] = DictionaryAttr({k: IntegerAttr(v, i64) for k, v in storage.items()})
    return storage


@dataclass(frozen=True)
class FkwPackPass(ModulePass):
    """Makes each pattern convolution's FKW index explicit (and reports its storage)."""

    name = "fkw-pack"

    report: bool = False
    """Print each layer's weight storage (dense, CSR, FKW bytes) on stderr."""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        rows = []
        for inner in op.walk():
            if isinstance(inner, kernel.PatternConvOp):
                name = str(inner.attributes["layer"]).strip('"') if "layer" in inner.attributes else f"conv{len(rows)}"
                rows.append((name, pack(inner)))
        if self.report and rows:
            print(
                f"{'layer':24} {'dense':>12} {'CSR':>12} {'FKW':>12} {'FKW/dense':>10} {'FKW/CSR':>8}", file=sys.stderr
            )
            for name, s in rows:
                print(
                    f"{name:24} {s['dense']:12d} {s['csr']:12d} {s['fkw']:12d} "
                    f"{s['fkw'] / s['dense']:10.3f} {s['fkw'] / s['csr']:8.3f}",
                    file=sys.stderr,
                )
