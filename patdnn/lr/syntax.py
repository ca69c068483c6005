"""The LR syntax tree and the tables that printer, parser and IR builder share.

`OPS` says, for every LR op name, which IR op it is, which body fields it needs (one tuple per
printed line, in print order), how many inputs it takes and how its data is stored. Every op may
also carry an optional `schedule` line (`SCHEDULE_KEYS`, printed in that order) and an optional
`prune` line (its pruning scheme, `PRUNE_ATTR` in the IR), printed last.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from patdnn.dialects.pattern import SCHEDULE_ATTR  # noqa: F401 - re-exported for the LR modules
from patdnn.lr.errors import LrError, LrSyntaxError, located
from patdnn.sparsity.scheme import PRUNE_ATTR  # noqa: F401 - re-exported for the LR modules

MAGIC = "# patdnn LR v1"
INPUT, OUTPUT = "%in", "%out"
LAYER_ATTR = "layer"  # discardable StringAttr: the module path of the layer
SCHEDULE_KEYS: dict[str, type] = {
    "tile_x": int,
    "tile_y": int,
    "channel_block": int,
    "filter_group": int,
    "unroll": int,
    "loop_order": str,
    "threads": int,
    "device": str,
}
SCHEDULE = "schedule"
PRUNE = "prune"
OPTIONAL_FIELDS = (SCHEDULE, PRUNE)  # any op may carry these, printed in this order after its own lines


@dataclass(frozen=True)
class OpSpec:
    ir_name: str
    lines: tuple[tuple[str, ...], ...] = ()  # required body fields, one tuple per printed line
    arity: int | None = 1  # number of inputs; None: one or more
    storage: str | None = None  # "fkw" (weights, bias?, ids), "dense" (weights, bias?) or
    #                             "block" (weights, bias?, columns, offsets)

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(name for line in self.lines for name in line)


OPS: dict[str, OpSpec] = {
    "pattern_conv2d": OpSpec(
        "pattern.conv2d", (("stride", "padding", "activation"), ("library",), ("kernels",), ("storage",)), storage="fkw"
    ),
    "conv2d": OpSpec(
        "nn.conv2d", (("kernel", "stride", "padding", "groups", "activation"), ("storage",)), storage="dense"
    ),
    "pool2d": OpSpec("nn.pool2d", (("kind", "kernel", "stride", "padding"),)),
    "adaptive_avg_pool2d": OpSpec("nn.adaptive_avg_pool2d"),
    "add": OpSpec("nn.add", (("activation",),), arity=2),
    "concat": OpSpec("nn.concat", arity=None),
    "linear": OpSpec("nn.linear", (("activation",), ("storage",)), storage="dense"),
    "softmax": OpSpec("nn.softmax"),
    "activation": OpSpec("nn.activation", (("activation",),)),
    "reshape": OpSpec("nn.reshape"),
    "block_conv2d": OpSpec(
        "block.conv2d", (("kernel", "stride", "padding", "activation"), ("block",), ("storage",)), storage="block"
    ),
    "block_linear": OpSpec("block.linear", (("activation",), ("block",), ("storage",)), storage="block"),
    "constant": OpSpec("nn.constant", (("storage",),), arity=0, storage="dense"),
}
LR_NAME_OF_IR = {spec.ir_name: name for name, spec in OPS.items()}


@dataclass(frozen=True)
class Span:
    """A byte range of the LR blob (`@offset +size`)."""

    offset: int
    size: int


@dataclass(frozen=True)
class Storage:
    kind: str  # "fkw" or "dense"
    weights: Span
    bias: Span | None = None
    ids: Span | None = None  # fkw only: i8 pattern ids, row-major (out, in), -1 = removed
    columns: Span | None = None  # block only: i32 kept columns of every filter block, one after another
    offsets: Span | None = None  # block only: i32, filter block b keeps columns[offsets[b]:offsets[b+1]]


@dataclass(frozen=True)
class Library:
    size: int  # K of KxK
    masks: tuple[str, ...]  # "010|111|000" (rows separated by |)
    off_centre: bool = False


@dataclass(frozen=True)
class BlockCount:
    """`block RxC columns KEPT of TOTAL`: R filters per block (C: the pruning grid's column
    width), KEPT (filter block, column) pairs of TOTAL = blocks x GEMM columns."""

    rows: int
    cols: int
    kept: int
    total: int


@dataclass(frozen=True)
class KernelCount:
    kept: int
    total: int
    ratio: float  # total / kept (inf when every kernel is removed)


@dataclass
class Layer:
    op: str
    inputs: tuple[str, ...]
    output: str
    shape: tuple[int, ...]
    fields: dict[str, Any]  # field name -> value (tuple pair, int, str, Library, KernelCount, Storage, dict)
    name: str | None = None
    pos: tuple[int, int] = field(default=(0, 0), compare=False)
    field_pos: dict[str, tuple[int, int]] = field(default_factory=dict, compare=False)

    @property
    def title(self) -> str:
        return f'layer "{self.name}"' if self.name is not None else f"{self.op} layer -> {self.output}"


@dataclass
class LrModel:
    name: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    weights_file: str
    sha256: str
    layers: list[Layer]
    filename: str = field(default="<lr>", compare=False)
    source: str = field(default="", compare=False, repr=False)

    def error(self, pos: tuple[int, int] | None, message: str, syntax: bool = False) -> LrError:
        """An error located at `pos` (line, column) of this model's source, when known."""
        cls = LrSyntaxError if syntax else LrError
        if pos is None or pos[0] <= 0:
            return cls(f"{self.filename}: {message}")
        return cls(located(self.filename, self.source, pos[0], pos[1], message))


def connectivity_ratio(kept: int, total: int) -> float:
    """The connectivity ratio T/K as printed (2 decimals; inf when nothing is kept)."""
    return float("inf") if kept == 0 else round(total / kept, 2)
