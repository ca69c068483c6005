"""A compiled model as an executable (the generic runner, runtime/runner_main.c): on the host, or a
static aarch64 binary run under qemu (correctness only: ~100x slower than native)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from patdnn.runners.inputs import model_input, model_output
from patdnn.toolchain import run_executable


class RunError(RuntimeError):
    """The compiled model reported an error (e.g. a corrupted weights blob)."""


@dataclass(frozen=True)
class BuiltModel:
    executable: Path
    platform: str  # "host" or "aarch64" (run under qemu)
    weights_dir: Path
    input_shapes: list[tuple[int, ...]]
    output_shapes: list[tuple[int, ...]]

    def run(self, *inputs: np.ndarray, threads: int = 1) -> list[np.ndarray]:
        """Feeds numpy arrays through raw f32 files and returns the outputs."""
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
            result = run_executable(self.executable, args, target=self.platform)
            if result.returncode != 0:
                raise RunError((result.stderr or result.stdout).strip())
            return [np.fromfile(p, dtype=np.float32).reshape(s) for p, s in zip(outs, self.output_shapes)]


class QemuModel:
    """A BuiltModel called like a torch module (`patdnn.compile`'s aarch64 result)."""

    def __init__(self, built: BuiltModel, threads: int = 1):
        self.built, self.threads = built, threads

    def __call__(self, x):
        """As HostModel's: torch in, torch out; numpy in, numpy out (patdnn.runners.inputs)."""
        array, is_torch = model_input(x, self.built.input_shapes[0])
        (y,) = self.built.run(array, threads=self.threads)
        return model_output(y, is_torch)
