"""The C target: scalar, NEON, AVX2 or AVX-512 C from the kernel, block and nn dialects.

* `printer` — `CEmitter`, the printer: a dispatch table op class -> handler, `memref.alloc`,
  `func.func` and the module skeleton;
* `state`   — the emitter state handlers work on (`CState`; `ModuleEmitter`, shared with the
  OpenCL host printer: weights declarations, layer names, the model descriptor);
* `pattern` — `kernel.pattern_conv`: FKW index, tap-shifted input, the layer's driver;
  `pattern_loop` — its register-tile loop nest (PatDNN's form) and geometry;
  `pattern_taps` — the tap-list loop form;
* `block`   — `block.conv2d` / `block.linear`: one block-sparse GEMM kernel per layer;
* `nn`      — nn ops: the table op class -> call into runtime/ops_dense.c;
* `target`  — `CTarget` (`patdnn-opt -t c{isa=...}`) and `emit_c`.
"""

from patdnn.backend.c.printer import CEmitter
from patdnn.backend.c.target import CTarget, emit_c
from patdnn.backend.common import EmitError

__all__ = ["CEmitter", "CTarget", "EmitError", "emit_c"]
