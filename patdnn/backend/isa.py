"""Target descriptions: the vector facts passes read and the C spellings the emitter prints.

`scalar` is the portable reference (one lane); `neon` is the primary mobile target (ARMv8
Advanced SIMD, compiled on x86 hosts through SIMDe); `avx2` and `avx512` run natively on x86
hosts. Passes (tile-tune) read `vector_width` and `registers` to size register tiles; the C
emitter prints the intrinsics below. Loads are aligned: the generated code reads inputs from
tap-shifted copies whose rows start on vector boundaries.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Isa:
    name: str
    vector_width: int  # f32 lanes per register
    registers: int  # architectural vector registers (bounds the register tile)
    vec_type: str
    includes: tuple[str, ...]  # #include operands, quotes or brackets included
    prefix: str  # intrinsic prefix ("" for scalar and neon, which spell their own)

    @property
    def vector(self) -> bool:
        return self.vector_width > 1

    def load(self, ptr: str) -> str:
        if not self.vector:
            return f"(*({ptr}))"
        return f"vld1q_f32({ptr})" if self.name == "neon" else f"{self.prefix}_load_ps({ptr})"

    def broadcast(self, value: str) -> str:
        if not self.vector:
            return value
        return f"vdupq_n_f32({value})" if self.name == "neon" else f"{self.prefix}_set1_ps({value})"

    def fma(self, acc: str, a: str, b: str) -> str:
        # scalar: a separate multiply and add (the build disables contraction), so results
        # do not depend on whether the host compiler fuses.
        if not self.vector:
            return f"({acc} + {a} * {b})"
        return f"vfmaq_f32({acc}, {a}, {b})" if self.name == "neon" else f"{self.prefix}_fmadd_ps({a}, {b}, {acc})"

    def max(self, a: str, b: str) -> str:
        if not self.vector:
            return f"({a} > {b} ? {a} : {b})"
        return f"vmaxq_f32({a}, {b})" if self.name == "neon" else f"{self.prefix}_max_ps({a}, {b})"

    def min(self, a: str, b: str) -> str:
        if not self.vector:
            return f"({a} < {b} ? {a} : {b})"
        return f"vminq_f32({a}, {b})" if self.name == "neon" else f"{self.prefix}_min_ps({a}, {b})"

    def store(self, ptr: str, value: str) -> str:
        """An unaligned store (output rows start anywhere)."""
        if not self.vector:
            return f"*({ptr}) = {value};"
        return f"vst1q_f32({ptr}, {value});" if self.name == "neon" else f"{self.prefix}_storeu_ps({ptr}, {value});"

    def load_unaligned(self, ptr: str) -> str:
        if not self.vector:
            return f"(*({ptr}))"
        return f"vld1q_f32({ptr})" if self.name == "neon" else f"{self.prefix}_loadu_ps({ptr})"


ISAS: dict[str, Isa] = {
    "scalar": Isa("scalar", 1, 16, "float", (), ""),
    "neon": Isa("neon", 4, 32, "float32x4_t", ('"patdnn_neon.h"',), ""),
    "avx2": Isa("avx2", 8, 16, "__m256", ("<immintrin.h>",), "_mm256"),
    "avx512": Isa("avx512", 16, 32, "__m512", ("<immintrin.h>",), "_mm512"),
}


def get_isa(name: str) -> Isa:
    try:
        return ISAS[name]
    except KeyError:
        raise ValueError(f"unknown isa '{name}', expected one of: {', '.join(ISAS)}") from None
