"""`patdnnc`: compile a (pruned) model into C, a static library and a runner.

    patdnnc MODEL -o OUTDIR [--target TARGET] [--emit mlir|c|lr|package] [--build] [--threads N]
            [--autotune [--tune-budget S]] [--weights BLOB] [--patterns PATTERNS.npz]
            [--schemes PLAN.json|PLAN.lr]
    patdnnc --print-pipeline [--target TARGET]

TARGET (patdnn/target.py): auto (the default: the fastest ISA of this host), neon (the phone target; SIMDe on
x86 hosts), avx2, avx512, scalar, neon{platform=aarch64} (the cross compiler; runs under qemu),
opencl (host C + OpenCL kernels, run with PATDNN_OPENCL_DEVICE=selector), with options such as
avx512{threads=2} or opencl{precision=fp16}.

MODEL is one of
  * a `torch.export` program saved with `torch.export.save(program, "model.pt2")` — the example
    input it was exported with fixes the compiled shape;
  * an ONNX model (`.onnx`, opsets 11-23, e.g. from torch.onnx.export; patdnn.frontend.onnx_import
    lists the ops): a dynamic batch is compiled as batch 1 (a note says so) unless
    `--input-shape N,C,H,W` is given;
  * a patdnn IR file (`.mlir`, pattern/nn dialects), its weights blob beside it;
  * a layerwise representation (`.lr`, see patdnn.lr), its blob named in its header and beside
    it, or given with --weights BLOB.
The file's content must be what its suffix says (a one-line error says what it looks like).
(TorchScript files cannot be imported: torch.export needs the Python module; export it first.)
For a .pt2 from `patdnn prune`, `--patterns OUT/patterns.npz` compiles exactly the pruner's
library and per-kernel patterns (otherwise they are recovered from the zero weights).
`--schemes PLAN` (.pt2 or .onnx MODEL) gives each named conv/linear layer its pruning scheme (a JSON plan
{"layers": {"layer1.0.conv1": "block 8x16 4x", ...}} or an LR file with `prune` lines): block
schemes compile to block-sparse kernels, `dense` to dense ones; unnamed layers are detected from
their weights (see patdnn.frontend.to_ir).

Every target runs the pipeline of patdnn.pipeline.default_pipeline (`--print-pipeline` prints
it): for C, tile-tune (rule-based per-layer schedules, or the ones --autotune found: timed on this
host, or for isa=neon estimated on a Cortex-A76 with llvm-mca),
lower-pattern-to-kernel, filter-kernel-reorder (balanced for the threads), fkw-pack, load-elim,
fuse-residual-add, fuse-conv-chain (MobileNet's [1x1] -> depthwise -> [1x1] chains as one banded
kernel; --no-fuse leaves it out), plan-buffers; OpenCL runs the same without tile-tune and
fuse-conv-chain.

OUTDIR receives model.mlir (the imported IR), model.weights (all weights, sha256-checked at run
time; an .mlir or .lr MODEL's blob is checked now and copied), model.c; with --emit mlir or
--emit lr it stops there (model.lr, with each pattern layer's schedule as tile-tune chose it for
the target, and its blob model.lr.weights), unless --build; with --build, libmodel.a and the
runner `model_run`, for the target's platform (`OUTDIR/model_run --weights-dir OUTDIR in.bin out.bin`, `--bench N`
prints the median latency). With --emit package, OUTDIR is a folder to add to an app's CMake or
Android NDK build: include/NAME.h (a C API; NAME from the MODEL file's name), src/model.c, runtime/,
model.weights, CMakeLists.txt, cmake/aarch64-linux-gnu.cmake, example.c, README.md (docs/targets.md).

patdnnc prints the path of every file it writes, one a line (blobs and copied blobs included);
values it changes rather than rejects (a schedule's tile_x rounded up to the vector width) are one
`note: ...` line each on stderr.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from xdsl.utils.exceptions import DiagnosticException, ParseError

from patdnn.notes import printing_notes
from patdnn.target import Target, TargetError

EMITS = ("mlir", "c", "lr", "package")


def blob_refs(module) -> dict[str, tuple[str, int]]:
    """The blob files a module's `#pattern.blob` references name: {file: (sha256, bytes it needs)}."""
    from patdnn.dialects.common import BlobRefAttr

    refs: dict[str, tuple[str, int]] = {}
    for op in module.walk():
        for attr in (*op.properties.values(), *op.attributes.values()):
            if isinstance(attr, BlobRefAttr):
                digest, end = refs.get(attr.file.data, (attr.sha256.data, 0))
                refs[attr.file.data] = (digest, max(end, attr.offset.data + attr.size.data))
    return refs


