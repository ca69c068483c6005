"""What the compiler generates code for: one typed `Target` with one string form.

A target says which code is printed (C with an ISA's intrinsics, or OpenCL), where it is built and
run (`host`, or `aarch64`: the cross compiler and qemu), how many threads the model is balanced
for, the arithmetic precision and, for OpenCL, the default device. Every entry point takes the same
string: `patdnn.compile(target=...)`, `patdnnc --target ...`, `patdnn-opt -t ...`:

    auto                        C for the fastest ISA this host runs (avx512, else avx2, else neon)
    neon | avx2 | avx512 | scalar   C with that ISA's intrinsics (neon on x86 compiles through SIMDe)
    neon{platform=aarch64}      NEON C built by the aarch64 cross compiler, run under qemu
    avx512{threads=2}           balanced for two threads
    c{isa=neon}                 the long form of `neon` (what `str(target)` never needs)
    opencl{precision=fp16 device=nvidia}   host C + OpenCL kernels, fp16 where the device has it
    neon{platform=aarch64 precision=fp16}  pattern convolutions in ARMv8.2 fp16 (docs/targets.md)

Options use the `name{key=value ...}` syntax of xDSL pass options. `str(Target)` gives the
canonical, shortest spelling and `Target.parse(str(t)) == t`. `auto` is resolved when parsed, so a
Target always names a concrete ISA. Old spellings (`host`, `aarch64` as a target, `isa="opencl"`)
are answered with a one-line `TargetError` naming the new one.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import ClassVar

from xdsl.utils.arg_spec import ArgSpec, ArgSpecParseError, parse_spec

from patdnn.isa import HALF_ISAS, ISAS
from patdnn.toolchain import best_host_isa

CODES = ("c", "opencl")
PLATFORMS = ("host", "aarch64")
PRECISIONS = ("fp32", "fp16")
AARCH64_ISAS = ("neon", "scalar")  # what the cross build has intrinsics for


class TargetError(ValueError):
    """A target string or combination that patdnn cannot build (one line, says what to write)."""


_OLD_SPELLINGS = {
    "host": "a C target names its ISA: 'auto', 'neon', 'avx2', 'avx512' or 'scalar' (host is the default platform)",
    "aarch64": "write 'neon{platform=aarch64}' (the platform is an option of the C target)",
}


@dataclass(frozen=True)
class Target:
    """A code kind, ISA, platform, thread count, precision and device (see the module docstring)."""

    code: str = "c"
    isa: str = "neon"  # C: scalar, neon, avx2 or avx512; "" for OpenCL
    platform: str = "host"
    threads: int = 1
    precision: str = "fp32"
    device: str = ""  # OpenCL device selector compiled into the model ($PATDNN_OPENCL_DEVICE overrides)

    OPTIONS: ClassVar[tuple[str, ...]] = ("isa", "platform", "threads", "precision", "device")

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise TargetError(f"unknown code kind '{self.code}', expected one of: {', '.join(CODES)}")
        if self.code == "opencl":
            if self.isa:
                raise TargetError(f"an OpenCL target has no ISA (got isa={self.isa}); write 'opencl'")
            if self.platform != "host":
                raise TargetError("OpenCL models are built for the host (platform=host)")
        else:
            if self.isa not in ISAS:
                raise TargetError(f"unknown isa '{self.isa}', expected one of: auto, {', '.join(ISAS)}")
            if self.device:
                raise TargetError("device= selects an OpenCL device; it does not apply to C targets")
            if self.precision == "fp16" and self.isa != "neon":
                raise TargetError(
                    f"precision=fp16 needs isa=neon (ARMv8.2 FP16 arithmetic) or the opencl target; isa={self.isa} computes in fp32"
                )
            if self.precision == "fp16" and self.platform != "aarch64":
                raise TargetError(
                    "precision=fp16 on the neon target needs platform=aarch64 (the host's NEON is SIMDe, "
                    "which lacks the fp16 arithmetic intrinsics); write neon{platform=aarch64 precision=fp16}"
                )
        if self.platform not in PLATFORMS:
            raise TargetError(f"unknown platform '{self.platform}', expected one of: {', '.join(PLATFORMS)}")
        if self.platform == "aarch64" and self.isa not in AARCH64_ISAS:
            raise TargetError(f"isa={self.isa} does not run on aarch64; use neon or scalar there")
        if not isinstance(self.threads, int) or self.threads < 1:
            raise TargetError(f"threads must be a whole number >= 1, got {self.threads!r}")
        if self.precision not in PRECISIONS:
            raise TargetError(f"unknown precision '{self.precision}', expected one of: {', '.join(PRECISIONS)}")

    # -- the string form -------------------------------------------------------------------
    @classmethod
    def parse(cls, text: str) -> Target:
        """The target a string names (see the module docstring); raises TargetError."""
        try:
            spec = parse_spec(text.strip())
        except ArgSpecParseError as e:  # a BaseException in xDSL: turn it into a one-line user error
            lines = [line.strip() for line in str(e).splitlines() if line.strip()]
            where = next((line.rsplit(":", 1)[1] for line in lines if line.startswith("pass-pipeline:")), "?")
            raise TargetError(f"malformed target '{text}' at column {where}: {lines[-1]}") from None
        return cls.from_arg_spec(spec)

    @classmethod
    def from_arg_spec(cls, spec: ArgSpec) -> Target:
        """The target of an already parsed `name{key=value ...}` (patdnn-opt's -t hands us one)."""
        head, options = spec.name, {}
        for key, values in spec.normalize_parameter_names().parameters.items():
            if key not in cls.OPTIONS:
                raise TargetError(f"unknown target option '{key}' in '{spec}', expected: {', '.join(cls.OPTIONS)}")
            if len(values) != 1:
                raise TargetError(f"target option '{key}' takes one value, got {len(values)}")
            options[key] = values[0]
        if head in _OLD_SPELLINGS:
            raise TargetError(f"target '{head}' is an old spelling: {_OLD_SPELLINGS[head]}")
        if head == "opencl":
            if "isa" in options:
                raise TargetError(f"'opencl' is not a C target: drop isa={options['isa']}")
            return cls(code="opencl", isa="", **_typed(options))
        if head in ISAS or head == "auto":
            if "isa" in options:
                raise TargetError(f"'{head}' already names the ISA; drop isa={options['isa']}")
            options["isa"] = head
        elif head != "c":
            raise TargetError(f"unknown target '{head}', expected: auto, {', '.join(ISAS)}, c{{isa=...}} or opencl")
        options = _typed(options)
        if options.get("isa", "neon") == "auto":
            options["isa"] = auto_isa(options.get("platform", "host"))
        return cls(code="c", **options)

    def __str__(self) -> str:
        head = "opencl" if self.code == "opencl" else self.isa
        defaults = Target(code=self.code, isa=self.isa)
        options = [
            f"{f.name}={_quoted(getattr(self, f.name))}"
            for f in fields(self)
            if f.name in ("platform", "threads", "precision", "device")
            and getattr(self, f.name) != getattr(defaults, f.name)
        ]
        return head + ("{" + " ".join(options) + "}" if options else "")

    # -- derived facts ---------------------------------------------------------------------
    @property
    def is_opencl(self) -> bool:
        return self.code == "opencl"

    @property
    def pattern_isa(self) -> str:
        """The ISA the pattern convolutions are tiled and printed for: `neon_fp16` under
        precision=fp16 (patdnn.isa.HALF_ISAS), else the target's ISA."""
        return HALF_ISAS[self.isa].name if self.precision == "fp16" and not self.is_opencl else self.isa

    @property
    def build_flavour(self) -> str:
        """What the toolchain compiles the generated C as: the ISA, or "opencl" (host C + -lOpenCL)."""
        return "opencl" if self.is_opencl else self.isa

    def with_threads(self, threads: int | None) -> Target:
        return self if threads is None or threads == self.threads else replace(self, threads=threads)


def auto_isa(platform: str = "host") -> str:
    """The fastest ISA of `platform`: the host's widest x86 vector ISA (neon through SIMDe on
    other hosts); neon on aarch64."""
    return best_host_isa() if platform == "host" else "neon"


def as_target(target: Target | str) -> Target:
    """A Target from a Target or its string form."""
    return target if isinstance(target, Target) else Target.parse(target)


def _typed(options: dict[str, object]) -> dict[str, object]:
    """Option values as the dataclass fields want them (the spec parser yields ints, bools, strings)."""
    typed = {key: str(value) for key, value in options.items() if key != "threads"}
    if "threads" in options:
        threads = options["threads"]
        if isinstance(threads, bool) or not isinstance(threads, int):
            raise TargetError(f"threads must be a whole number >= 1, got '{threads}'")
        typed["threads"] = threads
    return typed


def _quoted(value: object) -> str:
    text = str(value)
    return text if text.replace("_", "").replace("-", "").isalnum() else f'"{text}"'
