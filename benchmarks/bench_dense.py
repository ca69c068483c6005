"""Dense layers one by one (issue 16: "dense kernels at parity with MLAS"): the 1x1 convs, depthwise
convs (3x3 / 5x5, stride 1 / 2), stems and FC layers of MobileNet-V2, EfficientNet-B0 and ResNet-50 at
224x224, each compiled alone — ours (`patdnn.compile`, the unfused kernels of runtime/ops_dense.c and
ops_conv1x1_cm.c) vs ONNX Runtime (MLAS) and PyTorch on the same weights, interleaved, 1 thread.

A lone layer is cache-warm and has no neighbour to fuse with: this is the per-kernel comparison; the
fused chains are measured in context by bench_models.py (ours vs ours-nofuse).

    python3 benchmarks/bench_dense.py [--out DIR] [--threads 1] [--only 1x1,depthwise,stem,fc]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(HERE.parent))

from benchmarks import common, peak  # noqa: E402

# (kind, name, cin, cout, kernel, stride, groups, input size); groups = cin: depthwise
LAYERS = [
    ("stem", "mbv2 stem 3->32 3x3/2", 3, 32, 3, 2, 1, 224),
    ("stem", "resnet50 stem 3->64 7x7/2", 3, 64, 7, 2, 1, 224),
    ("1x1", "16->96 @112", 16, 96, 1, 1, 1, 112),
    ("1x1", "24->144 @56", 24, 144, 1, 1, 1, 56),
    ("1x1", "144->24 @56", 144, 24, 1, 1, 1, 56),
    ("1x1", "32->192 @28", 32, 192, 1, 1, 1, 28),
    ("1x1", "192->32 @28", 192, 32, 1, 1, 1, 28),
    ("1x1", "96->576 @14", 96, 576, 1, 1, 1, 14),
    ("1x1", "576->96 @14", 576, 96, 1, 1, 1, 14),
    ("1x1", "160->960 @7", 160, 960, 1, 1, 1, 7),
    ("1x1", "960->160 @7", 960, 160, 1, 1, 1, 7),
    ("1x1", "320->1280 @7", 320, 1280, 1, 1, 1, 7),
    ("1x1", "64->256 @56", 64, 256, 1, 1, 1, 56),
    ("1x1", "256->64 @56", 256, 64, 1, 1, 1, 56),
    ("1x1", "512->1024 /2 @28", 512, 1024, 1, 2, 1, 28),
    ("1x1", "1024->256 @14", 1024, 256, 1, 1, 1, 14),
    ("1x1", "512->2048 @7", 512, 2048, 1, 1, 1, 7),
    ("depthwise", "dw3 32 @112", 32, 32, 3, 1, 32, 112),
    ("depthwise", "dw3 96 @112 /2", 96, 96, 3, 2, 96, 112),
    ("depthwise", "dw3 144 @56", 144, 144, 3, 1, 144, 56),
    ("depthwise", "dw3 144 @56 /2", 144, 144, 3, 2, 144, 56),
    ("depthwise", "dw3 192 @28", 192, 192, 3, 1, 192, 28),
    ("depthwise", "dw3 576 @14", 576, 576, 3, 1, 576, 14),
    ("depthwise", "dw3 576 @14 /2", 576, 576, 3, 2, 576, 14),
    ("depthwise", "dw3 960 @7", 960, 960, 3, 1, 960, 7),
    ("depthwise", "dw5 240 @28", 240, 240, 5, 1, 240, 28),
    ("depthwise", "dw5 672 @14 /2", 672, 672, 5, 2, 672, 14),
    ("fc", "fc 1280->1000", 1280, 1000, 0, 0, 0, 1),
    ("fc", "fc 2048->1000", 2048, 1000, 0, 0, 0, 1),
]
FRAMEWORKS = ("ours", "ort", "torch")


def layer_module(cin: int, cout: int, kernel: int, stride: int, groups: int):
    import torch

    if kernel == 0:
        return torch.nn.Linear(cin, cout).eval()
    return torch.nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups).eval()


def bench_layer(spec, threads: int, isa: str, args, tmp: Path) -> dict:
    import torch

    import patdnn

    kind, name, cin, cout, kernel, stride, groups, size = spec
    torch.manual_seed(args.seed)
    module = layer_module(cin, cout, kernel, stride, groups)
    x = torch.randn(1, cin) if kernel == 0 else torch.randn(1, cin, size, size)
    with torch.inference_mode():
        reference = module(x).numpy()
    xn = x.numpy()
    ours = patdnn.compile(module, x, target=isa, threads=threads, outdir=tmp / name.replace(" ", "_").replace("/", "s"))
    session = common.ort_session(common.export_onnx(module, x), threads)

    def run_torch():
        with torch.inference_mode():
            return module(x).numpy()

    runners = {"ours": lambda: ours.run(xn), "ort": lambda: session.run(None, {"x": xn})[0], "torch": run_torch}
    checks = {fw: common.check_output(np.asarray(f()).reshape(reference.shape), reference) for fw, f in runners.items()}
    timed = common.interleaved(runners, args.runs, args.warmup, args.gap_ms / 1e3)
    flops = (
        2
        * sum(p.numel() for n, p in module.named_parameters() if n == "weight")
        * (1 if kernel == 0 else reference.shape[2] * reference.shape[3])
    )
    ms = {fw: timed[fw]["median_ms"] for fw in FRAMEWORKS}
    record = {"kind": kind, "layer": name, "threads": threads, "flops": flops, "ms": ms, "checks": checks}
    record["ort_over_ours"] = common.ratio(ms["ort"], ms["ours"])
    record["ours_gflops"] = flops / ms["ours"] / 1e6
    print(f"{name} {threads}T: " + " ".join(f"{fw} {ms[fw]:.3f}" for fw in FRAMEWORKS) + " ms", flush=True)
    return record


def markdown(result: dict) -> list[str]:
    head = ["layer", "threads", *(f"{fw} ms" for fw in FRAMEWORKS), "ort/ours", "ours GFLOP/s", "% of peak", "check"]
    rows = []
    for r in result["layers"]:
        peak_gflops = result["peak_gflops_per_core"].get(result["isa"])
        frac = r["ours_gflops"] / (peak_gflops * r["threads"]) if peak_gflops else None
        ok = all(c["ok"] for c in r["checks"].values())
        rows.append(
            [
                r["layer"],
                r["threads"],
                *(common.fmt(r["ms"][fw], 3) for fw in FRAMEWORKS),
                common.speedup_cell(r["ort_over_ours"]),
                common.fmt(r["ours_gflops"], 1),
                common.fmt(None if frac is None else 100 * frac, 1, "%"),
                "ok" if ok else "FAILED",
            ]
        )
    by_kind = {}
    for r in result["layers"]:
        by_kind.setdefault((r["kind"], r["threads"]), []).append(r["ort_over_ours"])
    summary = [
        [kind, t, len(v), f"{np.exp(np.mean(np.log(v))):.2f}x", f"{min(v):.2f}x", f"{max(v):.2f}x"]
        for (kind, t), v in by_kind.items()
    ]
    return [
        f"Ours: isa {result['isa']}; medians of {result['runs']} interleaved runs after {result['warmup']} warm-up; "
        "each layer compiled alone (bias, no activation). ort/ours > 1: ours faster.",
        common.markdown_table(head, rows),
        "## By kind (ort/ours: geometric mean, min, max)\n\n"
        + common.markdown_table(["kind", "threads", "layers", "geomean", "min", "max"], summary),
    ]


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=common.RESULTS_DIR)
    parser.add_argument("--threads", default="1")
    parser.add_argument("--only", default="", help="comma-separated kinds: stem, 1x1, depthwise, fc")
    common.add_timing_args(parser)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    kinds = set(args.only.split(",")) if args.only else {spec[0] for spec in LAYERS}
    threads_list = [int(t) for t in args.threads.split(",")]
    args.out.mkdir(parents=True, exist_ok=True)
    pk = peak.load_peak(args.out)
    peak_gflops = {isa: peak.peak_per_core(pk, isa) for isa in ("avx512", "avx2", "neon")}
    result = common.run_record("bench_dense", args, threads_list, peak_gflops_per_core=peak_gflops, layers=[])
    with tempfile.TemporaryDirectory(prefix="patdnn-bench-dense-") as tmp:
        for t in threads_list:
            common.set_torch_threads(t)
            for spec in (s for s in LAYERS if s[0] in kinds):
                result["layers"].append(bench_layer(spec, t, args.isa, args, Path(tmp)))
    result["load_end"] = common.loadavg()
    result["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    common.write_json(args.out / "dense.json", result)
    common.write_markdown(
        args.out / "dense.md", "Dense layers one by one: ours vs ONNX Runtime (MLAS)", result, markdown(result)
    )
    return result


if __name__ == "__main__":
    main()
