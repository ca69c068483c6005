"""Is an OpenCL device usable here? (For tests and error messages; models select their device
in the C runtime, runtime/opencl.c.)"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

from patdnn.toolchain import toolchain_problem


def platform_count() -> int:
    """OpenCL platforms the ICD loader finds (0 when there is no loader or no driver)."""
    from patdnn.backend.opencl_model import default_pocl_cache

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
        problem = ("no OpenCL platform found: install a driver (ICD), e.g. `apt-get install pocl-opencl-icd`, "
                   "or point OCL_ICD_VENDORS at a folder of .icd files")
    return problem
