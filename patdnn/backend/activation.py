"""The fused activation (`#pattern<activation …>`) as the code printers spell it.

Every kind is one runtime kind (runtime/patdnn_ops.h `PDNN_ACT_*`, the same numbers in
runtime/opencl_kernels.cl) plus two f32 parameters: leaky_relu's slope; hardtanh's bounds, which
a one-bound clamp (clamp_min / clamp_max) fills with ±infinity. Parameterless kinds pass their
kind number as the `int act` of a runtime call; parametrised ones a code of the kind and its
values (C: `pdnn_act_code(…)`, interned by the runtime; OpenCL: an index into the program's
`PDNN_ACT_TABLE`).
"""

from __future__ import annotations

import math

from patdnn.dialects.common import Activation, ActivationAttr

RUNTIME_KIND = {
    Activation.NONE: 0,
    Activation.RELU: 1,
    Activation.RELU6: 2,
    Activation.SIGMOID: 3,
    Activation.TANH: 4,
    Activation.SILU: 5,
    Activation.HARDSWISH: 6,
    Activation.HARDSIGMOID: 7,
    Activation.GELU: 8,
    Activation.GELU_TANH: 9,
    Activation.LEAKY_RELU: 10,
    Activation.HARDTANH: 11,
    Activation.CLAMP_MIN: 11,
    Activation.CLAMP_MAX: 11,
}
C_NAME = {a: f"PDNN_ACT_{a.name}" for a in Activation if a not in (Activation.CLAMP_MIN, Activation.CLAMP_MAX)}
PARAM_BASE = 64  # PDNN_ACT_PARAM_BASE


def as_attr(act: ActivationAttr | Activation) -> ActivationAttr:
    return act if isinstance(act, ActivationAttr) else ActivationAttr(act)


def runtime_params(act: ActivationAttr) -> tuple[float, float]:
    """The runtime's two parameters of a parametrised kind (slope, or lower and upper bound)."""
    kind, p = act.data, act.params
    if kind == Activation.LEAKY_RELU:
        return p[0], 0.0
    if kind == Activation.CLAMP_MIN:
        return p[0], math.inf
    if kind == Activation.CLAMP_MAX:
        return -math.inf, p[0]
    return p[0], p[1]


def c_float(value: float) -> str:
    """An f32 literal of C and OpenCL C (infinities as INFINITY)."""
    if math.isinf(value):
        return "INFINITY" if value > 0 else "-INFINITY"
    return f"{value!r}f" if "e" in repr(value) or "." in repr(value) else f"{value!r}.0f"


def c_act(act: ActivationAttr | Activation) -> str:
    """The `int act` argument of a C runtime call."""
    act = as_attr(act)
    if not act.params:
        return C_NAME[act.data]
    a, b = runtime_params(act)
    return f"pdnn_act_code({RUNTIME_KIND[act.data]}, {c_float(a)}, {c_float(b)})"


def c_scalar(act: ActivationAttr, x: str) -> str | None:
    """`x` with a piecewise-linear activation applied, as one scalar C / OpenCL C expression
    (None for the transcendental kinds). NaN stays NaN: a comparison with NaN is false."""
    kind = act.data
    if kind == Activation.RELU:
        return f"({x} < 0.0f ? 0.0f : {x})"
    if kind == Activation.RELU6:
        return f"({x} < 0.0f ? 0.0f : ({x} > 6.0f ? 6.0f : {x}))"
    if kind == Activation.LEAKY_RELU:
        return f"({x} > 0.0f ? {x} : {x} * {c_float(act.params[0])})"
    if kind in (Activation.HARDTANH, Activation.CLAMP_MIN, Activation.CLAMP_MAX):
        lo, hi = (c_float(v) for v in runtime_params(act))
        below = f"({x} < {lo} ? {lo} : {x})" if kind != Activation.CLAMP_MAX else x
        return f"({below} > {hi} ? {hi} : {below})" if kind != Activation.CLAMP_MIN else below
    return None


def opencl_table(acts: list[ActivationAttr]) -> str:
    """The `#define PDNN_ACT_TABLE …` line of an OpenCL program: (kind, a, b) per parametrised
    activation, in the order of `opencl_code`'s indices."""
    values = [f"{RUNTIME_KIND[a.data]}.0f, {c_float(p)}, {c_float(q)}" for a in acts for p, q in [runtime_params(a)]]
    return f"#define PDNN_ACT_TABLE {', '.join(values)}" if values else ""


def opencl_code(act: ActivationAttr | Activation, table: list[ActivationAttr]) -> int:
    """The `int act` argument of an OpenCL runtime kernel; a parametrised kind is added to
    `table` (the program's PDNN_ACT_TABLE) once."""
    act = as_attr(act)
    if not act.params:
        return RUNTIME_KIND[act.data]
    if act not in table:
        table.append(act)
    return PARAM_BASE + table.index(act)
