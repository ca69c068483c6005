"""patdnn's code printers: a lowered module (kernel, block and nn dialects) -> C or OpenCL.

* `c/`         — the C target (scalar, NEON, AVX2, AVX-512): `emit_c`, `CTarget`, `CEmitter`;
* `opencl/`    — the OpenCL target (host C with the program embedded): `emit_opencl`, `OpenCLTarget`;
* `common.py`  — what both printers share: `EmitError`, C identifiers and arrays, layer names and
  the dispatch-table lookup;
* `signature.py` — the model entry function and which of its buffers are inputs and outputs;
* `opt_target.py` — the base of patdnn-opt's `-t` targets (a Target string + printer options).

The vector ISAs the C printer spells are described in patdnn/isa.py (tile-tune reads them too).

Each printer is one class with a dispatch table (op class -> handler); the handler modules take
the printer's state type and never import the printer, so imports run one way: target ->
printer -> handlers -> state -> common.
"""
