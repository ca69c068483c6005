"""A compiled model loaded into this process: ctypes onto the generated shared library.

Calls are serialised by a lock: the generated code keeps one activation arena per model.
"""

from __future__ import annotations

import ctypes
import threading
from pathlib import Path

import numpy as np

from patdnn.runners.executable import RunError
from patdnn.runners.inputs import model_input, model_output


class _ModelDesc(ctypes.Structure):
    """runtime/patdnn_runtime.h's pdnn_model_desc, field for field."""

    _fields_ = [
        ("name", ctypes.c_char_p),
        ("num_inputs", ctypes.c_int),
        ("num_outputs", ctypes.c_int),
        ("input_sizes", ctypes.POINTER(ctypes.c_int64)),
        ("output_sizes", ctypes.POINTER(ctypes.c_int64)),
        ("input_ranks", ctypes.POINTER(ctypes.c_int)),
        ("output_ranks", ctypes.POINTER(ctypes.c_int)),
        ("input_dims", ctypes.POINTER(ctypes.POINTER(ctypes.c_int64))),
        ("output_dims", ctypes.POINTER(ctypes.POINTER(ctypes.c_int64))),
        ("init", ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p)),
        ("run", ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)),
    ]


class HostModel:
    """A compiled model loaded into this process (ctypes onto the generated shared library)."""

    def __init__(self, library: Path, weights_dir: Path, input_shape=None, output_shape=None, threads: int = 1):
        """`input_shape`/`output_shape`: what the caller compiled for, checked against the library's
        descriptor; None takes the descriptor's (a one-input, one-output model's)."""
        self.library_path = Path(library)
        self._lib = ctypes.CDLL(str(self.library_path))
        self._lib.pdnn_ctx_create.restype = ctypes.c_void_p
        self._lib.pdnn_ctx_create.argtypes = [ctypes.c_int, ctypes.c_char_p]
        self._lib.pdnn_ctx_error.restype = ctypes.c_char_p
        self._lib.pdnn_ctx_error.argtypes = [ctypes.c_void_p]
        self._lib.pdnn_ctx_destroy.argtypes = [ctypes.c_void_p]
        self._desc = _ModelDesc.in_dll(self._lib, "patdnn_model")
        ins, outs = self.shapes()
        if input_shape is None and output_shape is None and len(ins) == len(outs) == 1:
            input_shape, output_shape = ins[0], outs[0]
        elif input_shape is not None or output_shape is not None:
            if [list(map(np.prod, ins)), list(map(np.prod, outs))] != [[np.prod(input_shape)], [np.prod(output_shape)]]:
                raise ValueError(
                    f"{library}: the model's shapes {ins} -> {outs} do not fit {input_shape} -> {output_shape}"
                )
        # None: a model of several inputs or outputs, which run() does not take (its runner does)
        self.input_shape = tuple(input_shape) if input_shape is not None else None
        self.output_shape = tuple(output_shape) if output_shape is not None else None
        self._ctx = self._lib.pdnn_ctx_create(threads, str(weights_dir).encode())
        if not self._ctx:
            raise MemoryError("patdnn: cannot create a runtime context")
        if self._desc.init(self._ctx) != 0:
            message = self._lib.pdnn_ctx_error(self._ctx).decode()
            self._lib.pdnn_ctx_destroy(self._ctx)
            self._ctx = None
            raise RunError(message)
        self._lock = threading.Lock()

    def shapes(self) -> tuple[list[tuple[int, ...]], list[tuple[int, ...]]]:
        """The input and output shapes the library's descriptor reports."""
        d = self._desc

        def read(count, ranks, dims):
            return [tuple(dims[i][k] for k in range(ranks[i])) for i in range(count)]

        return read(d.num_inputs, d.input_ranks, d.input_dims), read(d.num_outputs, d.output_ranks, d.output_dims)

    def run(self, x: np.ndarray) -> np.ndarray:
        if self.input_shape is None or self.output_shape is None:
            raise TypeError(f"{self.library_path} has several inputs or outputs: run it with its runner (BuiltModel)")
        x, _ = model_input(x, self.input_shape)
        y = np.empty(self.output_shape, dtype=np.float32)
        ins = (ctypes.c_void_p * 1)(x.ctypes.data)
        outs = (ctypes.c_void_p * 1)(y.ctypes.data)
        with self._lock:
            self._desc.run(self._ctx, ctypes.cast(ins, ctypes.c_void_p), ctypes.cast(outs, ctypes.c_void_p))
        return y

    def layer_times(self) -> dict[str, float]:
        """Milliseconds per op of the last run, in run order, keyed by layer name (a fused conv
        chain: its layers joined by `+`; an op without a layer: its op name and index). Ops of
        one layer (a conv and its reshape) are summed. Empty for a library without the table."""
        try:
            count = ctypes.c_int.in_dll(self._lib, "patdnn_profile_count").value
        except ValueError:
            return {}
        times = (ctypes.c_double * max(count, 1)).in_dll(self._lib, "patdnn_profile_ms")
        labels = (ctypes.c_char_p * max(count, 1)).in_dll(self._lib, "patdnn_profile_labels")
        result: dict[str, float] = {}
        for i in range(count):
            label = labels[i].decode()
            result[label] = result.get(label, 0.0) + times[i]
        return result

    def __call__(self, x):
        """`model(x)` as the compiled module would be called: a torch.Tensor x gives a torch.Tensor,
        a numpy array a numpy array (patdnn.runners.inputs)."""
        array, is_torch = model_input(x, self.input_shape)
        return model_output(self.run(array), is_torch)

    def __del__(self):
        if getattr(self, "_ctx", None):
            self._lib.pdnn_ctx_destroy(self._ctx)
            self._ctx = None
