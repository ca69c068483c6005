"""A compiled model loaded into this process: ctypes onto the generated shared library.

Calls are serialised by a lock: the generated code keeps one activation arena per model.
"""

from __future__ import annotations

import ctypes
import threading
from pathlib import Path

import numpy as np

from patdnn.runners.executable import RunError


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

    def __call__(self, x):
        """`model(x)` for a torch.Tensor x, as the compiled module would be called."""
        import torch

        return torch.from_numpy(self.run(x.detach().cpu().numpy()))

    def __del__(self):
        if getattr(self, "_ctx", None):
            self._lib.pdnn_ctx_destroy(self._ctx)
            self._ctx = None
