"""The rule-based schedule of a pattern convolution, from its shape and the target description.

* register tile: `vectors` = 1 to 4 vectors of output columns, the count that wastes the fewest
  padded columns (then the most vectors), then as many rows as keep `registers / 2` accumulators
  (16 on NEON/AVX-512, 8 on AVX2) — enough independent FMA chains to hide the FMA latency, with
  registers left for loads and weights: of the row counts up to that, the one loading the fewest
  input rows over the whole height (the last tile is shifted up and recomputes its overlap, and
  each tile reads k - 1 extra rows: 28 rows take 7-row tiles, not 8);
* loop form: on x86 hosts (AVX2, AVX-512), layers whose tile input outgrows L1 take the tap-list
  form (`filter_group` > 0, patdnn/backend/c_pattern_taps.py) with channel blocks of ~96 KB of tile
  input: mostly in L1 while the filters sweep it (the rest comes from L2), and half the partial-sum
  round trips of strictly L1-sized (48 KB) blocks; other layers and the NEON / scalar targets keep
  PatDNN's per-pattern loops (`filter_group` = 0);
* channel blocks in PatDNN's form: equal blocks, as few as keep one register tile's tap-shifted
  input rows of a block within ~1 MB (half a 2 MB L2), so every filter of a thread reuses them
  while they are cached; each extra block costs a partial-sum round trip per filter and tile;
  in fp16 (`neon_fp16`) blocks of at most 64 channels (FP16_BLOCK_CHANNELS: the fp16 sums of one
  block then go to fp32), which tile-tune enforces on any schedule;

Measured (VGG-16 512->512 @28, AVX-512, 1 thread, medians of 30): 8-row tiles 10.5 ms, 7-row tiles
9.3 ms (28 = 4 x 7: no shifted last tile); 128- instead of 256-channel blocks changed nothing.
Zen 5 (48 KB L1d), 1 thread, 96 KB instead of 48 KB blocks, interleaved medians: VGG-16 conv9
(512 @28) 1.08x, conv11 (512 @14) 1.16x, conv2 1.02x, conv6 0.98x, conv4 (128 @112) 0.94x; ResNet-50
layer1 1.08x, layer3 1.11x, layer4 1.05x, layer3.0 (stride 2) 1.22x.
Tap-list form, same layer (before the list was put in loop order, which then gave 6.6 ms):
14-channel (48 KB) blocks 7.3 ms, 8-channel blocks 8.2 ms; groups of 64 to 512 filters within noise
(128 kept).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from xdsl.dialects.builtin import DictionaryAttr, IntegerAttr, i64

from patdnn.dialects.common import shape_of
from patdnn.isa import Isa

FP16_BLOCK_CHANNELS = 64  # fp16 sums of at most this many input channels, then fp32 (backend/c/pattern_fp16.py)
CACHE_BLOCK_BYTES = 1024 * 1024
L1_BLOCK_BYTES = 96 * 1024  # a tap-list channel block's tile input: about twice a core's L1d (see above)
TAP_LIST_GROUP = 128  # filters per group in the tap-list form
TAP_LIST_ISAS = ("avx2", "avx512")


@dataclass(frozen=True)
class LayerShape:
    cin: int
    cout: int
    h: int
    w: int
    ho: int
    wo: int
    k: int
    stride: int

    @staticmethod
    def of(op) -> LayerShape:  # a pattern.conv2d or kernel.pattern_conv
        _, cin, h, w = shape_of(op.input)
        _, cout, ho, wo = shape_of(op.output)
        return LayerShape(cin, cout, h, w, ho, wo, op.library.size, op.stride.get_values()[0])


@dataclass(frozen=True)
class Schedule:
    tile_x: int
    tile_y: int
    channel_block: int
    filter_group: int = 0  # 0: PatDNN's per-pattern loops; N: tap-list form, N filters per group

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    def as_attr(self) -> DictionaryAttr:
        """The `patdnn.schedule` dictionary of a pattern.conv2d (without `filter_group` = 0, the
        IR's default: PatDNN's loop form)."""
        items = {k: v for k, v in self.as_dict().items() if k != "filter_group" or v}
        return DictionaryAttr({k: IntegerAttr(v, i64) for k, v in items.items()})


def max_accumulators(isa: Isa) -> int:
    return max(4, isa.registers // 2)


def channel_block_for(shape: LayerShape, tile_x: int, tile_y: int, budget: int = CACHE_BLOCK_BYTES) -> int:
    """Equal channel blocks, as few as keep one register tile's tap-shifted input within `budget`."""
    rows_in = (tile_y - 1) * shape.stride + shape.k
    per_channel = shape.k * rows_in * tile_x * 4
    largest = max(1, min(shape.cin, budget // per_channel))
    blocks = -(-shape.cin // largest)
    return -(-shape.cin // blocks)


def form_channel_block(shape: LayerShape, tile_x: int, tile_y: int, filter_group: int) -> int:
    """The channel block of a loop form: ~2x L1 for tap lists (L1_BLOCK_BYTES), L2-sized for PatDNN's loops."""
    return channel_block_for(shape, tile_x, tile_y, L1_BLOCK_BYTES if filter_group else CACHE_BLOCK_BYTES)


def half_precision_block(cin: int, block: int) -> int:
    """An fp16 layer's channel block: `block`, or equal blocks of at most FP16_BLOCK_CHANNELS when
    it is larger (fp16 accumulates one block, then the sums go to fp32)."""
    if block <= FP16_BLOCK_CHANNELS:
        return block
    blocks = -(-cin // FP16_BLOCK_CHANNELS)
    return -(-cin // blocks)


def rule_schedule(shape: LayerShape, isa: Isa, filter_group: int | None = None) -> Schedule:
    """The rule's schedule; `filter_group` forces a loop form (its channel block follows the form)."""
    vw = isa.vector_width
    most = max(1, min(4 if isa.vector else 8, -(-shape.wo // vw)))
    vectors = min(range(1, most + 1), key=lambda v: (-(-shape.wo // (v * vw)) * v * vw, -v))
    most_rows = max(1, min(shape.ho, max_accumulators(isa) // vectors))
    # The last row tile is shifted up to end at the last row (its overlap is computed twice), and
    # every tile loads k - 1 rows more than it outputs: fewest loaded rows, then the tallest tile.
    tile_y = min(range(1, most_rows + 1), key=lambda r: (-(-shape.ho // r) * (r + shape.k - 1), -r))
    tile_x = vectors * vw
    if filter_group is None:
        outgrows_l1 = form_channel_block(shape, tile_x, tile_y, 1) < shape.cin
        filter_group = min(TAP_LIST_GROUP, shape.cout) if isa.name in TAP_LIST_ISAS and outgrows_l1 else 0
    block = form_channel_block(shape, tile_x, tile_y, filter_group)
    if isa.elem_bytes == 2:
        block = half_precision_block(shape.cin, block)
    return Schedule(tile_x, tile_y, block, filter_group)