def check_blobs(module, folder: Path, what: str) -> list[str]:
    """The blob files `module` references, each checked in `folder` now rather than when the model
    runs: it exists, holds every referenced byte and has the referenced sha256 (else a ValueError
    naming the file)."""
    from patdnn.sparsity.blob import sha256

    for name, (digest, end) in blob_refs(module).items():
        path = folder / name
        if not path.is_file():
            raise ValueError(f"{what} references weights blob {path}, which does not exist (put it beside the IR)")
        data = path.read_bytes()
        if len(data) < end:
            raise ValueError(f"{what}: weights blob {path} holds {len(data)} bytes, the IR reads up to byte {end}")
        if sha256(data) != digest:
            raise ValueError(f"{what}: weights blob {path} has sha256 {sha256(data)}, the IR expects {digest}")
    return list(blob_refs(module))


def _load(
    model: Path,
    outdir: Path,
    weights: Path | None = None,
    patterns: Path | None = None,
    schemes: Path | None = None,
    input_shape: tuple[int, ...] | None = None,
):
    from patdnn.context import parse_module
    from patdnn.frontend.files import check_model_file

    kind = check_model_file(model)  # from the content: one line when it is not what the suffix says
    if kind == "mlir":
        module = parse_module(model.read_text(), str(model))
        for name in check_blobs(module, model.parent, str(model)):
            blob = model.parent / name
            if blob.resolve() != (outdir / name).resolve():
                shutil.copy(blob, outdir / name)
        return module
    if kind in ("pt2", "onnx"):
        from patdnn.lr import load_plan
        from patdnn.prune.export import load_patterns

        chosen = load_patterns(patterns) if patterns is not None else None
        plan = load_plan(schemes) if schemes is not None else None
        imported = {"weights_path": outdir / "model.weights", "patterns": chosen, "schemes": plan}
        if kind == "onnx":  # read once: the shape note and the import share the ModelProto
            from patdnn.frontend import import_onnx
            from patdnn.frontend.onnx_import import read_onnx

            proto = read_onnx(model)
            return import_onnx(proto, _onnx_input_shape(model, proto, input_shape), **imported)
        from patdnn.frontend import import_exported_program

        return import_exported_program(_load_program(model), **imported)
    if kind == "lr":
        import dataclasses

        from patdnn.lr import lr_to_ir, parse_lr

        lr = parse_lr(model.read_text(), str(model))
        blob = weights if weights is not None else model.parent / lr.weights_file
        module = lr_to_ir(dataclasses.replace(lr, weights_file=blob.name), blob.parent)
        if blob.resolve() != (outdir / blob.name).resolve():
            shutil.copy(blob, outdir / blob.name)
        return module
    raise AssertionError(f"no importer for {kind}")


def _load_program(model: Path):
    """The torch.export program saved in `model`; a one-line ValueError when torch cannot load it."""
    import torch

    from patdnn.frontend import ModelFileError
    from patdnn.frontend.torch_import import quiet_torch

    try:
        with quiet_torch():
            return torch.export.load(str(model))
    except Exception as e:  # noqa: BLE001 - whatever torch raises for a file it cannot read: one line
        line = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise ModelFileError(f"{model}: torch.export.load cannot read it: {line}") from None


def _onnx_input_shape(model: Path, proto, input_shape: tuple[int, ...] | None) -> tuple[int, ...] | None:
    """--input-shape, or else the declared input shape of `proto` (read from `model`) with a dynamic
    batch made 1 (with a note)."""
    if input_shape is not None:
        return input_shape
    from patdnn.frontend import ModelFileError
    from patdnn.frontend.onnx_import import onnx_input_shape
    from patdnn.notes import note

    declared = onnx_input_shape(proto)
    if any(not isinstance(d, int) or d < 1 for d in declared[1:]):
        text = "x".join(map(str, declared))
        raise ModelFileError(f"{model}: the input has symbolic sizes ({text}): give --input-shape N,C,H,W")
    if declared and (not isinstance(declared[0], int) or declared[0] < 1):
        note(f"{model}: dynamic batch '{declared[0]}': compiling for batch 1 (--input-shape N,... for another)")
        return (1, *declared[1:])
    return None


