"""Scheme benchmark (issue 6): one model, one overall compression rate, four per-layer plans —
pattern-only, block-only, rule mapping, search mapping — compiled by us and timed against dense
PyTorch in the same run; with `--accuracy-dir`, the accuracy of the four pruning runs beside it.

    python3 benchmarks/bench_schemes.py [--models mobilenet-v2,resnet50,resnet20-cifar] [--rate 6]
        [--threads 1,2] [--accuracy-dir DIR] [--checkpoint resnet20-cifar=out/dense.pt] [--out DIR]
    python3 benchmarks/bench_schemes.py --quick --out /tmp/b      # ResNet-20 at 16x16, 3 runs (smoke test)

Variants (every plan counts its rate over the prunable layers, see patdnn.sparsity.layers):
* pattern — PatDNN: every prunable 3x3 conv pattern-pruned at the target rate (connectivity
  rate * 4/9), every other layer dense; it cannot reach the overall rate where 1x1 / FC layers
  hold the weights (MobileNet-V2 has no prunable 3x3: all dense) — its real rate is in the table;
* block   — every prunable layer block-punched, block size by the rules table, one uniform rate;
* rule    — patdnn.mapping.rules.rule_plan;
* search  — patdnn.mapping.search.search_plan (cost-model latency unless --search-latency measured).

Latency: random weights (seeded; or --checkpoint), BatchNorms randomised, one-shot projection of
each plan (patdnn.sparsity.apply: pattern layers by the model's 8-pattern library + connectivity,
block layers by project_block), compiled with `patdnn.compile(..., target=best host ISA,
schemes=plan)`; output checked against torch on the pruned model (1e-3); then the four variants
and dense PyTorch (the unpruned model) timed interleaved, medians; with them DeepSparse (its own
venv, benchmarks/setup_deepsparse.sh) on the ONNX export of each variant's pruned model (`ds`,
checked like ours) and of the unpruned model (`ds-dense`). Accuracy: DIR/<variant>/report.json
of `patdnn prune` runs (the plans used here are written to OUT/schemes-plans/ for that).
Writes OUT/schemes.json and OUT/schemes.md.
"""

from __future__ import annotations

import argparse
import copy
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(HERE.parent))

from benchmarks import common, deepsparse_client  # noqa: E402
from benchmarks.deepsparse_client import add_checked_engine, free_engines  # noqa: E402

VARIANTS = ("pattern", "block", "rule", "search")
MODELS = {"mobilenet-v2": (3, 224), "resnet50": (3, 224), "resnet20-cifar": (1, 28)}  # channels, size
MODEL_TOL = 1e-3


# --- plans ------------------------------------------------------------------------------------------


def pattern_only_plan(layers, rate: float):
    from patdnn.mapping.rules import PATTERN_MIN_RATE
    from patdnn.sparsity.scheme import Scheme

    connectivity = max(1.0, round(rate / PATTERN_MIN_RATE, 2))
    return {
        layer.name: Scheme.pattern(connectivity) if layer.is_3x3 and layer.prunable else Scheme.dense()
        for layer in layers
    }


def make_plans(model, shape, layers, rate: float, args) -> dict:
    from patdnn.mapping.rules import rule_plan, uniform_plan
    from patdnn.mapping.search import search_plan

    return {
        "pattern": pattern_only_plan(layers, rate),
        "block": uniform_plan(layers, {layer.name: "block" if layer.prunable else "dense" for layer in layers}, rate),
        "rule": rule_plan(model, shape, rate, layers, isa=args.isa),
        "search": search_plan(
            model,
            shape,
            rate,
            latency=args.search_latency,
            budget=args.search_budget,
            isa=args.isa,
            threads=1,
            layers=layers,
        ),
    }


def plan_summary(plan) -> str:
    counts = Counter(s.kind.value for s in plan.values())
    return " / ".join(f"{counts.get(k, 0)} {k}" for k in ("pattern", "block", "dense"))


# --- one model ----------------------------------------------------------------------------------------


