"""PatDNN's loop form in fp16 (`precision=fp16` on the neon target; ARMv8.2-A FP16 arithmetic).

What is half precision and what is not:

* the tap-shifted input planes are fp16 (runtime `pdnn_shift_input_f16` converts while copying,
  so there is no extra pass) and so are the layer's FKW weights (`<layer>_weights_h`, converted
  from the fp32 weights once, at init);
* the inner loops are `HalfFilterLoop`'s: 8 lanes per vector, `vfmaq_f16` — twice fp32's FMA rate
  on an A76 — accumulating in fp16 over one channel block of at most 64 input channels
  (patdnn.tuning.rules.FP16_BLOCK_CHANNELS; tile-tune enforces it);
* after each channel block the fp16 sums are widened (`vcvt_f32_f16`) and added, in fp32, to the
  bias or to the fp32 partial sums of the earlier blocks; the activation and the output are fp32,
  and so is everything between layers and every other op (dense convs, pooling, linears).

So a layer's error is that of fp16 inputs and weights plus fp16 sums of ≤ 64 channels x entries
products; tests/test_fp16_neon.py checks it against PyTorch in fp32 under qemu (cortex-a76).
"""

from __future__ import annotations

from dataclasses import dataclass

from patdnn.backend.c.pattern_loop import FilterLoop, activation_lines
from patdnn.isa import Isa, get_isa


@dataclass
class HalfFilterLoop(FilterLoop):
    """FilterLoop with fp16 accumulators (`isa` is the half ISA, e.g. neon_fp16) and an fp32 output
    tile of twice as many 4-lane vectors (`out_isa`)."""

    @property
    def out_isa(self) -> Isa:
        return get_isa("neon")

    @property
    def weights(self) -> str:
        return f"{self.name}_weights_h"

    def out_acc(self, row: int, vector: int) -> str:
        return f"o{row}_{vector}"

    def _out_tiles(self) -> list[tuple[int, int]]:
        per_half = self.isa.vector_width // self.out_isa.vector_width
        return [(r, v) for r in range(self.geo.rows) for v in range(self.geo.vectors * per_half)]

    def open_filter(self, psum_index: str = "o") -> list[str]:
        """Filter `o` of visit `idx`: fp16 accumulators from zero (the bias or the earlier blocks'
        partial sums are added in fp32 when the block closes)."""
        geo, name, op = self.geo, self.name, self.op
        filter_of = f"{name}_order[idx]" if op.filter_order is not None else "idx"
        bias = f"{name}_bias[o]" if op.bias is not None else "0.0f"
        lines = [f"    const int o = (int){filter_of};", f"    const float32x4_t vbias = vdupq_n_f32({bias});"]
        if geo.num_blocks > 1:
            lines.append(f"    float *ps = job->psum + (int64_t){psum_index} * {geo.rows * geo.tile};")
        accs = [self.acc(r, v) for r in range(geo.rows) for v in range(geo.vectors)]
        return lines + [f"    {self.isa.vec_type} {', '.join(f'{a} = vdupq_n_f16(0)' for a in accs)};"]

    def close_filter(self) -> list[str]:
        """Widen the fp16 sums to fp32, add the bias (first block) or the partial sums; store the
        partial sums after all but the last block, else the activation and the output."""
        geo, out = self.geo, self.out_isa
        vw = out.vector_width
        lines = []
        for r in range(geo.rows):
            for v in range(geo.vectors):
                a = self.acc(r, v)
                lines += [
                    f"    float32x4_t {self.out_acc(r, 2 * v)} = vcvt_f32_f16(vget_low_f16({a}));",
                    f"    float32x4_t {self.out_acc(r, 2 * v + 1)} = vcvt_high_f32_f16({a});",
                ]
        tiles = self._out_tiles()
        if geo.num_blocks > 1:
            lines += [
                f"    {self.out_acc(r, v)} = vaddq_f32({self.out_acc(r, v)}, "
                f"b == 0 ? vbias : {out.load(f'ps + {r * geo.tile + v * vw}')});"
                for r, v in tiles
            ]
            lines.append(f"    if (b < {geo.num_blocks - 1}) {{")
            lines += [f"      {out.store(f'ps + {r * geo.tile + v * vw}', self.out_acc(r, v))}" for r, v in tiles]
            lines += ["      continue;", "    }"]
        else:
            lines += [f"    {self.out_acc(r, v)} = vaddq_f32({self.out_acc(r, v)}, vbias);" for r, v in tiles]
        lines += [f"    {s}" for s in self.epilogue([self.out_acc(r, v) for r, v in tiles])]
        return lines + [f"    {s}" for s in self.store(tiles, out, self.out_acc)]

    def epilogue(self, accs: list[str]) -> list[str]:
        return activation_lines(self.out_isa, self.op.activation, accs)


def half_weights_lines(name: str, count: int) -> tuple[list[str], list[str]]:
    """(declaration, init lines) of `<name>_weights_h`: the fp32 FKW weights converted once."""
    return (
        [f"static float16_t {name}_weights_h[{max(count, 1)}];"],
        [f"for (int i = 0; i < {count}; ++i) {name}_weights_h[i] = (float16_t){name}_weights[i];"],
    )
