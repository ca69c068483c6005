"""The rule-based schedule of a pattern convolution, from its shape and the target description.

* register tile: `vectors` = up to 4 vectors of output columns (fewer for narrow layers), then as
  many rows as keep `registers / 2` accumulators (16 on NEON/AVX-512, 8 on AVX2) — enough
  independent FMA chains to hide the FMA latency, with registers left for loads and weights;
* channel block: as many input channels as keep their tap-shifted rows of one register tile in
  ~256 KB (L2), so every filter of a thread reuses them while they are cached.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from patdnn.backend.isa import Isa

CACHE_BLOCK_BYTES = 256 * 1024


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
        from patdnn.dialects.pattern import shape_of

        _, cin, h, w = shape_of(op.input)
        _, cout, ho, wo = shape_of(op.output)
        return LayerShape(cin, cout, h, w, ho, wo, op.library.size, op.stride.get_values()[0])


@dataclass(frozen=True)
class Schedule:
    tile_x: int
    tile_y: int
    channel_block: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def max_accumulators(isa: Isa) -> int:
    return max(4, isa.registers // 2)


def channel_block_for(shape: LayerShape, tile_x: int, tile_y: int) -> int:
    rows_in = (tile_y - 1) * shape.stride + shape.k
    per_channel = shape.k * rows_in * tile_x * 4
    return max(1, min(shape.cin, CACHE_BLOCK_BYTES // per_channel))


def rule_schedule(shape: LayerShape, isa: Isa) -> Schedule:
    vw = isa.vector_width
    vectors = max(1, min(4 if isa.vector else 8, -(-shape.wo // vw)))
    tile_y = max(1, min(shape.ho, max_accumulators(isa) // vectors))
    tile_x = vectors * vw
    return Schedule(tile_x, tile_y, channel_block_for(shape, tile_x, tile_y))