def build(name: str, channels: int, checkpoint: Path | None, seed: int):
    import torch

    from patdnn.models import get_model, randomize_batchnorm
    from patdnn.tools.map_cli import build_model

    if checkpoint is not None:
        model, _, _ = build_model(name, checkpoint, channels, seed)
        return model.eval()
    torch.manual_seed(seed)
    kwargs = {"in_channels": channels} if channels != 3 else {}
    return randomize_batchnorm(get_model(name, **kwargs)).eval()


def bench_model(name: str, channels: int, size: int, args, plans_dir: Path) -> list[dict]:
    import torch

    import patdnn
    from patdnn.mapping.latency import CostModel
    from patdnn.sparsity.apply import apply_plan
    from patdnn.sparsity.layers import kept_flops, model_layers, plan_rate
    from patdnn.sparsity.plan import save_plan
    from patdnn.sparsity.scheme import SchemeKind

    shape = (1, channels, size, size)
    dense = build(name, channels, args.checkpoints.get(name), args.seed)
    layers = model_layers(dense, shape)
    plans = make_plans(dense, shape, layers, args.rate, args)
    for variant, plan in plans.items():
        save_plan(plan, plans_dir / f"{name}-{variant}.json")
    torch.manual_seed(args.seed + 1)
    x = torch.randn(shape)
    xn = x.numpy()
    pruned, onnx_models = {}, {"ds-dense": onnx_or_none(dense, x)}
    for variant, plan in plans.items():
        model = copy.deepcopy(dense)
        patterns = apply_plan(model, plan)
        pruned[variant] = (model, patterns)
        onnx_models[variant] = onnx_or_none(model, x)
    with torch.inference_mode():
        dense_reference = dense(x).numpy()
    records = []
    with tempfile.TemporaryDirectory(prefix=f"patdnn-schemes-{name}-") as tmp:
        for t in args.threads:
            common.set_torch_threads(t)
            cost = CostModel(args.isa, t)
            rec = {
                "model": name,
                "input": list(shape),
                "threads": t,
                "isa": args.isa,
                "rate_target": args.rate,
                "variants": {},
                "missing": {},
                "ds_checks": {},
            }
            runners = {}
            add_checked_engine(
                runners, rec["missing"], rec["ds_checks"], "ds-dense", onnx_models["ds-dense"], xn, t,
                dense_reference, MODEL_TOL,
            )  # fmt: skip
            for variant, plan in plans.items():
                model, patterns = pruned[variant]
                with torch.inference_mode():
                    reference = model(x).numpy()
                v = {
                    "plan": plan_summary(plan),
                    "rate": plan_rate(layers, plan),
                    "kept_gflops": sum(kept_flops(layer, plan[layer.name]) for layer in layers) / 1e9,
                    "dense_gflops": sum(layer.flops for layer in layers) / 1e9,
                    "est_ms": sum(cost.latency_ms(layer, plan[layer.name]) for layer in layers),
                }
                start = time.perf_counter()
                try:
                    ours = patdnn.compile(
                        model,
                        x,
                        target=args.isa,
                        threads=t,
                        outdir=Path(tmp) / f"{variant}{t}",
                        patterns=patterns,
                        schemes={n: s for n, s in plan.items() if s.kind == SchemeKind.BLOCK},
                    )
                except Exception as e:  # noqa: BLE001 - one failing variant is reported, the others still run
                    rec["missing"][variant] = f"compile failed: {type(e).__name__}: {str(e).splitlines()[0]}"
                    rec["variants"][variant] = v
                    continue
                v["compile_s"] = time.perf_counter() - start
                v["check"] = common.check_output(ours.run(xn), reference, MODEL_TOL)
                if v["check"]["ok"]:
                    runners[variant] = lambda m=ours: m.run(xn)
                else:
                    rec["missing"][variant] = f"output differs from torch (rel err {v['check'].get('rel_err')})"
                rec["variants"][variant] = v
                add_checked_engine(
                    runners, rec["missing"], rec["ds_checks"], f"ds:{variant}", onnx_models[variant], xn, t,
                    reference, MODEL_TOL,
                )  # fmt: skip

            def run_torch():
                with torch.inference_mode():
                    return dense(x)

            runners["torch"] = run_torch
            timed = common.interleaved(runners, args.runs, args.warmup, args.gap_ms / 1e3)
            free_engines(runners)
            rec["torch_ms"] = timed["torch"]["median_ms"]
            rec["ds_dense_ms"] = timed["ds-dense"]["median_ms"] if "ds-dense" in timed else None
            rec["runs_ms"] = {k: v["runs_ms"] for k, v in timed.items()}
            for variant, v in rec["variants"].items():
                v["ms"] = timed[variant]["median_ms"] if variant in timed else None
                v["torch_over_ours"] = common.ratio(rec["torch_ms"], v["ms"])
                v["ds_ms"] = timed[f"ds:{variant}"]["median_ms"] if f"ds:{variant}" in timed else None
                v["ds_over_ours"] = common.ratio(v["ds_ms"], v["ms"])
            records.append(rec)
            print(
                f"{name} {t}T: torch {rec['torch_ms']:.2f} ms; "
                + "; ".join(
                    f"{k} {common.fmt(v.get('ms'), 2)} ms ({v['rate']:.2f}x)" for k, v in rec["variants"].items()
                ),
                flush=True,
            )
    return records


