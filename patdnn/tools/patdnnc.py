"""`patdnnc`: compile a (pruned) model into C, a static library and a runner.

    patdnnc MODEL -o OUTDIR [--target TARGET] [--emit mlir|c|lr] [--build] [--threads N]
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
  * a patdnn IR file (`.mlir`, pattern/nn dialects), its weights blob beside it;
  * a layerwise representation (`.lr`, see patdnn.lr), its blob named in its header and beside
    it, or given with --weights BLOB.
(TorchScript files cannot be imported: torch.export needs the Python module; export it first.)
For a .pt2 from `patdnn prune`, `--patterns OUT/patterns.npz` compiles exactly the pruner's
library and per-kernel patterns (otherwise they are recovered from the zero weights).
`--schemes PLAN` (.pt2 MODEL) gives each named conv/linear layer its pruning scheme (a JSON plan
{"layers": {"layer1.0.conv1": "block 8x16 4x", ...}} or an LR file with `prune` lines): block
schemes compile to block-sparse kernels, `dense` to dense ones; unnamed layers are detected from
their weights (see patdnn.frontend.to_ir).

Every target runs the pipeline of patdnn.pipeline.default_pipeline (`--print-pipeline` prints
it): for C, tile-tune (rule-based per-layer schedules, or the ones --autotune timed on this host),
lower-pattern-to-kernel, filter-kernel-reorder (balanced for the threads), fkw-pack, load-elim,
fuse-residual-add, plan-buffers; OpenCL runs the same without tile-tune.

OUTDIR receives model.mlir (the imported IR), model.weights (all weights, sha256-checked at run
time), model.c; with --emit lr, model.lr and its blob model.lr.weights; with --build, libmodel.a
and the runner `model_run`, for the target's platform (`OUTDIR/model_run --weights-dir OUTDIR in.bin out.bin`, `--bench N`
prints the median latency).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from xdsl.utils.exceptions import DiagnosticException, ParseError

from patdnn.target import Target, TargetError

EMITS = ("mlir", "c", "lr")


def _load(
    model: Path, outdir: Path, weights: Path | None = None, patterns: Path | None = None, schemes: Path | None = None
):
    from patdnn.context import parse_module

    if model.suffix == ".mlir":
        module = parse_module(model.read_text(), str(model))
        for blob in model.parent.glob("*.weights"):
            if blob.resolve() != (outdir / blob.name).resolve():
                shutil.copy(blob, outdir / blob.name)
        return module
    if model.suffix == ".pt2":
        import torch

        from patdnn.frontend import import_exported_program
        from patdnn.frontend.torch_import import quiet_torch

        with quiet_torch():
            program = torch.export.load(str(model))
        from patdnn.lr import load_plan
        from patdnn.prune.export import load_patterns

        chosen = load_patterns(patterns) if patterns is not None else None
        plan = load_plan(schemes) if schemes is not None else None
        return import_exported_program(program, weights_path=outdir / "model.weights", patterns=chosen, schemes=plan)
    if model.suffix == ".lr":
        import dataclasses

        from patdnn.lr import lr_to_ir, parse_lr

        lr = parse_lr(model.read_text(), str(model))
        blob = weights if weights is not None else model.parent / lr.weights_file
        module = lr_to_ir(dataclasses.replace(lr, weights_file=blob.name), blob.parent)
        if blob.resolve() != (outdir / blob.name).resolve():
            shutil.copy(blob, outdir / blob.name)
        return module
    raise ValueError(f"{model}: unsupported model format '{model.suffix}' (expected .pt2, .mlir or .lr)")


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
) -> list[Path]:
    from xdsl.dialects.builtin import IntegerAttr

    from patdnn.backend.signature import entry_signature
    from patdnn.build import build_runner, emit_source
    from patdnn.pipeline import default_pipeline
    from patdnn.toolchain import build_static_library, runtime_sources

    outdir.mkdir(parents=True, exist_ok=True)
    module = _load(model, outdir, weights, patterns, schemes)
    written = [outdir / "model.mlir"]
    written[0].write_text(str(module) + "\n")
    if emit == "lr":
        from patdnn.lr import print_lr

        lr = print_lr(module, outdir, outdir / "model.lr")
        written += [lr, lr.with_name(lr.name + ".weights")]
    if emit in ("mlir", "lr") and build is None:
        return written
    log = None
    if autotune:
        from patdnn.autotune import tune_module

        log = tune_module(module, target, tune_budget)
    source = emit_source(module, outdir, target, default_pipeline(target, log))
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
        "model", type=Path, nargs="?", help="a .pt2 torch.export program, a .mlir patdnn IR file or a .lr file"
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
        help="time candidate tile schedules per layer on this host and keep the fastest "
        "(results are logged in $PATDNN_TUNING_LOG or ~/.cache/patdnn/tuning.json and reused)",
    )
    parser.add_argument(
        "--tune-budget",
        type=int,
        default=60,
        metavar="SECONDS",
        help="auto-tuning time budget for the whole model (default: 60)",
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
        help="patterns.npz written by `patdnn prune` (.pt2 MODEL): compile exactly its patterns",
    )
    parser.add_argument(
        "--schemes",
        type=Path,
        help='pruning plan (.pt2 MODEL): JSON {"layers": {NAME: SCHEME}} or an LR file with '
        '`prune` lines; e.g. SCHEME = "block 8x16 4x", "pattern 3.6x", "dense"',
    )
    args = parser.parse_args(argv)
    try:
        target = _target(args)
    except TargetError as e:
        parser.error(str(e))
    if args.print_pipeline:
        from patdnn.pipeline import default_pipeline, pipeline_text

        print(pipeline_text(default_pipeline(target)))
        return 0
    if args.model is None or args.output is None:
        parser.error("MODEL and -o OUTDIR are required (unless --print-pipeline)")
    if not args.model.exists():
        parser.error(f"model file {args.model} does not exist")
    if args.autotune and (target.is_opencl or target.platform != "host"):
        parser.error(f"--autotune times code on this host; it does not apply to --target {target}")
    if args.patterns is not None and not args.patterns.exists():
        parser.error(f"patterns file {args.patterns} does not exist")
    if args.schemes is not None and not args.schemes.exists():
        parser.error(f"schemes file {args.schemes} does not exist")
    if args.schemes is not None and args.model.suffix != ".pt2":
        parser.error(f"--schemes applies to .pt2 models (an {args.model.suffix} model already fixes its ops)")
    try:
        for path in compile_to(
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
        ):
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
