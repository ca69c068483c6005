"""The OpenCL target: host C that builds one OpenCL program and enqueues every layer's kernels.

* `printer`  — `OpenCLHostEmitter`, the printer: a dispatch table op class -> handler,
  `memref.alloc`, `func.func`, the embedded program and the module skeleton;
* `state`    — the emitter state handlers work on (`OpenCLState`: device buffers, tensors,
  launch sites) and `Launch`;
* `schedule` — `ClSchedule` (work-item tiles and work-groups, per-layer overrides) and
  `ClConvGeometry` (a convolution kernel's tiles, padded input and NDRange);
* `kernels`  — `kernel.pattern_conv`: one OpenCL C kernel per layer;
* `block`    — `block.conv2d` / `block.linear`: one block-sparse kernel per layer;
* `nn`       — nn ops: the table op class -> launches of runtime/opencl_kernels.cl;
* `target`   — `OpenCLTarget` (`patdnn-opt -t opencl{...}`), and `emit_opencl`.
"""

from patdnn.backend.opencl.printer import OpenCLHostEmitter
from patdnn.backend.opencl.schedule import ClConvGeometry, ClSchedule
from patdnn.backend.opencl.target import OpenCLTarget, emit_opencl

__all__ = ["ClConvGeometry", "ClSchedule", "OpenCLHostEmitter", "OpenCLTarget", "emit_opencl"]