def onnx_or_none(model, x) -> bytes | None:
    """The ONNX export DeepSparse runs, or None (then DeepSparse is listed as not measured)."""
    try:
        return common.export_onnx(model, x)
    except Exception as e:  # noqa: BLE001 - a missing baseline is reported, not fatal
        print(f"bench_schemes.py: ONNX export failed ({type(e).__name__}: {e})", file=sys.stderr)
        return None


# --- accuracy ------------------------------------------------------------------------------------------


def read_accuracy(directory: Path | None) -> dict:
    """{variant: {dense, pruned, rate, model, data}} from DIR/<variant>/report.json (missing ones: a reason)."""
    if directory is None:
        return {}
    result = {}
    for variant in VARIANTS:
        path = directory / variant / "report.json"
        if not path.is_file():
            result[variant] = {"missing": f"no {path}"}
            continue
        report = common.read_json(path)
        acc, comp, settings = report.get("accuracy", {}), report.get("compression", {}), report.get("settings", {})
        result[variant] = {
            "dense": acc.get("dense"),
            "pruned": acc.get("pruned"),
            "rate": comp.get("layers_rate"),
            "model": settings.get("model"),
            "data": settings.get("data"),
            "schemes": settings.get("schemes"),
        }
    return result


# --- output ------------------------------------------------------------------------------------------------


def markdown(result: dict) -> list[str]:
    acc = result.get("accuracy", {})
    head = [
        "model",
        "threads",
        "variant",
        "layers (pattern / block / dense)",
        f"rate (target {result['rate']}x)",
        "GFLOP kept / dense",
        "model est. ms",
        "ours ms",
        "torch dense ms",
        "torch/ours",
        "DeepSparse ms (this variant / dense)",
        "ds/ours",
        "check (rel err ours; DeepSparse)",
    ]
    if acc:
        head += ["accuracy dense → pruned (%)", "accuracy run rate"]
    rows = []
    for r in result["models"]:
        for variant in VARIANTS:
            v = r["variants"].get(variant)
            if v is None:
                continue
            check = v.get("check", {})
            row = [
                r["model"],
                r["threads"],
                variant,
                v["plan"],
                f"{v['rate']:.2f}x",
                f"{v['kept_gflops']:.3f} / {v['dense_gflops']:.3f}",
                common.fmt(v["est_ms"], 2),
                common.fmt(v.get("ms"), 2),
                common.fmt(r["torch_ms"], 2),
                common.speedup_cell(v.get("torch_over_ours")),
                f"{common.fmt(v.get('ds_ms'), 2)} / {common.fmt(r.get('ds_dense_ms'), 2)}",
                common.speedup_cell(v.get("ds_over_ours")),
                check_cell(check, r.get("ds_checks", {}).get(f"ds:{variant}", {})),
            ]
            if acc:
                a = acc.get(variant, {})
                same = a.get("model") in (None, r["model"])
                row += [
                    f"{common.fmt(a.get('dense'), 2)} → {common.fmt(a.get('pruned'), 2)}"
                    if same and "missing" not in a
                    else "—",
                    common.fmt(a.get("rate"), 2, "x") if same else "—",
                ]
            rows.append(row)
    sections = [
        f"Ours: isa {result['isa']}; medians of {result['runs']} runs after {result['warmup']} warm-up, "
        "interleaved with dense PyTorch (the unpruned model). Rates: weight compression over the "
        "prunable layers. Model est.: patdnn.mapping.latency's cost model (convs and linears only). "
        f"DeepSparse ({result.get('deepsparse')}): on the ONNX export of each variant's pruned model "
        "and of the unpruned one (dense).",
        common.markdown_table(head, rows),
    ]
    if acc:
        lines = [
            f"* {k}: {v['missing']}"
            if "missing" in v
            else f"* {k}: {v.get('model')} on {v.get('data')}, schemes {v.get('schemes')}"
            for k, v in acc.items()
        ]
        sections.append(f"## Accuracy runs ({result['accuracy_dir']})\n\n" + "\n".join(lines))
    missing = {f"{r['model']} / {r['threads']}T: {k}": why for r in result["models"] for k, why in r["missing"].items()}
    if missing:
        sections.append("## Not measured\n\n" + "\n".join(f"* {k}: {v}" for k, v in missing.items()))
    return sections


