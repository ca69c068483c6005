"""Module → code → something to run: the build steps every entry point shares.

`emit_source` lowers a module with the target's pipeline (patdnn/pipeline.py) and prints its C (or
host C + OpenCL); `build_module` links it with the C runtime and the generic runner into an
executable (host, or aarch64 for qemu); `build_host_library` makes the shared library that
`patdnn.runners.HostModel` / `OpenCLModel` load.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass

from patdnn.backend.signature import entry_signature
from patdnn.pipeline import default_pipeline, run_pipeline
from patdnn.runners.executable import BuiltModel
from patdnn.runtime import RUNTIME_DIR
from patdnn.target import Target, as_target
from patdnn.toolchain import build_executable, build_shared_library, runtime_archive

Pipeline = Sequence[ModulePass] | str


def print_code(module: ModuleOp, target: Target) -> str:
    """The C (or, for OpenCL, host C with the kernels embedded) of an already lowered module."""
    if target.is_opencl:
        from patdnn.backend.opencl import emit_opencl

        return emit_opencl(module, device=target.device, precision=target.precision)
    from patdnn.backend.c import emit_c

    return emit_c(module, target.isa, precision=target.precision)


def emit_source(
    module: ModuleOp, outdir: Path, target: Target | str, pipeline: Pipeline | None = None, name: str = "model"
) -> Path:
    """Lowers `module` in place with `pipeline` (default: `default_pipeline(target)`) and writes its
    code to `outdir/name.c`."""
    target = as_target(target)
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    run_pipeline(module, default_pipeline(target) if pipeline is None else pipeline)
    source = outdir / f"{name}.c"
    source.write_text(print_code(module, target))
    return source


def build_runner(source: Path, output: Path, target: Target | str) -> Path:
    """Links generated C with the runtime and its command-line runner (`output --help`)."""
    target = as_target(target)
    archive = runtime_archive(target.platform, target.build_flavour)
    return build_executable(
        [source, RUNTIME_DIR / "runner_main.c", archive], output, target.platform, target.build_flavour
    )


def build_module(
    module: ModuleOp,
    outdir: Path,
    target: Target | str = "neon",
    pipeline: Pipeline | None = None,
    weights_dir: Path | None = None,
    name: str = "model",
) -> BuiltModel:
    """Lowers `module` (in place), writes `outdir/name.c` and builds the runner `outdir/name`."""
    target = as_target(target)
    outdir = Path(outdir)
    source = emit_source(module, outdir, target, pipeline, name)
    signature = entry_signature(module)
    return BuiltModel(
        build_runner(source, outdir / name, target),
        target.platform,
        Path(weights_dir) if weights_dir is not None else outdir,
        [signature.shape(a) for a in signature.inputs],
        [signature.shape(a) for a in signature.outputs],
    )


def build_host_library(module: ModuleOp, outdir: Path, target: Target | str, pipeline: Pipeline | None = None) -> Path:
    """Lowers `module` and builds `outdir/libmodel.so` (generated code + the whole runtime)."""
    target = as_target(target)
    if target.platform != "host":
        raise ValueError(f"a shared library is loaded into this process: target {target} does not run here")
    source = emit_source(module, outdir, target, pipeline)
    # The whole runtime goes in: Python calls pdnn_ctx_create & co., which the model never references.
    archive = runtime_archive("host", target.build_flavour, pic=True)
    whole = ["-Wl,--whole-archive", archive, "-Wl,--no-whole-archive"]
    return build_shared_library([source, *whole], outdir / "libmodel.so", isa=target.build_flavour)
