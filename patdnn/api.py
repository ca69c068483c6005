"""The Python API: `patdnn.compile(module, example_input)` → a callable compiled model.

On the host the generated C is built as a shared library and called through ctypes (no process
per call); for an aarch64 target the model is a static executable run under qemu; for OpenCL the
whole model runs on an OpenCL device. The loaders are in patdnn/runners/.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from patdnn.backend.signature import entry_signature
from patdnn.build import build_host_library, build_module
from patdnn.frontend import import_module
from patdnn.lr import load_plan
from patdnn.pipeline import default_pipeline
from patdnn.runners import HostModel, OpenCLModel, QemuModel
from patdnn.target import Target, TargetError, as_target

if TYPE_CHECKING:
    import onnx

DEFAULT_TARGET = "auto"  # the fastest ISA of this host; "neon" is one word away for phones


def resolve_target(
    target: Target | str | None,
    isa: str | None = None,
    threads: int | None = None,
    device: str | None = None,
    precision: str | None = None,
) -> Target:
    """The Target of `compile`'s arguments (default: DEFAULT_TARGET). The old spellings `isa=...`
    and `target="host"|"aarch64"` with `isa=` still work: they name the targets `"<isa>"` and
    `"<isa>{platform=aarch64}"` (no isa: auto, i.e. neon on aarch64)."""
    if target is None:
        target = isa or DEFAULT_TARGET
    elif isinstance(target, str) and target in ("host", "aarch64"):
        suffix = "{platform=aarch64}" if target == "aarch64" else ""
        target = Target.parse((isa or DEFAULT_TARGET) + suffix)
    elif isa is not None:
        raise TargetError(f"isa= goes with the old target='host'/'aarch64'; write target='{isa}' instead")
    resolved = as_target(target).with_threads(threads)
    if device is not None or precision is not None:
        if not resolved.is_opencl:
            raise TargetError("device= and precision= apply to the opencl target")
        resolved = replace(resolved, device=device or resolved.device, precision=precision or resolved.precision)
    return resolved


def output_folder(outdir: Path | str | None) -> Path:
    """`outdir` (created if missing), or a fresh temporary folder; a one-line ValueError when it
    is a file or cannot be created."""
    if outdir is None:
        return Path(tempfile.mkdtemp(prefix="patdnn-"))
    outdir = Path(outdir)
    if outdir.exists() and not outdir.is_dir():
        raise ValueError(f"outdir {outdir} is a file, expected a folder for the generated code and weights")
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ValueError(f"outdir {outdir}: cannot create the folder: {e.strerror or e}") from None
    return outdir


def compile(  # noqa: A001 - the public name users expect
    module: torch.nn.Module | onnx.ModelProto | str | Path,
    example_input: torch.Tensor,
    target: Target | str | None = None,
    threads: int | None = None,
    outdir: Path | None = None,
    patterns: dict | None = None,
    device: str | None = None,
    precision: str | None = None,
    schemes: dict | str | Path | None = None,
    autotune: float = 0,
    isa: str | None = None,
    fuse: bool = True,
) -> HostModel | QemuModel | OpenCLModel:
    """Compiles an (eval-mode, pattern-pruned) torch module — or an ONNX model: an onnx.ModelProto
    or the path of an .onnx file, whose symbolic dims (a dynamic batch) take `example_input`'s
    sizes — for `example_input`'s shape.

    target: a Target or its string form (patdnn/target.py; default "auto"): "auto" (the fastest ISA of this host),
    "neon" (SIMDe on x86 hosts), "avx2", "avx512", "scalar", "neon{platform=aarch64}" (a static
    binary under qemu), "opencl" (the whole model on an OpenCL device). `threads`, `device` and
    `precision` override the target's. `patterns` optionally gives the pruner's (library, ids) per
    conv name. `schemes` is a pruning plan, {layer name: Scheme} or a plan file (.json, or .lr with
    `prune` lines): block schemes compile to block-sparse kernels, see patdnn.frontend.to_ir.
    `autotune`: seconds to spend tuning tile schedules (0: the rule's schedules): timed on this
    host, or for isa=neon estimated on a Cortex-A76 (patdnn.autotune). `fuse=False` runs
    [1x1] -> depthwise -> [1x1] conv chains as separate ops (no fuse-conv-chain; the ablation).
    The module is traced in eval mode; its training flags and weights are left as they were.
    `example_input`: a float32 torch tensor (or numpy array), 4-d NCHW or 2-d NxK.
    The returned model is called like the module: `model(x) -> torch.Tensor`; a numpy array x gives a
    numpy array (patdnn.runners.inputs). Mistakes (a wrong input, an unsupported layer) are one-line
    errors: ModelInputError / UnsupportedLayerError (patdnn.frontend), TargetError, ValueError.
    """
    target = resolve_target(target, isa, threads, device, precision)
    outdir = output_folder(outdir)
    if isinstance(schemes, (str, Path)):
        schemes = load_plan(Path(schemes))
    imported = {"weights_path": outdir / "model.weights", "patterns": patterns, "schemes": schemes}
    if isinstance(module, torch.nn.Module):
        ir = import_module(module, example_input, **imported)
    else:  # an onnx.ModelProto or an .onnx path (anything else: a one-line ModelTypeError)
        from patdnn.frontend import check_example_input, import_onnx

        ir = import_onnx(module, tuple(check_example_input(example_input).shape), **imported)
    signature = entry_signature(ir)
    in_shape, out_shape = signature.shape(signature.inputs[0]), signature.shape(signature.outputs[0])
    log = None
    if autotune:
        from patdnn.autotune import tune_module

        log = tune_module(ir, target, autotune)
    pipeline = default_pipeline(target, log, fuse)
    if target.platform == "aarch64":
        return QemuModel(build_module(ir, outdir, target, pipeline), target.threads)
    library = build_host_library(ir, outdir, target, pipeline)
    if target.is_opencl:
        return OpenCLModel(library, outdir, in_shape, out_shape, device, precision)
    return HostModel(library, outdir, in_shape, out_shape, target.threads)
