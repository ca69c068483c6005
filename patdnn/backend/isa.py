"""Target ISA descriptions: the vector facts passes and the C emitter read.

Each ISA spells the handful of vector operations the generated code uses. `scalar` is the
portable reference (one lane); `neon` is the primary mobile target (ARMv8 Advanced SIMD,
compiled on x86 hosts through SIMDe).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Isa:
    name: str
    vector_width: int  # f32 lanes per register
    registers: int  # architectural vector registers (for register-tile limits)
    vec_type: str
    includes: tuple[str, ...]
    max_stride: int  # largest convolution stride with a vector load form

    def load(self, ptr: str, stride: int) -> str:
        if self.name == "scalar":
            return f"(*({ptr}))"
        if stride == 1:
            return f"vld1q_f32({ptr})"
        return f"vld2q_f32({ptr}).val[0]"  # even lanes of 8 consecutive floats: a stride-2 load

    def broadcast(self, value: str) -> str:
        return value if self.name == "scalar" else f"vdupq_n_f32({value})"

    def fma(self, acc: str, a: str, b: str) -> str:
        # scalar: a separate multiply and add (the build disables contraction), so results
        # do not depend on whether the host compiler fuses.
        return f"({acc} + {a} * {b})" if self.name == "scalar" else f"vfmaq_f32({acc}, {a}, {b})"

    def max(self, a: str, b: str) -> str:
        return f"({a} > {b} ? {a} : {b})" if self.name == "scalar" else f"vmaxq_f32({a}, {b})"

    def min(self, a: str, b: str) -> str:
        return f"({a} < {b} ? {a} : {b})" if self.name == "scalar" else f"vminq_f32({a}, {b})"

    def store(self, ptr: str, value: str) -> str:
        return f"*({ptr}) = {value};" if self.name == "scalar" else f"vst1q_f32({ptr}, {value});"


ISAS: dict[str, Isa] = {
    "scalar": Isa("scalar", 1, 16, "float", (), max_stride=1 << 30),
    "neon": Isa("neon", 4, 32, "float32x4_t", ("patdnn_neon.h",), max_stride=2),
}


def get_isa(name: str) -> Isa:
    try:
        return ISAS[name]
    except KeyError:
        raise ValueError(f"unknown isa '{name}', expected one of: {', '.join(ISAS)}") from None
