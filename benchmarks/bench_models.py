"""Whole-model benchmark: VGG-16, ResNet-50, MobileNet-V2 (or any model of patdnn.models'
registry) at 1x3x224x224 (32x32 for the -cifar ones; --size), pattern-pruned (ours,
`patdnn.compile`) vs dense PyTorch (the unpruned model and the pruned model run densely),
ONNX Runtime and ncnn (via pnnx) on the same weights, and DeepSparse on the ONNX exports of the
pruned (`deepsparse`) and the unpruned model (`ds-dense`; its own venv, see
benchmarks/setup_deepsparse.sh), interleaved in one run, at 1 and 2 threads. `ours-nofuse` is the
ablation: the same model compiled without fuse-conv-chain (only where a chain was fused). Also per
model: the peak activation memory of both builds (the arena plan-buffers placed + the per-thread
scratch, which holds a fused chain's bands) and, at 1 thread, a per-op profile of both
(HostModel.layer_times; profile.md).

    python3 benchmarks/bench_models.py [--models vgg16,resnet50,mobilenet-v2] [--threads 1,2] [--size N] [--out DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(HERE.parent))

from benchmarks import common, deepsparse_client, peak  # noqa: E402
from benchmarks.deepsparse_client import add_checked_engine, free_engines  # noqa: E402

MODELS = ("vgg16", "resnet50", "mobilenet-v2")
FRAMEWORKS = ("ours", "ours-nofuse", "torch", "torch-pruned", "ort", "ncnn", "deepsparse", "ds-dense")
PROFILE_RUNS = 9  # runs whose per-op times give the profile's medians
MODEL_TOL = 1e-3  # whole networks: rounding differences accumulate over ~50 layers


def input_size(name: str) -> int:
    """The input height = width a registered model is benchmarked at: 32 for CIFAR models, else 224."""
    return 32 if name.endswith("-cifar") else 224


def prepare(name: str, seed: int, size: int):
    """(dense model, pruned model, {conv: (library, ids)}, input). BatchNorms get non-trivial
    statistics (randomize_batchnorm) so that BN folding is exercised as with a trained model."""
    import torch

    from patdnn.models import get_model, randomize_batchnorm
    from patdnn.prune import one_shot_pattern_prune

    torch.manual_seed(seed)
    dense = randomize_batchnorm(get_model(name)).eval()
    pruned = copy.deepcopy(dense)
    patterns = one_shot_pattern_prune(pruned, num_patterns=8, connectivity=3.6)
    return dense, pruned, patterns, torch.randn(1, 3, size, size)


def count_flops(model, x) -> dict:
    """Dense and non-zero FLOPs of the convs and linears (2 per multiply-add), from one forward pass."""
    import torch

    totals = {"dense": 0, "nonzero": 0}

    def hook(module, _inp, out):
        per_out = out[0, 0].numel() if isinstance(module, torch.nn.Conv2d) else 1
        totals["dense"] += 2 * module.weight.numel() * per_out
        totals["nonzero"] += 2 * int(torch.count_nonzero(module.weight)) * per_out

    handles = [
        m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))
    ]
    with torch.inference_mode():
        model(x)
    for h in handles:
        h.remove()
    return totals


def activation_bytes(outdir: Path, threads: int) -> dict:
    """Peak activation memory of a compiled model, from its model.c: the arena plan-buffers placed
    (`/* N bytes of activations */`) and the scratch (`pdnn_scratch_for(..., shared, per_thread)`
    floats: the larger of shared and per_thread x threads)."""
    import re

    code = (outdir / "model.c").read_text()
    arena = sum(int(m) for m in re.findall(r"/\* (\d+) bytes of activations \*/", code))
    scratch = re.search(r"pdnn_scratch_for\(ctx, patdnn_scratch, &patdnn_scratch_slots, (\d+), (\d+)\)", code)
    scratch_bytes = 4 * max(int(scratch[1]), int(scratch[2]) * threads) if scratch else 0
    return {"arena": arena, "scratch": scratch_bytes, "total": arena + scratch_bytes}


def op_profile(model, x, runs: int = PROFILE_RUNS) -> dict[str, float]:
    """Median ms per op (HostModel.layer_times) over `runs` runs."""
    times: dict[str, list[float]] = {}
    for _ in range(runs):
        model.run(x)
        for label, ms in model.layer_times().items():
            times.setdefault(label, []).append(ms)
    return {label: float(np.median(v)) for label, v in times.items()}


def export_ncnn(model, x, workdir: Path) -> tuple[Path, Path]:
    """pnnx (PyPI `pnnx`) converts the traced model to ncnn's param/bin; fp16=False keeps FP32 weights."""
    import pnnx

    pt, log = workdir / "model.pt", workdir / "pnnx.log"
    param, weights = workdir / "model.ncnn.param", workdir / "model.ncnn.bin"
    try:
        with _output_to(log):  # pnnx's converter is chatty on stdout/stderr
            pnnx.export(model, str(pt), (x,), fp16=False)
    except Exception as e:
        # pnnx's Python wrapper may fail after the ncnn files are written (it re-imports the
        # generated model_pnnx.py); the output check against torch decides whether they are usable.
        if not (param.is_file() and weights.is_file()):
            tail = log.read_text(errors="replace").strip().splitlines()[-3:] if log.exists() else []
            raise RuntimeError(f"{type(e).__name__}: {e} {' | '.join(tail)}") from None
    return param, weights