def compile_to(
    model: Path,
    outdir: Path,
    target: Target,
    emit: str,
    build: bool,
    weights: Path | None = None,
    patterns: Path | None = None,
    autotune: bool = False,
    tune_budget: int = 60,
    schemes: Path | None = None,
    input_shape: tuple[int, ...] | None = None,
    fuse: bool = True,
) -> list[Path]:
    from xdsl.dialects.builtin import IntegerAttr

    from patdnn.backend.signature import entry_signature
    from patdnn.build import build_runner, emit_source
    from patdnn.pipeline import default_pipeline, run_pipeline
    from patdnn.toolchain import build_static_library, runtime_sources

    outdir.mkdir(parents=True, exist_ok=True)
    module = _load(model, outdir, weights, patterns, schemes, input_shape)
    written = [outdir / "model.mlir"]
    written[0].write_text(str(module) + "\n")
    # the blobs the IR references, in OUTDIR: written by the import, or copied there by _load
    source_folder = {".mlir": model.parent, ".lr": (weights or model).parent}.get(model.suffix)
    for name in blob_refs(module):
        if source_folder is None or (source_folder / name).resolve() != (outdir / name).resolve():
            written.append(outdir / name)
    log = None
    if autotune and (emit != "mlir" or build):
        from patdnn.autotune import tune_module

        log = tune_module(module, target, tune_budget)
    pipeline = default_pipeline(target, log, fuse)
    if emit == "package":  # a folder for an app's CMake / Android NDK build (patdnn/package.py)
        from patdnn.package import package_name, write_package

        files = write_package(module, outdir, target, pipeline, package_name(model.stem))
        return written + [f for f in files if f not in written]
    if emit == "lr":
        from patdnn.lr import print_lr

        # the LR shows each pattern layer's schedule, as tile-tune chooses it for the target (C only)
        run_pipeline(module, [p for p in pipeline if p.name == "tile-tune"])
        lr = print_lr(module, outdir, outdir / "model.lr")
        written += [lr, lr.with_name(lr.name + ".weights")]
    if emit in ("mlir", "lr") and not build:
        return written
    source = emit_source(module, outdir, target, pipeline)
    written.append(source)
    arena = entry_signature(module).func.attributes.get("patdnn.arena_bytes")
    if isinstance(arena, IntegerAttr):
        print(
            f"peak activation memory: {arena.value.data / 2**20:.2f} MiB (intermediates, planned by plan-buffers)",
            file=sys.stderr,
        )
    if build:
        written.append(
            build_static_library(
                [source, *runtime_sources()], outdir / "libmodel.a", target.platform, target.build_flavour
            )
        )
        written.append(build_runner(source, outdir / "model_run", target))
    return written


def _shape(text: str) -> tuple[int, ...]:
    """--input-shape's N,C,H,W (or N,K)."""
    try:
        shape = tuple(int(d) for d in text.replace("x", ",").split(","))
    except ValueError:
        shape = ()
    if not shape or min(shape) < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a shape such as 1,3,32,32 (sizes >= 1)")
    return shape


