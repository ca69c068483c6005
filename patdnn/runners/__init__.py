"""Loaded models: what runs a compiled model and hands its outputs back to Python.

* `HostModel` (host.py): the generated shared library in this process, through ctypes;
* `BuiltModel` / `QemuModel` (executable.py): the generated runner executable, on the host or as a
  static aarch64 binary under qemu, fed through raw f32 files;
* `OpenCLModel` (opencl.py): a HostModel whose library drives an OpenCL device, with device,
  precision and per-layer profile queries; `opencl_problem()` says whether OpenCL can run here.

`patdnn.compile` returns one of these; patdnn/build.py makes what they load.
"""

from patdnn.runners.executable import BuiltModel, QemuModel, RunError
from patdnn.runners.host import HostModel
from patdnn.runners.opencl import OpenCLModel, opencl_problem

__all__ = ["BuiltModel", "HostModel", "OpenCLModel", "QemuModel", "RunError", "opencl_problem"]
