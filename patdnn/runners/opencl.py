"""A compiled OpenCL model in this process: the host library (ctypes) plus device, precision and
per-layer profiling queries of its OpenCL state (runtime/pdnn_opencl.h); and whether an OpenCL
device is usable here at all (for tests and error messages; models select their device in the C
runtime, runtime/opencl.c)."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import tempfile
from pathlib import Path

import numpy as np

from patdnn.runners.executable import RunError
from patdnn.runners.host import HostModel
from patdnn.toolchain import toolchain_problem


def default_pocl_cache() -> Path:
    """PoCL needs a writable kernel cache: patdnn's cache folder, or a temporary one."""
    folder = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "patdnn" / "pocl"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if os.access(folder, os.W_OK):
            return folder
    except OSError:
        pass
    return Path(tempfile.gettempdir()) / f"patdnn-pocl-{os.getuid()}"


def platform_count() -> int:
    """OpenCL platforms the ICD loader finds (0 when there is no loader or no driver)."""
    os.environ.setdefault("POCL_CACHE_DIR", str(default_pocl_cache()))  # PoCL reads it when loaded
    try:
        loader = ctypes.CDLL(ctypes.util.find_library("OpenCL") or "libOpenCL.so.1")
    except OSError:
        return 0
    count = ctypes.c_uint(0)
    status = loader.clGetPlatformIDs(ctypes.c_uint(0), None, ctypes.byref(count))
    return count.value if status == 0 else 0


def opencl_problem() -> str | None:
    """Why OpenCL models cannot be built or run here; None if they can."""
    problem = toolchain_problem("host", "opencl")
    if problem is None and platform_count() == 0:
        problem = (
            "no OpenCL platform found: install a driver (ICD), e.g. `apt-get install pocl-opencl-icd`, "
            "or point OCL_ICD_VENDORS at a folder of .icd files"
        )
    return problem


class OpenCLModel(HostModel):
    """`model(x)` runs on the selected OpenCL device; `layer_times()` gives the last run's profile.

    device: a selector (see README, OpenCL), default $PATDNN_OPENCL_DEVICE or the first GPU;
    precision: "fp32" or "fp16" (fp32 where the device lacks cl_khr_fp16).
    """

    def __init__(
        self,
        library: Path,
        weights_dir: Path,
        input_shape=None,
        output_shape=None,
        device: str | None = None,
        precision: str | None = None,
    ):
        os.environ.setdefault("POCL_CACHE_DIR", str(default_pocl_cache()))
        lib = ctypes.CDLL(str(library))  # the same handle HostModel opens: the settings carry over
        lib.pdnn_cl_configure.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
        lib.pdnn_cl_configure(
            device.encode() if device is not None else None, precision.encode() if precision is not None else None
        )
        super().__init__(library, weights_dir, input_shape, output_shape, threads=1)
        self._state = ctypes.c_void_p.in_dll(self._lib, "patdnn_opencl")
        for name, restype in (
            ("pdnn_cl_device_name", ctypes.c_char_p),
            ("pdnn_cl_precision", ctypes.c_char_p),
            ("pdnn_cl_num_sites", ctypes.c_int),
            ("pdnn_cl_site_label", ctypes.c_char_p),
            ("pdnn_cl_site_ms", ctypes.c_double),
        ):
            getattr(self._lib, name).restype = restype

    def _query(self, name: str, *args: int) -> object:
        fn = getattr(self._lib, name)
        fn.argtypes = [ctypes.c_void_p] + [ctypes.c_int] * len(args)
        return fn(self._state, *args)

    @property
    def device(self) -> str:
        return self._query("pdnn_cl_device_name").decode()

    @property
    def precision(self) -> str:
        return self._query("pdnn_cl_precision").decode()

    def run(self, x: np.ndarray) -> np.ndarray:
        y = super().run(x)
        error = self._lib.pdnn_ctx_error(self._ctx).decode()
        if error:  # init succeeded, so this came from the run (errors latch in the runtime)
            raise RunError(error)
        return y

    def layer_times(self) -> dict[str, float]:
        """Milliseconds per layer (the kernels of a layer summed) of the last run, in run order."""
        times: dict[str, float] = {}
        for site in range(self._query("pdnn_cl_num_sites")):
            label = self._query("pdnn_cl_site_label", site).decode()
            times[label] = times.get(label, 0.0) + self._query("pdnn_cl_site_ms", site)
        return times