@contextlib.contextmanager
def _output_to(path: Path):
    """Sends this process's (and its children's) stdout and stderr to `path`, at the fd level."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(path, "w") as f:
        os.dup2(f.fileno(), 1)
        os.dup2(f.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def bench_model(name: str, threads_list: list[int], isa: str, args, peak_gflops: dict) -> list[dict]:
    import torch

    import patdnn

    dense, pruned, patterns, x = prepare(name, args.seed, args.size or input_size(name))
    xn = x.numpy()
    flops = count_flops(pruned, x)
    with torch.inference_mode():
        reference = pruned(x).numpy()
        dense_reference = dense(x).numpy()
    missing, exports = {}, {}
    records = []
    with tempfile.TemporaryDirectory(prefix=f"patdnn-bench-{name}-") as tmp:
        tmp = Path(tmp)
        try:
            exports["ort"] = common.export_onnx(pruned, x)
        except Exception as e:  # noqa: BLE001 - a missing baseline is reported, not fatal
            missing["ort"] = f"ONNX export failed: {type(e).__name__}: {e}"
        try:
            exports["ds-dense"] = common.export_onnx(dense, x)
        except Exception as e:  # noqa: BLE001
            missing["ds-dense"] = f"ONNX export failed: {type(e).__name__}: {e}"
        try:
            exports["ncnn"] = export_ncnn(pruned, x, tmp)
        except Exception as e:  # noqa: BLE001
            missing["ncnn"] = f"ncnn whole-model: not measured (pnnx conversion failed: {type(e).__name__}: {e})"
        for t in threads_list:
            common.set_torch_threads(t)
            rec = {"model": name, "threads": t, "isa": isa, "flops": flops, "missing": dict(missing), "checks": {}}
            start = time.perf_counter()
            ours = patdnn.compile(pruned, x, target=isa, threads=t, patterns=patterns, outdir=tmp / f"ours{t}")
            rec["compile_s"] = time.perf_counter() - start
            rec["memory"] = {"ours": activation_bytes(tmp / f"ours{t}", t)}
            nofuse = None
            if "pdnn_conv_chain(" in (tmp / f"ours{t}" / "model.c").read_text():
                out_nofuse = tmp / f"nofuse{t}"
                nofuse = patdnn.compile(
                    pruned, x, target=isa, threads=t, patterns=patterns, outdir=out_nofuse, fuse=False
                )
                rec["memory"]["ours-nofuse"] = activation_bytes(out_nofuse, t)
            else:
                rec["missing"]["ours-nofuse"] = "no conv chain to fuse: the same model"

            def run_torch(m):
                with torch.inference_mode():
                    return m(x).numpy()

            runners = {
                "ours": lambda m=ours: m.run(xn),
                "torch": lambda: run_torch(dense),
                "torch-pruned": lambda: run_torch(pruned),
            }
            if nofuse is not None:
                runners["ours-nofuse"] = lambda m=nofuse: m.run(xn)
            if "ort" in exports:
                try:
                    sess = common.ort_session(exports["ort"], t)
                    runners["ort"] = lambda s=sess: s.run(None, {"x": xn})[0]
                except Exception as e:  # noqa: BLE001
                    rec["missing"]["ort"] = f"{type(e).__name__}: {e}"
            if "ncnn" in exports:
                try:
                    net = common.ncnn_net(*exports["ncnn"], t)
                    run_ncnn = common.ncnn_runner(net, "in0", "out0")
                    runners["ncnn"] = lambda f=run_ncnn: f(xn)
                except Exception as e:  # noqa: BLE001
                    rec["missing"]["ncnn"] = f"{type(e).__name__}: {e}"
            for fw in (
                "ours",
                "ours-nofuse",
                "ort",
                "ncnn",
            ):  # correctness before timing (vs the pruned model in torch)
                if fw in runners:
                    out = np.asarray(runners[fw]()).reshape(reference.shape)
                    rec["checks"][fw] = check = common.check_output(out, reference, MODEL_TOL)
                    if not check["ok"]:
                        rec["missing"][fw] = f"output differs from torch (rel err {check.get('rel_err')})"
                        del runners[fw]
            for fw, onnx_model, ref in (("deepsparse", "ort", reference), ("ds-dense", "ds-dense", dense_reference)):
                if onnx_model in exports:  # else the export's failure is already listed
                    add_checked_engine(
                        runners, rec["missing"], rec["checks"], fw, exports[onnx_model], xn, t, ref, MODEL_TOL
                    )
            rec["ours_ok"] = rec["checks"]["ours"]["ok"]
            timed = common.interleaved(runners, args.runs, args.warmup, args.gap_ms / 1e3)
            rec["ms"] = {fw: timed[fw]["median_ms"] if fw in timed else None for fw in FRAMEWORKS}
            rec["runs_ms"] = {fw: v["runs_ms"] for fw, v in timed.items()}
            rec["ratio_vs_ours"] = {fw: common.ratio(rec["ms"][fw], rec["ms"]["ours"]) for fw in FRAMEWORKS[1:]}
            ms = rec["ms"]["ours"]
            rec["ours_gflops"] = flops["nonzero"] / ms / 1e6 if ms else None
            per_core = peak_gflops.get(isa)
            rec["peak_gflops"] = per_core * t if per_core else None
            rec["ours_frac_peak"] = common.ratio(rec["ours_gflops"], rec["peak_gflops"])
            if t == 1:  # where the time goes, per op, with and without fusion
                rec["profile"] = {"ours": op_profile(ours, xn)}
                if nofuse is not None:
                    rec["profile"]["ours-nofuse"] = op_profile(nofuse, xn)
            records.append(rec)
            print(
                f"{name} {t}T: "
                + " ".join(f"{fw} {common.fmt(rec['ms'][fw], 2)}" for fw in FRAMEWORKS)
                + f" ms; check {'ok' if rec['ours_ok'] else 'FAILED'}",
                flush=True,
            )
            free_engines(runners)
            del ours, nofuse, runners  # free this thread count's models before building the next
    return records


def markdown(result: dict) -> list[str]:
    head = [
        "model",
        "threads",
        *(f"{fw} ms" for fw in FRAMEWORKS),
        *(f"{fw}/ours" for fw in FRAMEWORKS[1:]),
        "GFLOP dense / non-zero",
        "ours GFLOP/s (non-zero)",
        "% of peak",
        "check (rel err)",
    ]
    rows = []
    for r in result["models"]:
        rows.append(
            [
                r["model"],
                r["threads"],
                *(common.fmt(r["ms"][fw], 2) for fw in FRAMEWORKS),
                *(common.speedup_cell(r["ratio_vs_ours"][fw]) for fw in FRAMEWORKS[1:]),
                f"{r['flops']['dense'] / 1e9:.2f} / {r['flops']['nonzero'] / 1e9:.2f}",
                common.fmt(r["ours_gflops"], 1),
                common.fmt(None if r["ours_frac_peak"] is None else 100 * r["ours_frac_peak"], 1, "%"),
                common.check_cell(r["ours_ok"], r["checks"]),
            ]
        )
    sections = [
        f"Ours: isa {result['isa']}; medians of {result['runs']} runs after {result['warmup']} warm-up; "
        "torch = the unpruned model, torch-pruned = the pruned weights run densely (same speed expected); "
        "deepsparse = DeepSparse on the pruned model's ONNX export, ds-dense = on the unpruned model's "
        f"({result.get('deepsparse')}).",
        common.markdown_table(head, rows),
    ]
    memory_rows = [
        [r["model"], r["threads"], *(_memory_cell(r["memory"].get(fw)) for fw in ("ours", "ours-nofuse"))]
        for r in result["models"]
        if "memory" in r
    ]
    if memory_rows:
        sections.append(
            "## Peak activation memory (MiB: arena + per-thread scratch)\n\n"
            + common.markdown_table(["model", "threads", "ours", "ours-nofuse"], memory_rows)
        )
    missing = {
        f"{r['model']} / {r['threads']}T: {fw}": why for r in result["models"] for fw, why in r["missing"].items()
    }
    if missing:
        sections.append("## Not measured\n\n" + "\n".join(f"* {k}: {v}" for k, v in missing.items()))
    return sections


def _memory_cell(memory: dict | None) -> str:
    if memory is None:
        return "–"
    mib = 1 << 20
    return f"{memory['total'] / mib:.2f} ({memory['arena'] / mib:.2f} + {memory['scratch'] / mib:.2f})"


def profile_markdown(result: dict, top: int = 12) -> list[str]:
    """Per model (1 thread): the ops that take the most time, fused and unfused, and the totals."""
    sections = []
    for r in result["models"]:
        profile = r.get("profile")
        if not profile:
            continue
        lines = [f"## {r['model']}, 1 thread"]
        for fw, ops in profile.items():
            total = sum(ops.values())
            rows = [
                [f"{ms:.3f}", f"{100 * ms / total:.1f}%", label]
                for label, ms in sorted(ops.items(), key=lambda kv: -kv[1])[:top]
            ]
            lines += [
                f"\n{fw}: {len(ops)} ops, {total:.2f} ms in all; the {min(top, len(ops))} slowest:\n",
                common.markdown_table(["ms", "share", "op (layers)"], rows),
            ]
        sections.append("\n".join(lines))
    return sections


def plot(result: dict, path: Path) -> None:
    panels = []
    for t in result["threads"]:
        rows = [r for r in result["models"] if r["threads"] == t]
        panels.append(
            {
                "title": f"whole models, {t} thread(s): speed-up of ours over each framework (>1: ours faster)",
                "labels": [r["model"] for r in rows],
                "ylabel": "time(fw) / time(ours)",
                "series": {fw: [r["ratio_vs_ours"][fw] for r in rows] for fw in FRAMEWORKS[1:]},
                "hline": 1.0,
                "hline_label": "parity",
            }
        )
    common.plot_panels(path, panels)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=common.RESULTS_DIR)
    parser.add_argument("--models", default=",".join(MODELS), help="any of patdnn.models.MODELS")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--size", type=int, help="input height = width (default: 224, 32 for -cifar models)")
    common.add_timing_args(parser)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    from patdnn.models import MODELS as REGISTERED

    unknown = [m for m in args.models.split(",") if m not in REGISTERED]
    if unknown:
        parser.error(f"unknown model(s) {', '.join(unknown)}: expected any of {', '.join(sorted(REGISTERED))}")
    threads_list = [int(t) for t in args.threads.split(",")]
    args.out.mkdir(parents=True, exist_ok=True)
    pk = peak.load_peak(args.out)
    peak_gflops = {isa: peak.peak_per_core(pk, isa) for isa in ("avx512", "avx2", "neon")}
    result = common.run_record(
        "bench_models", args, threads_list, seed=args.seed, size=args.size, peak_gflops_per_core=peak_gflops, models=[]
    )
    for name in args.models.split(","):
        result["models"] += bench_model(name, threads_list, args.isa, args, peak_gflops)
    result["models"].sort(key=lambda r: (r["threads"], list(MODELS).index(r["model"]) if r["model"] in MODELS else 99))
    result["deepsparse"] = deepsparse_client.version()
    result["load_end"] = common.loadavg()
    result["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    common.write_json(args.out / "models.json", result)
    common.write_markdown(
        args.out / "models.md",
        "Whole-model benchmark: pattern-pruned vs dense frameworks",
        result,
        [f"Peak (measured, per core): {peak_gflops}.", *markdown(result)],
    )
    if any(r.get("profile") for r in result["models"]):
        common.write_markdown(
            args.out / "profile.md",
            "Per-op profile (HostModel.layer_times), with and without fusion",
            result,
            profile_markdown(result),
        )
    plot(result, args.out / "models.png")
    return result


if __name__ == "__main__":
    main()