def check_cell(ours: dict, deepsparse: dict) -> str:
    """ok / FAILED, then (ours' rel err; DeepSparse's)."""
    errors = "; ".join(f"{c['rel_err']:.1e}" if c.get("rel_err") is not None else "—" for c in (ours, deepsparse))
    return ("ok" if ours.get("ok") else "**FAILED**") + f" ({errors})"


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=common.RESULTS_DIR)
    parser.add_argument("--models", default=",".join(MODELS), help=f"from {', '.join(MODELS)}")
    parser.add_argument("--rate", type=float, default=6.0, help="overall weight compression over the prunable layers")
    parser.add_argument("--threads", default="1", help="comma-separated thread counts, e.g. 1,2")
    parser.add_argument("--accuracy-dir", type=Path, help="DIR with pattern/ block/ rule/ search/ patdnn prune runs")
    parser.add_argument(
        "--checkpoint",
        action="append",
        default=[],
        metavar="MODEL=PT",
        help="trained dense weights for MODEL (its plans and latency use them)",
    )
    parser.add_argument("--search-latency", default="model", choices=["model", "measured"])
    parser.add_argument("--search-budget", type=float, help="seconds of measuring for --search-latency measured")
    common.add_timing_args(parser)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="ResNet-20 at 16x16, 3 runs, 1 warm-up (smoke test)")
    args = parser.parse_args(argv)
    args.threads = [int(t) for t in args.threads.split(",")]
    args.checkpoints = {}
    for item in args.checkpoint:
        model, sep, path = item.partition("=")
        if not sep or model not in MODELS:
            parser.error(f"--checkpoint {item}: expected MODEL=PATH with MODEL in {', '.join(MODELS)}")
        args.checkpoints[model] = Path(path)
    unknown = [m for m in args.models.split(",") if m not in MODELS]
    if unknown:
        parser.error(f"unknown model(s) {', '.join(unknown)}: expected {', '.join(MODELS)}")
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    models = [(m, *MODELS[m]) for m in args.models.split(",")]
    if args.quick:
        models, args.runs, args.warmup = [("resnet20-cifar", 1, 16)], 3, 1
    args.out.mkdir(parents=True, exist_ok=True)
    plans_dir = args.out / "schemes-plans"
    plans_dir.mkdir(exist_ok=True)
    result = common.run_record(
        "bench_schemes",
        args,
        args.threads,
        rate=args.rate,
        seed=args.seed,
        quick=args.quick,
        search_latency=args.search_latency,
        models=[],
    )
    for name, channels, size in models:
        result["models"] += bench_model(name, channels, size, args, plans_dir)
    if args.accuracy_dir is not None:
        result["accuracy_dir"] = str(args.accuracy_dir)
        result["accuracy"] = read_accuracy(args.accuracy_dir)
    result["deepsparse"] = deepsparse_client.version()
    result["load_end"] = common.loadavg()
    result["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    common.write_json(args.out / "schemes.json", result)
    common.write_markdown(
        args.out / "schemes.md",
        "Scheme benchmark: pattern-only, block-only, rule and search mappings at one compression rate",
        result,
        markdown(result),
    )
    return result


if __name__ == "__main__":
    main()
