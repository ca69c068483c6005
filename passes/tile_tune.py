"""`tile-tune`: picks each pattern convolution's schedule and writes it into the IR.

The schedule — `tile_x` (output columns per register tile), `tile_y` (output rows per register
tile), `channel_block` (input channels per cache block) and `filter_group` (0: PatDNN's
per-pattern loops; N > 0: the tap-list form with groups of N filters) — lands in the op's
`patdnn.schedule` dictionary, which `lower-pattern-to-kernel` reads and the LR prints and parses,
so a researcher can read and edit it per layer. Sources, by precedence:

1. a value already in the layer's `patdnn.schedule` (from the LR or an earlier run) is kept;
2. this pass's options `tile_x`, `tile_y`, `channel_block` (0 = not set) and `filter_group`
   (-1 = not set) apply to every layer;
3. `log=PATH`: the schedule the auto-tuner (patdnn/autotune.py) logged for this layer,
   target ISA and thread count — the pass only reads the log; `patdnnc --autotune` and
   `patdnn.compile(..., autotune=...)` run the tuner before the pipeline; otherwise
4. the rule-based default for the target `isa` (patdnn/tuning/rules.py).

For an fp16 ISA (`neon_fp16`) a channel block above 64 is split into equal ones (with a note):
fp16 sums one block, then adds to fp32 (patdnn/backend/c/pattern_fp16.py).
"""

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import DictionaryAttr, IntegerAttr, ModuleOp, i64
from xdsl.passes import ModulePass
from xdsl.utils.exceptions import PassFailedException

from patdnn.dialects import pattern
from patdnn.dialects.pattern import SCHEDULE_ATTR
from patdnn.isa import get_isa
from patdnn.notes import layer_title, note
from patdnn.tuning.log import TuningLog
from patdnn.tuning.rules import FP16_BLOCK_CHANNELS, LayerShape, Schedule, half_precision_block, rule_schedule

UNSET = {"tile_x": 0, "tile_y": 0, "channel_block": 0, "filter_group": -1}  # option values meaning "not set"
KEYS = tuple(UNSET)


@dataclass(frozen=True)
class TileTunePass(ModulePass):
    """Writes a register-tile / cache-block schedule into every pattern.conv2d."""

    name = "tile-tune"

    isa: str = "neon"
    """Target ISA (scalar, neon, avx2, avx512): its vector width and register count."""

    tile_x: int = 0
    """Output columns per register tile for every layer (0: rule or tuner)."""

    tile_y: int = 0
    """Output rows per register tile for every layer (0: rule or tuner)."""

    channel_block: int = 0
    """Input channels per cache block for every layer (0: rule or tuner)."""

    filter_group: int = -1
    """Loop form for every layer: 0 PatDNN's per-pattern loops, N > 0 tap lists in groups of N
    filters (-1: rule or tuner)."""

    threads: int = 1
    """Threads the model runs with: the auto-tuner's log keeps schedules per thread count."""

    log: str = ""
    """The auto-tuner's log (JSON) to take schedules from ("": none, the rule decides)."""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        try:
            isa = get_isa(self.isa)
        except ValueError as e:
            raise PassFailedException(f"tile-tune: {e}") from None
        for name in KEYS:
            if getattr(self, name) < UNSET[name]:
                raise PassFailedException(f"tile-tune: {name}={getattr(self, name)} must be >= {max(UNSET[name], 0)}")
        try:
            logged = TuningLog.read(self.log) if self.log else None
        except ValueError as e:
            raise PassFailedException(f"tile-tune: {e}") from None
        for conv in (inner for inner in op.walk() if isinstance(inner, pattern.Conv2dOp)):
            form = self.filter_group if self.filter_group != UNSET["filter_group"] else None
            base = (logged and logged.schedule(conv, isa, self.threads)) or rule_schedule(
                LayerShape.of(conv), isa, form
            )
            options = {name: getattr(self, name) for name in KEYS if getattr(self, name) != UNSET[name]}
            existing = conv.attributes.get(SCHEDULE_ATTR)
            merged = dict(existing.data) if isinstance(existing, DictionaryAttr) else {}
            for name, value in Schedule(**(base.as_dict() | options)).as_attr().data.items():
                merged.setdefault(name, value)
            if isa.elem_bytes == 2:
                _cap_half_block(conv, merged)
            conv.attributes[SCHEDULE_ATTR] = DictionaryAttr(merged)


def _cap_half_block(conv: pattern.Conv2dOp, schedule: dict) -> None:
    """fp16 accumulates at most FP16_BLOCK_CHANNELS input channels (then fp32): a larger channel
    block in the schedule is split into equal ones, with a note."""
    asked = schedule["channel_block"].value.data
    cin = LayerShape.of(conv).cin
    block = half_precision_block(cin, min(asked, cin))
    if block != min(asked, cin):
        note(
            f"{layer_title(conv, 'a pattern convolution')}: channel_block {asked} reduced to {block} "
            f"(fp16 accumulates at most {FP16_BLOCK_CHANNELS} input channels before adding to fp32)"
        )
        schedule["channel_block"] = IntegerAttr(block, i64)
