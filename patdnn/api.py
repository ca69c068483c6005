"""The Python API: `patdnn.compile(module, example_input)` → a callable compiled model.

On the host the generated C is built as a shared library and called through ctypes (no process
per call); for `target="aarch64"` the model is a static executable run under qemu. Calls are
serialised by a lock: the generated code keeps one activation arena per model.
"""

from __future__ import annotations

import ctypes
import tempfile
import threading
from pathlib import Path

import numpy as np
import torch
from xdsl.dialects.builtin import ModuleOp

from patdnn.backend.signature import entry_signature
from patdnn.build import BuiltModel, RunError, build_module, emit_source
from patdnn.context import default_pipeline
from patdnn.frontend import import_module
from patdnn.schemes.plan import load_plan
from patdnn.toolchain import build_shared_library, runtime_archive


class _ModelDesc(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("num_inputs", ctypes.c_int),
        ("num_outputs", ctypes.c_int),
        ("input_sizes", ctypes.POINTER(ctypes.c_int64)),
        ("output_sizes", ctypes.POINTER(ctypes.c_int64)),
        ("init", ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p)),
        ("run", ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)),
    ]


class HostModel:
    """A compiled model loaded into this process (ctypes onto the generated shared library)."""

    def __init__(self, library: Path, weights_dir: Path, input_shape, output_shape, threads: int = 1):
        self.library_path = Path(library)
        self.input_shape, self.output_shape = tuple(input_shape), tuple(output_shape)
        self._lib = ctypes.CDLL(str(self.library_path))
        self._lib.pdnn_ctx_create.restype = ctypes.c_void_p
        self._lib.pdnn_ctx_create.argtypes = [ctypes.c_int, ctypes.c_char_p]
        self._lib.pdnn_ctx_error.restype = ctypes.c_char_p
        self._lib.pdnn_ctx_error.argtypes = [ctypes.c_void_p]
        self._lib.pdnn_ctx_destroy.argtypes = [ctypes.c_void_p]
        self._desc = _ModelDesc.in_dll(self._lib, "patdnn_model")
        self._ctx = self._lib.pdnn_ctx_create(threads, str(weights_dir).encode())
        if not self._ctx:
            raise MemoryError("patdnn: cannot create a runtime context")
        if self._desc.init(self._ctx) != 0:
            message = self._lib.pdnn_ctx_error(self._ctx).decode()
            self._lib.pdnn_ctx_destroy(self._ctx)
            self._ctx = None
            raise RunError(message)
        self._lock = threading.Lock()

    def run(self, x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.float32)
        if x.shape != self.input_shape:
            raise ValueError(f"input has shape {x.shape}, the model was compiled for {self.input_shape}")
        y = np.empty(self.output_shape, dtype=np.float32)
        ins = (ctypes.c_void_p * 1)(x.ctypes.data)
        outs = (ctypes.c_void_p * 1)(y.ctypes.data)
        with self._lock:
            self._desc.run(self._ctx, ctypes.cast(ins, ctypes.c_void_p), ctypes.cast(outs, ctypes.c_void_p))
        return y

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(self.run(x.detach().cpu().numpy()))

    def __del__(self):
        if getattr(self, "_ctx", None):
            self._lib.pdnn_ctx_destroy(self._ctx)
            self._ctx = None


class QemuModel:
    """A compiled aarch64 model run under qemu (correctness only: ~100x slower than native)."""

    def __init__(self, built: BuiltModel, threads: int = 1):
        self.built, self.threads = built, threads

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        (y,) = self.built.run(x.detach().cpu().numpy(), threads=self.threads)
        return torch.from_numpy(y)


def build_host_library(module: ModuleOp, outdir: Path, isa: str, pipeline: str | None = None) -> Path:
    """Lowers `module` and builds `outdir/libmodel.so` (generated C + runtime)."""
    source = emit_source(module, outdir, isa, pipeline)
    # The whole runtime goes in: Python calls pdnn_ctx_create & co., which the model never references.
    whole = ["-Wl,--whole-archive", runtime_archive("host", isa, pic=True), "-Wl,--no-whole-archive"]
    return build_shared_library([source, *whole], outdir / "libmodel.so", isa=isa)


def compile(  # noqa: A001 - the public name users expect
    module: torch.nn.Module,
    example_input: torch.Tensor,
    target: str = "host",
    isa: str = "neon",
    threads: int = 1,
    outdir: Path | None = None,
    patterns: dict | None = None,
    device: str | None = None,
    precision: str | None = None,
    schemes: dict | str | Path | None = None,
) -> HostModel | QemuModel:
    """Compiles an (eval-mode, pattern-pruned) torch module for `example_input`'s shape.

    target: "host" (ctypes, fast), "aarch64" (static binary under qemu) or "opencl" (the whole
    model on an OpenCL device; `device` selects it, `precision` is "fp32" or "fp16", see README).
    isa: "neon" (SIMDe on x86 hosts) or "scalar". `patterns` optionally gives the pruner's (library, ids) per conv name.
    `schemes` is a pruning plan, {layer name: Scheme} or a plan file (.json, or .lr with `prune`
    lines): block schemes compile to block-sparse kernels, see patdnn.frontend.to_ir.
    The returned model is called like the module: `model(x) -> torch.Tensor`.
    """
    outdir = Path(outdir) if outdir is not None else Path(tempfile.mkdtemp(prefix="patdnn-"))
    if isinstance(schemes, (str, Path)):
        schemes = load_plan(Path(schemes))
    ir = import_module(module, example_input, weights_path=outdir / "model.weights", patterns=patterns,
                       schemes=schemes)
    signature = entry_signature(ir)
    in_shape, out_shape = signature.shape(signature.inputs[0]), signature.shape(signature.outputs[0])
    if target == "host":
        library = build_host_library(ir, outdir, isa, default_pipeline(isa, threads))
        return HostModel(library, outdir, in_shape, out_shape, threads)
    if target == "aarch64":
        return QemuModel(build_module(ir, outdir, isa=isa, target="aarch64"), threads)
    if target == "opencl":
        from patdnn.backend.opencl_model import OpenCLModel

        library = build_host_library(ir, outdir, "opencl")
        return OpenCLModel(library, outdir, in_shape, out_shape, device, precision)
    raise ValueError(f"unknown target '{target}': expected host, aarch64 or opencl")
