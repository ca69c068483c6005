"""Compile generated C together with the patdnn runtime, and run the result.

Two targets:

* ``host``: the local C compiler (``$CC``, default ``gcc``). NEON code compiles through SIMDe with
  ``-march=x86-64-v3`` (FMA on, so results match real aarch64 bit for bit).
* ``aarch64``: ``aarch64-linux-gnu-gcc -static -mcpu=cortex-a76``; the binaries run under
  ``qemu-aarch64 -cpu cortex-a76`` (called explicitly: binfmt is not mounted here).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path

from patdnn.runtime import RUNTIME_DIR

__all__ = [
    "RUNTIME_DIR",
    "ToolchainError",
    "runtime_sources",
    "build_executable",
    "build_shared_library",
    "run_executable",
    "have_toolchain",
    "toolchain_problem",
]

TARGETS = ("host", "aarch64")
SIMDE_NEON_HEADER = Path("/usr/include/simde/arm/neon.h")
AARCH64_CC = "aarch64-linux-gnu-gcc"
QEMU_AARCH64 = "qemu-aarch64"
AARCH64_CPU = "cortex-a76"

# -ffp-contract=off: only explicit FMA intrinsics fuse, so every target rounds the same way.
_COMMON_FLAGS = ["-O3", "-std=gnu11", "-ffp-contract=off", "-pthread"]
_LINK_LIBS = ["-lpthread", "-lm"]
# Never -march=native: AVX-512 breaks valgrind 3.19, and the numbers must not depend on the host.
_HOST_ISA_FLAGS = {
    "neon": ["-march=x86-64-v3"],
    "avx2": ["-march=x86-64-v3"],
    "avx512": ["-march=x86-64-v4"],
    "scalar": [],
}
_AARCH64_ISAS = ("neon", "scalar")
# OpenCL models: plain host C plus runtime/opencl.c, which compiles to nothing without PDNN_OPENCL.
_HOST_ISA_FLAGS["opencl"] = ["-DPDNN_OPENCL"]
_ISA_LIBS = {"opencl": ["-lOpenCL"]}
OPENCL_HEADER = Path("/usr/include/CL/cl.h")


class ToolchainError(RuntimeError):
    """A compiler, emulator or header is missing, or the compiler rejected the code."""


def runtime_sources() -> list[Path]:
    """The runtime's C files to link into every model (the runner's ``main`` excluded)."""
    return sorted(p for p in RUNTIME_DIR.glob("*.c") if p.name != "runner_main.c")


def _host_cc() -> list[str]:
    return shlex.split(os.environ.get("CC", "")) or ["gcc"]


def _require(program: str, package: str) -> str:
    path = shutil.which(program)
    if path is None:
        raise ToolchainError(
            f"'{program}' was not found on PATH; install it with `apt-get install {package}` (Debian package {package})"
        )
    return path


def _compiler_and_flags(target: str, isa: str) -> list[str]:
    """The compiler command line up to (not including) the sources, after checking it exists."""
    if target == "host":
        if isa not in _HOST_ISA_FLAGS:
            raise ValueError(f"unknown isa {isa!r} for target 'host'; expected one of {sorted(_HOST_ISA_FLAGS)}")
        cc = _host_cc()
        _require(cc[0], "gcc")
        if isa == "opencl" and not OPENCL_HEADER.is_file():
            raise ToolchainError(
                f"OpenCL models need the OpenCL headers and loader ({OPENCL_HEADER} is missing); install them with "
                "`apt-get install opencl-headers ocl-icd-opencl-dev` (and a driver, e.g. pocl-opencl-icd)"
            )
        if isa == "neon" and not SIMDE_NEON_HEADER.is_file():
            raise ToolchainError(
                f"NEON on x86 needs SIMDe ({SIMDE_NEON_HEADER} is missing); "
                "install it with `apt-get install libsimde-dev` (Debian package libsimde-dev)"
            )
        return [*cc, *_COMMON_FLAGS, *_HOST_ISA_FLAGS[isa]]
    if target == "aarch64":
        if isa not in _AARCH64_ISAS:
            raise ValueError(f"isa {isa!r} does not run on aarch64; expected one of {list(_AARCH64_ISAS)}")
        cc = _require(AARCH64_CC, "gcc-aarch64-linux-gnu")
        return [cc, *_COMMON_FLAGS, f"-mcpu={AARCH64_CPU}", "-static"]
    raise ValueError(f"unknown target {target!r}; expected one of {list(TARGETS)}")


def _compile(
    cmd_prefix: list[str], sources: Iterable[Path], output: Path, extra_flags: Sequence[str], link_flags: Sequence[str]
) -> Path:
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    srcs = [str(Path(s)) for s in sources]
    if not srcs:
        raise ValueError("no C sources to compile")
    # Libraries go last: with static linking the order matters.
    cmd = [*cmd_prefix, f"-I{RUNTIME_DIR}", *extra_flags, *srcs, "-o", str(output), *link_flags, *_LINK_LIBS]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise ToolchainError(f"compilation failed (exit {proc.returncode}): {shlex.join(cmd)}\n{proc.stderr.strip()}")
    return output


def build_executable(
    sources: list[Path], output: Path, target: str = "host", isa: str = "neon", extra_flags: Sequence[str] = ()
) -> Path:
    """Compile and link ``sources`` into an executable for ``target``; returns ``output``.

    The runtime is not added implicitly: pass ``runtime_sources()`` (and
    ``RUNTIME_DIR / "runner_main.c"`` for the command-line runner) along with the model.
    """
    return _compile(_compiler_and_flags(target, isa), sources, output, extra_flags, _ISA_LIBS.get(isa, ()))


def build_shared_library(sources: list[Path], output: Path, isa: str = "neon", extra_flags: Sequence[str] = ()) -> Path:
    """Compile ``sources`` into a host shared library (for ctypes); returns ``output``."""
    return _compile(
        _compiler_and_flags("host", isa), sources, output, ["-fPIC", *extra_flags], ["-shared", *_ISA_LIBS.get(isa, ())]
    )


def build_static_library(
    sources: list[Path], output: Path, target: str = "host", isa: str = "neon", extra_flags: Sequence[str] = ()
) -> Path:
    """Compile ``sources`` to objects and archive them into ``output`` (``libX.a``); the objects
    are compiled in a temporary folder, so only ``output`` is left beside it."""
    import tempfile

    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    ar = "aarch64-linux-gnu-ar" if target == "aarch64" else "ar"
    with tempfile.TemporaryDirectory(prefix="patdnn-objects-") as tmp:
        objects = []
        for source in sources:
            obj = Path(tmp) / f"{len(objects)}-{Path(source).stem}.o"  # numbered: two sources may share a stem
            _compile(_compiler_and_flags(target, isa), [source], obj, ["-c", *extra_flags], ())
            objects.append(str(obj))
        output.unlink(missing_ok=True)  # `ar rcs` adds to an existing archive: start afresh
        proc = subprocess.run([_require(ar, "binutils"), "rcs", str(output), *objects], capture_output=True, text=True)
    if proc.returncode != 0:
        raise ToolchainError(f"ar failed: {proc.stderr.strip()}")
    return output


def run_executable(
    exe: Path, args: Sequence[str], target: str = "host", timeout: float | None = None
) -> subprocess.CompletedProcess:
    """Run ``exe args`` (under qemu for aarch64) capturing text stdout/stderr.

    A non-zero exit is returned, not raised: the caller decides what failure means.
    """
    exe_path = str(Path(exe).resolve())
    if target == "host":
        cmd = [exe_path]
    elif target == "aarch64":
        qemu = _require(QEMU_AARCH64, "qemu-user")
        cmd = [qemu, "-cpu", AARCH64_CPU, exe_path]
    else:
        raise ValueError(f"unknown target {target!r}; expected one of {list(TARGETS)}")
    return subprocess.run([*cmd, *map(str, args)], capture_output=True, text=True, timeout=timeout)


def toolchain_problem(target: str, isa: str = "neon") -> str | None:
    """Why ``target``/``isa`` cannot be built (or, for aarch64, run under qemu) here; None if it can."""
    try:
        _compiler_and_flags(target, isa)
        if target == "aarch64":
            _require(QEMU_AARCH64, "qemu-user")
    except (ToolchainError, ValueError) as e:
        return str(e)
    return None


def have_toolchain(target: str, isa: str = "neon") -> bool:
    """Whether ``target`` can be built (and, for aarch64, run) here; for test skipping."""
    return toolchain_problem(target, isa) is None


# /proc/cpuinfo flags an x86 ISA needs at run time (GCC's x86-64-v3 / -v4 levels, as used above).
_CPU_FLAGS = {"avx2": ("avx2", "fma"), "avx512": ("avx512f", "avx512bw", "avx512dq", "avx512vl")}


def host_cpu_problem(isa: str) -> str | None:
    """Why code built for ``isa`` cannot run on this CPU (e.g. no AVX-512); None if it can."""
    needed = _CPU_FLAGS.get(isa)
    if not needed:
        return None
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return f"cannot read /proc/cpuinfo to check this CPU for {isa}"
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), [])
    missing = [f for f in needed if f not in flags]
    return f"this CPU lacks {', '.join(missing)} (needed by isa={isa})" if missing else None


def best_host_isa() -> str:
    """The fastest C target this host runs natively: avx512, else avx2, else neon (SIMDe)."""
    return next((isa for isa in ("avx512", "avx2") if host_cpu_problem(isa) is None), "neon")


def runtime_archive(target: str = "host", isa: str = "neon", pic: bool = False) -> Path:
    """The runtime compiled once into a static archive, cached per (sources, compiler, flags):
    linking a model then compiles only its own C. Cache folder: $PATDNN_CACHE or ~/.cache/patdnn."""
    import hashlib

    flags = [*_compiler_and_flags(target, isa), *(["-fPIC"] if pic else [])]
    digest = hashlib.sha256(" ".join(flags).encode())
    for source in sorted(RUNTIME_DIR.glob("*")):
        if source.suffix in (".c", ".h"):
            digest.update(source.name.encode() + source.read_bytes())
    cache = Path(os.environ.get("PATDNN_CACHE") or Path.home() / ".cache" / "patdnn") / "runtime"
    archive = cache / f"{target}-{isa}-{digest.hexdigest()[:16]}" / "libpatdnn_runtime.a"
    if not archive.is_file():
        # Built aside and renamed into place: concurrent builds (pytest -n, two compiles) never
        # see a half-written archive.
        staging = archive.parent.with_name(archive.parent.name + f".tmp{os.getpid()}")
        build_static_library(runtime_sources(), staging / archive.name, target, isa, ["-fPIC"] if pic else [])
        try:
            staging.replace(archive.parent)
        except OSError:  # another process won the race
            shutil.rmtree(staging, ignore_errors=True)
    return archive