def _target(args: argparse.Namespace) -> Target:
    """--target, with --threads and the old `--build aarch64` folded in."""
    from dataclasses import replace

    target = Target.parse(args.target).with_threads(args.threads)
    if args.build == "aarch64" and target.platform != "aarch64":
        target = replace(target, platform="aarch64")
    elif args.build == "host" and target.platform != "host":
        raise TargetError(f"--build host contradicts --target {args.target}; write just --build")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="patdnnc", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "model",
        type=Path,
        nargs="?",
        help="a .pt2 torch.export program, an .onnx model, a .mlir patdnn IR file or a .lr file",
    )
    parser.add_argument("-o", "--output", type=Path, help="output folder")
    parser.add_argument(
        "--target",
        default="auto",
        metavar="TARGET",
        help="what to generate code for (default: auto, the fastest ISA of this host; neon is the phone "
        "target, through SIMDe on x86 hosts): see TARGET above",
    )
    parser.add_argument(
        "--threads",
        type=int,
        help="threads the model will run with: filters are balanced across them (default: the target's, 1)",
    )
    parser.add_argument(
        "--print-pipeline",
        action="store_true",
        help="print the pass pipeline of the target (patdnn-opt -p form) and exit",
    )
    parser.add_argument(
        "--autotune",
        action="store_true",
        help="try candidate tile schedules per layer and keep the fastest: timed on this host, or "
        "for isa=neon by the Cortex-A76 estimate (aarch64 gcc + llvm-mca-19); results are logged in "
        "$PATDNN_TUNING_LOG or ~/.cache/patdnn/tuning.json and reused",
    )
    parser.add_argument(
        "--tune-budget",
        type=int,
        default=60,
        metavar="SECONDS",
        help="auto-tuning time budget for the whole model (default: 60)",
    )
    parser.add_argument(
        "--no-fuse",
        action="store_true",
        help="run [1x1] -> depthwise -> [1x1] conv chains as separate ops (no fuse-conv-chain: the ablation)",
    )
    parser.add_argument("--emit", default="c", choices=EMITS, help="what to stop at (default: c)")
    parser.add_argument(
        "--build",
        nargs="?",
        const="",
        choices=["", "host", "aarch64"],
        metavar="",
        help="also build libmodel.a and model_run for the target's platform (the old "
        "`--build aarch64` means --target neon{platform=aarch64} --build)",
    )
    parser.add_argument("--weights", type=Path, help="the blob of an .lr MODEL (default: the one its header names)")
    parser.add_argument(
        "--patterns",
        type=Path,
        help="patterns.npz written by `patdnn prune` (.pt2 or .onnx MODEL): compile exactly its patterns",
    )
    parser.add_argument(
        "--schemes",
        type=Path,
        help='pruning plan (.pt2 or .onnx MODEL): JSON {"layers": {NAME: SCHEME}} or an LR file with '
        '`prune` lines; e.g. SCHEME = "block 8x16 4x", "pattern 3.6x", "dense"',
    )
    parser.add_argument(
        "--input-shape",
        type=_shape,
        metavar="N,C,H,W",
        help="the input shape to compile an .onnx MODEL for; it sizes the model's symbolic dims and must "
        "agree with its static ones (default: the declared shape, a dynamic batch taken as 1)",
    )
    args = parser.parse_args(argv)
    try:
        target = _target(args)
    except TargetError as e:
        parser.error(str(e))
    if args.print_pipeline:
        from patdnn.pipeline import default_pipeline, pipeline_text

        print(pipeline_text(default_pipeline(target, fuse=not args.no_fuse)))
        return 0
    if args.model is None or args.output is None:
        parser.error("MODEL and -o OUTDIR are required (unless --print-pipeline)")
    if not args.model.exists():
        parser.error(f"model file {args.model} does not exist")
    if args.autotune:
        from patdnn.autotune import tuning_problem

        if (problem := tuning_problem(target)) is not None:
            parser.error(f"--autotune: {problem}")
    if args.patterns is not None and not args.patterns.exists():
        parser.error(f"patterns file {args.patterns} does not exist")
    if args.schemes is not None and not args.schemes.exists():
        parser.error(f"schemes file {args.schemes} does not exist")
    if args.schemes is not None and args.model.suffix not in (".pt2", ".onnx"):
        parser.error(f"--schemes applies to .pt2 and .onnx models (an {args.model.suffix} model already fixes its ops)")
    if args.input_shape is not None and args.model.suffix != ".onnx":
        parser.error(f"--input-shape applies to .onnx models (a {args.model.suffix} model fixes its shape)")
    try:
        with printing_notes():
            written = compile_to(
                args.model,
                args.output,
                target,
                args.emit,
                args.build is not None,
                args.weights,
                args.patterns,
                args.autotune,
                args.tune_budget,
                args.schemes,
                args.input_shape,
                not args.no_fuse,
            )
        for path in written:
            print(path)
    except ParseError as e:
        print(e, file=sys.stderr)
        return 1
    except Exception as e:  # user-facing: one line, no traceback
        from patdnn.autotune import TuningError
        from patdnn.frontend import UnsupportedLayerError
        from patdnn.toolchain import ToolchainError

        if isinstance(
            e, (UnsupportedLayerError, DiagnosticException, ToolchainError, TuningError, ValueError, OSError)
        ):
            print(f"patdnnc: error: {e}", file=sys.stderr)
            return 1
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
