"""Module → C → executable, and running it: the Python side of the main job.

`build_module` lowers a pattern-dialect module, prints C for an ISA, and links it with the C
runtime and the generic runner into an executable (host, or aarch64 run under qemu).
`BuiltModel.run` feeds numpy arrays through raw f32 files and returns the outputs.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from xdsl.dialects.builtin import ModuleOp

from patdnn.backend.c_target import emit_c
from patdnn.backend.signature import EntrySignature, entry_signature
from patdnn.context import default_pipeline, run_pipeline
from patdnn.runtime import RUNTIME_DIR
from patdnn.toolchain import build_executable, run_executable, runtime_archive


class RunError(RuntimeError):
    """The compiled model reported an error (e.g. a corrupted weights blob)."""


@dataclass(frozen=True)
class BuiltModel:
    executable: Path
    target: str  # "host" or "aarch64"
    weights_dir: Path
    input_shapes: list[tuple[int, ...]]
    output_shapes: list[tuple[int, ...]]

    def run(self, *inputs: np.ndarray, threads: int = 1) -> list[np.ndarray]:
        if len(inputs) != len(self.input_shapes):
            raise ValueError(f"expected {len(self.input_shapes)} inputs, got {len(inputs)}")
        with tempfile.TemporaryDirectory(prefix="patdnn-run-") as tmp:
            files = []
            for i, (array, shape) in enumerate(zip(inputs, self.input_shapes)):
                if tuple(array.shape) != shape:
                    raise ValueError(f"input {i} has shape {tuple(array.shape)}, expected {shape}")
                path = Path(tmp, f"in{i}.bin")
                np.ascontiguousarray(array, dtype=np.float32).tofile(path)
                files.append(str(path))
            outs = [str(Path(tmp, f"out{i}.bin")) for i in range(len(self.output_shapes))]
            args = ["--weights-dir", str(self.weights_dir), "--threads", str(threads), *files, *outs]
            result = run_executable(self.executable, args, target=self.target)
            if result.returncode != 0:
                raise RunError((result.stderr or result.stdout).strip())
            return [np.fromfile(p, dtype=np.float32).reshape(s) for p, s in zip(outs, self.output_shapes)]


def emit_source(
    module: ModuleOp, outdir: Path, isa: str, pipeline: str | None = None, name: str = "model"
) -> Path:
    """Lowers `module` in place with `pipeline` (default: `default_pipeline(isa)`) and writes its C
    to `outdir/name.c`."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    if pipeline is None and isa == "opencl":  # no CPU tile-tune: work-item tiles are the OpenCL target's
        from patdnn.backend.opencl_target import OPENCL_PIPELINE

        pipeline = OPENCL_PIPELINE
    run_pipeline(module, default_pipeline(isa) if pipeline is None else pipeline)
    source = outdir / f"{name}.c"
    if isa == "opencl":  # host C with the OpenCL kernels embedded (patdnn.backend.opencl_host)
        from patdnn.backend.opencl_target import emit_opencl

        source.write_text(emit_opencl(module))
    else:
        source.write_text(emit_c(module, isa))
    return source


def build_runner(source: Path, output: Path, target: str, isa: str) -> Path:
    """Links generated C with the runtime and its command-line runner (`output --help`)."""
    return build_executable([source, RUNTIME_DIR / "runner_main.c", runtime_archive(target, isa)], output, target, isa)


def build_module(
    module: ModuleOp,
    outdir: Path,
    isa: str = "neon",
    target: str = "host",
    pipeline: str | None = None,
    weights_dir: Path | None = None,
    name: str = "model",
) -> BuiltModel:
    """Lowers `module` (in place), writes `outdir/name.c` and builds `outdir/name`."""
    outdir = Path(outdir)
    source = emit_source(module, outdir, isa, pipeline, name)
    signature: EntrySignature = entry_signature(module)
    return BuiltModel(
        build_runner(source, outdir / name, target, isa),
        target,
        Path(weights_dir) if weights_dir is not None else outdir,
        [signature.shape(a) for a in signature.inputs],
        [signature.shape(a) for a in signature.outputs],
    )
