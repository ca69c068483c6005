"""Target descriptions: the vector facts passes read and the C spellings the emitter prints.

`scalar` is the portable reference (one lane); `neon` is the primary mobile target (ARMv8
Advanced SIMD, compiled on x86 hosts through SIMDe); `avx2` and `avx512` run natively on x86
hosts. Passes (tile-tune) read `vector_width` and `registers` to size register tiles; the C
emitter prints the intrinsics of `spelling`. `neon_fp16` (HALF_ISAS) is NEON's fp16 arithmetic,
used for the pattern convolutions of a `precision=fp16` neon target (docs/targets.md). Pattern convolutions load aligned (they read
tap-shifted copies whose rows start on vector boundaries); block kernels load unaligned (`loadu`:
they read input rows at any pixel offset).

`max(x, bound)` / `min(x, bound)` keep a NaN in `x` (PyTorch: relu(NaN) = clamp(NaN, 0, 6) = NaN).
x86 `max_ps(a, b)` / `min_ps(a, b)` return `b` when either is NaN, so the value goes second; the
scalar ternaries follow the same rule (GCC may turn them into maxss/minss, which keep it); NEON's
FMAX/FMIN (and SIMDe's vmaxq_f32/vminq_f32) propagate NaN in either order, and keep the value
first so that max(-0.0, +0.0) is +0.0 under SIMDe as on aarch64 (bit-identity).
"""

from __future__ import annotations

from dataclasses import dataclass, field

# scalar: a separate multiply and add (the build disables contraction), so results do not depend on
# whether the host compiler fuses.
_SCALAR = {
    "load": "(*({0}))",
    "loadu": "(*({0}))",
    "broadcast": "{0}",
    "fma": "({0} + {1} * {2})",
    "max": "({1} > {0} ? {1} : {0})",  # NaN in {0} kept
    "min": "({1} < {0} ? {1} : {0})",
    "store": "*({0}) = {1};",
}
_NEON = {
    "load": "vld1q_f32({0})",
    "loadu": "vld1q_f32({0})",
    "broadcast": "vdupq_n_f32({0})",
    "fma": "vfmaq_f32({0}, {1}, {2})",
    "max": "vmaxq_f32({0}, {1})",
    "min": "vminq_f32({0}, {1})",
    "store": "vst1q_f32({0}, {1});",
}

# ARMv8.2-A FP16 arithmetic (the A76 has it): 8 half lanes per register, twice fp32's FMA rate.
_NEON_FP16 = {
    "load": "vld1q_f16({0})",
    "loadu": "vld1q_f16({0})",
    "broadcast": "vdupq_n_f16({0})",
    "fma": "vfmaq_f16({0}, {1}, {2})",
    "max": "vmaxq_f16({0}, {1})",
    "min": "vminq_f16({0}, {1})",
    "store": "vst1q_f16({0}, {1});",
}


def _x86(prefix: str) -> dict[str, str]:
    return {
        "load": prefix + "_load_ps({0})",
        "loadu": prefix + "_loadu_ps({0})",
        "broadcast": prefix + "_set1_ps({0})",
        "fma": prefix + "_fmadd_ps({1}, {2}, {0})",
        "max": prefix + "_max_ps({1}, {0})",  # the second operand is returned when either is NaN
        "min": prefix + "_min_ps({1}, {0})",
        "store": prefix + "_storeu_ps({0}, {1});",
    }


@dataclass(frozen=True)
class Isa:
    name: str
    vector_width: int  # f32 lanes per register
    registers: int  # architectural vector registers (bounds the register tile)
    vec_type: str
    includes: tuple[str, ...]  # #include operands, quotes or brackets included
    spelling: dict[str, str] = field(hash=False, compare=False)  # operation -> C template
    elem: str = "float"  # the C type of one lane in memory
    elem_bytes: int = 4

    @property
    def vector(self) -> bool:
        return self.vector_width > 1

    def load(self, ptr: str) -> str:
        """An aligned load."""
        return self.spelling["load"].format(ptr)

    def loadu(self, ptr: str) -> str:
        """An unaligned load (block kernels read input rows at any pixel offset)."""
        return self.spelling["loadu"].format(ptr)

    def broadcast(self, value: str) -> str:
        return self.spelling["broadcast"].format(value)

    def fma(self, acc: str, a: str, b: str) -> str:
        """acc + a * b."""
        return self.spelling["fma"].format(acc, a, b)

    def max(self, x: str, bound: str) -> str:
        """max(x, bound), NaN when `x` is NaN."""
        return self.spelling["max"].format(x, bound)

    def min(self, x: str, bound: str) -> str:
        """min(x, bound), NaN when `x` is NaN."""
        return self.spelling["min"].format(x, bound)

    def store(self, ptr: str, value: str) -> str:
        """An unaligned store (output rows start anywhere)."""
        return self.spelling["store"].format(ptr, value)


ISAS: dict[str, Isa] = {
    "scalar": Isa("scalar", 1, 16, "float", (), _SCALAR),
    "neon": Isa("neon", 4, 32, "float32x4_t", ('"patdnn_neon.h"',), _NEON),
    "avx2": Isa("avx2", 8, 16, "__m256", ("<immintrin.h>",), _x86("_mm256")),
    "avx512": Isa("avx512", 16, 32, "__m512", ("<immintrin.h>",), _x86("_mm512")),
}

HALF_ISAS: dict[str, Isa] = {
    "neon": Isa("neon_fp16", 8, 32, "float16x8_t", ('"patdnn_neon.h"',), _NEON_FP16, "float16_t", 2)
}
"""The fp16 form of an ISA, for the pattern convolutions of a `precision=fp16` C target (not a
target ISA of its own: `Target.pattern_isa` names it; tile-tune and the tuning log see it)."""


def get_isa(name: str) -> Isa:
    """A target ISA by name, or a half-precision form by its own name (`neon_fp16`)."""
    isa = ISAS.get(name) or next((h for h in HALF_ISAS.values() if h.name == name), None)
    if isa is None:
        raise ValueError(f"unknown isa '{name}', expected one of: {', '.join(ISAS)}")
    return isa
