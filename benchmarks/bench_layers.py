"""Per-layer benchmark: pattern-pruned 3x3 convs (ours) vs dense PyTorch, ONNX Runtime and ncnn
on the same masked weights, and DeepSparse on them (`deepsparse`, sparse kernels where it finds
zeros) and on the same layer with its zeros filled (`ds-dense`), interleaved in one run, at 1 and
2 threads; plus the ablation. DeepSparse runs in its own venv (benchmarks/setup_deepsparse.sh).

Layers: VGG-16's 13 3x3 convs at 224x224 and ResNet-50's 3x3 convs (torchvision v1.5: the
stride-2 3x3 opens stages 2-4), pruned at PatDNN's rate (8-pattern library, 4 entries,
connectivity 3.6x) by `patdnn.sparsity.patterns.random_pattern_layer`.

    python3 benchmarks/bench_layers.py [--threads 1,2] [--only vgg|resnet50] [--quick] [--out DIR]
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(HERE.parent))

from benchmarks import common, deepsparse_client, peak  # noqa: E402
from benchmarks.deepsparse_client import add_checked_engine, free_engines  # noqa: E402

FRAMEWORKS = ("ours", "torch", "ort", "ncnn", "deepsparse", "ds-dense")
CHANNEL_BLOCK_OFF = 100000  # more input channels than any layer: one block, i.e. no blocking


@dataclass(frozen=True)
class Layer:
    net: str
    name: str
    cin: int
    cout: int
    size: int  # input height = width
    stride: int = 1
    count: int = 1  # occurrences in the network (ResNet-50 repeats its 3x3 shapes)
    dense_in_patdnn: bool = False  # PatDNN leaves the image-reading first layer dense

    @property
    def out_size(self) -> int:
        return (self.size + 2 - 3) // self.stride + 1

    @property
    def dense_flops(self) -> int:
        return 2 * self.cout * self.cin * 9 * self.out_size**2


def vgg16_layers() -> list[Layer]:
    chans = [3, 64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512]
    sizes = [224, 224, 112, 112, 56, 56, 56, 28, 28, 28, 14, 14, 14]
    return [
        Layer("vgg16", f"conv{i + 1}", chans[i], chans[i + 1], sizes[i], dense_in_patdnn=(i == 0)) for i in range(13)
    ]


def resnet50_layers() -> list[Layer]:
    out = []
    for stage, (width, size, blocks) in enumerate([(64, 56, 3), (128, 28, 4), (256, 14, 6), (512, 7, 3)], 1):
        if stage > 1:  # v1.5: the first block's 3x3 has the stride and reads the previous stage's size
            out.append(Layer("resnet50", f"layer{stage}.0.conv2", width, width, size * 2, 2))
        out.append(Layer("resnet50", f"layer{stage}.conv2", width, width, size, 1, blocks - (stage > 1)))
    return out


def quick_layers() -> list[Layer]:
    return [layer for layer in resnet50_layers() if layer.name in ("layer3.conv2", "layer4.conv2")]


# --- ours ----------------------------------------------------------------------------------------


def variant_pipelines(isa: str, threads: int) -> dict[str, tuple[str, tuple]]:
    """Ablation: {variant: (isa, pipeline)} — the default pipeline with one optimization off."""
    from patdnn.isa import get_isa
    from patdnn.pipeline import default_pipeline, replace_pass, without_pass
    from patdnn.target import Target

    full = default_pipeline(Target(isa=isa, threads=threads))
    variants = {
        "full": (isa, full),
        "no load-elim": (isa, without_pass(full, "load-elim")),
        "no filter-kernel-reorder": (isa, without_pass(full, "filter-kernel-reorder")),
        "no tile-tune": (
            isa,
            replace_pass(
                full,
                name="tile-tune",
                threads=1,
                tile_x=get_isa(isa).vector_width,
                tile_y=1,
                filter_group=0,
                channel_block=CHANNEL_BLOCK_OFF,
            ),
        ),
        "no tap lists": (isa, replace_pass(full, name="tile-tune", filter_group=0)),
        "no channel blocking": (
            isa,
            replace_pass(full, name="tile-tune", channel_block=CHANNEL_BLOCK_OFF, filter_group=0),
        ),
    }
    for other in ("avx2", "neon"):
        if other != isa:
            variants[f"{other} ({'SIMDe, 4 lanes' if other == 'neon' else '8 lanes'})"] = (
                other,
                default_pipeline(Target(isa=other, threads=threads)),
            )
    return variants


def build_ours(layer: Layer, weight, ids, library, isa: str, pipeline, threads: int, workdir: Path):
    from patdnn.build import build_host_library
    from patdnn.ir_builder import pattern_conv_module
    from patdnn.runners import HostModel

    in_shape = (1, layer.cin, layer.size, layer.size)
    module = pattern_conv_module(weight, ids, library, in_shape, layer.stride, 1, blob_path=workdir / "model.weights")
    lib = build_host_library(module, workdir, isa, pipeline)
    return HostModel(lib, workdir, in_shape, (1, layer.cout, layer.out_size, layer.out_size), threads)


# --- dense baselines on the same masked weights ---------------------------------------------------


def onnx_conv(weight: np.ndarray, stride: int, size: int | None = None) -> bytes:
    """One Conv (no bias); input height/width `size` (None: dynamic, as ORT has always been given;
    DeepSparse compiles for static shapes)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    cout, cin = weight.shape[:2]
    node = helper.make_node("Conv", ["x", "w"], ["y"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[stride] * 2)
    out_size = None if size is None else (size + 2 - 3) // stride + 1
    graph = helper.make_graph(
        [node],
        "conv",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, cin, size, size])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, cout, out_size, out_size])],
        [numpy_helper.from_array(weight, "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8  # widely supported by ORT builds
    onnx.checker.check_model(model)
    return model.SerializeToString()


def ncnn_conv(weight: np.ndarray, layer: Layer) -> tuple[str, bytes]:
    """A one-layer ncnn model: Input + Convolution (no bias). The weight blob of a Convolution
    starts with a 4-byte tag (0 = raw float32) followed by the (Cout, Cin, 3, 3) weights."""
    param = (
        "7767517\n2 2\n"
        f"Input in0 0 1 in0 0={layer.size} 1={layer.size} 2={layer.cin}\n"
        f"Convolution conv0 1 1 in0 out0 0={layer.cout} 1=3 3={layer.stride} 4=1 5=0 6={weight.size}\n"
    )
    return param, np.zeros(1, np.uint32).tobytes() + np.ascontiguousarray(weight, np.float32).tobytes()


def baselines(layer: Layer, weight: np.ndarray, threads: int, workdir: Path) -> tuple[dict, dict]:
    """({framework: x -> y}, {framework: why it is missing})."""
    import torch
    import torch.nn.functional as F

    runners, missing = {}, {}
    wt = torch.from_numpy(weight)

    def run_torch(x):
        with torch.inference_mode():
            return F.conv2d(torch.from_numpy(x), wt, stride=layer.stride, padding=1).numpy()

    runners["torch"] = run_torch
    try:
        sess = common.ort_session(onnx_conv(weight, layer.stride), threads)
        runners["ort"] = lambda x: sess.run(None, {"x": x})[0]
    except Exception as e:  # noqa: BLE001 - a missing baseline is reported, not fatal
        missing["ort"] = f"{type(e).__name__}: {e}"
    try:
        param, blob = ncnn_conv(weight, layer)
        (workdir / "conv.param").write_text(param)
        (workdir / "conv.bin").write_bytes(blob)
        net = common.ncnn_net(workdir / "conv.param", workdir / "conv.bin", threads)
        runners["ncnn"] = common.ncnn_runner(net, "in0", "out0")
    except Exception as e:  # noqa: BLE001
        missing["ncnn"] = f"{type(e).__name__}: {e}"
    return runners, missing


def deepsparse_engines(layer: Layer, weight: np.ndarray, x, reference, threads: int, rng, record: dict) -> dict:
    """DeepSparse on the masked weights (`deepsparse`) and on the same layer with its zeros filled
    by random values (`ds-dense`: what the sparsity buys DeepSparse), each checked against torch."""
    import torch
    import torch.nn.functional as F

    engines: dict = {}
    add_checked_engine(
        engines, record["missing"], record["checks"], "deepsparse",
        onnx_conv(weight, layer.stride, layer.size), x, threads, reference, common.REL_TOL,
    )  # fmt: skip
    if "deepsparse" in engines or "deepsparse" in record["checks"]:  # the worker runs: the dense twin too
        filled = np.where(weight != 0, weight, rng.standard_normal(weight.shape).astype(np.float32))
        with torch.inference_mode():
            dense_ref = F.conv2d(torch.from_numpy(x), torch.from_numpy(filled), stride=layer.stride, padding=1).numpy()
        add_checked_engine(
            engines, record["missing"], record["checks"], "ds-dense",
            onnx_conv(filled, layer.stride, layer.size), x, threads, dense_ref, common.REL_TOL,
        )  # fmt: skip
    else:
        record["missing"]["ds-dense"] = record["missing"]["deepsparse"]
    return engines


# --- one layer ---------------------------------------------------------------------------------


def bench_layer(layer: Layer, threads: int, isa: str, args, peak_gflops: dict, ablate: bool) -> dict:
    from patdnn.sparsity.patterns import random_pattern_layer

    seed = zlib.crc32(f"{layer.net}/{layer.name}".encode()) if args.seed is None else args.seed
    rng = np.random.default_rng(seed)  # same weights in every run (str hash() is salted per process)
    weight, ids, library = random_pattern_layer(rng, layer.cout, layer.cin, num_patterns=8, connectivity=3.6)
    kept = int(library[ids[ids >= 0]].sum())  # kept weights: 4 per kept kernel
    nonzero_flops = 2 * kept * layer.out_size**2
    x = rng.standard_normal((1, layer.cin, layer.size, layer.size)).astype(np.float32)
    common.set_torch_threads(threads)
    record = {
        **asdict(layer),
        "threads": threads,
        "isa": isa,
        "kept_weights": kept,
        "dense_weights": int(weight.size),
        "kept_kernels": int((ids >= 0).sum()),
        "nonzero_flops": nonzero_flops,
        "dense_flops": layer.dense_flops,
        "checks": {},
    }
    with tempfile.TemporaryDirectory(prefix="patdnn-bench-") as tmp:
        runners, missing = baselines(layer, weight, threads, Path(tmp))
        record["missing"] = missing
        reference = runners["torch"](x)
        variants = variant_pipelines(isa, threads)
        if not ablate:
            variants = {"full": variants["full"]}
        models = {}
        for name, (v_isa, pipeline) in variants.items():
            workdir = Path(tmp) / re.sub(r"\W+", "_", name)
            try:
                model = build_ours(layer, weight, ids, library, v_isa, pipeline, threads, workdir)
            except Exception as e:  # noqa: BLE001 - report a failed build, keep benchmarking
                record["checks"][f"ours:{name}"] = {"ok": False, "why": f"{type(e).__name__}: {e}"}
                continue
            check = common.check_output(model.run(x), reference)  # correctness before any timing
            record["checks"][f"ours:{name}"] = check
            if check["ok"]:
                models[name] = model
        for name in ("ort", "ncnn"):
            if name in runners:
                record["checks"][name] = check = common.check_output(runners[name](x), reference)
                if not check["ok"]:
                    missing[name] = f"output differs from torch (rel err {check.get('rel_err')})"
                    del runners[name]
        record["ours_ok"] = record["checks"]["ours:full"]["ok"]
        engines = deepsparse_engines(layer, weight, x, reference, threads, rng, record)

        # Main comparison: ours (full pipeline) and the dense frameworks, interleaved.
        fns = {name: (lambda f=f: f(x)) for name, f in runners.items()} | engines
        if "full" in models:
            fns = {"ours": lambda m=models["full"]: m.run(x), **fns}
        timed = common.interleaved(fns, args.runs, args.warmup, args.gap_ms / 1e3)
        record["ms"] = {fw: timed[fw]["median_ms"] if fw in timed else None for fw in FRAMEWORKS}
        record["runs_ms"] = {fw: t["runs_ms"] for fw, t in timed.items()}

        if ablate and models:  # ours with each optimization off, interleaved among themselves
            timed = common.interleaved(
                {n: (lambda m=m: m.run(x)) for n, m in models.items()}, args.runs, args.warmup, args.gap_ms / 1e3
            )
            record["ablation_ms"] = {n: timed[n]["median_ms"] if n in timed else None for n in variants}
            record["ablation_isa"] = {n: v_isa for n, (v_isa, _) in variants.items()}
        free_engines(engines)
    add_derived(record, peak_gflops)
    return record


def add_derived(record: dict, peak_gflops: dict) -> None:
    ms = record["ms"]
    record["ratio_vs_ours"] = {fw: common.ratio(ms.get(fw), ms.get("ours")) for fw in FRAMEWORKS[1:]}
    record["ours_gflops"] = record["nonzero_flops"] / ms["ours"] / 1e6 if ms.get("ours") else None
    peak_here = peak_gflops.get(record["isa"])
    record["peak_gflops"] = peak_here * record["threads"] if peak_here else None
    record["ours_frac_peak"] = common.ratio(record["ours_gflops"], record["peak_gflops"])
    record["torch_dense_gflops"] = record["dense_flops"] / ms["torch"] / 1e6 if ms.get("torch") else None


# --- totals and outputs --------------------------------------------------------------------------


def totals(records: list[dict], threads: int, net: str, with_first: bool) -> dict | None:
    rows = [
        r for r in records if r["threads"] == threads and r["net"] == net and (with_first or not r["dense_in_patdnn"])
    ]
    if not rows:
        return None
    out = {"threads": threads, "net": net, "with_first_layer": with_first, "layers": len(rows), "ms": {}}
    for fw in FRAMEWORKS:
        vals = [r["ms"].get(fw) for r in rows]
        out["ms"][fw] = None if any(v is None for v in vals) else sum(v * r["count"] for v, r in zip(vals, rows))
    out["ratio_vs_ours"] = {fw: common.ratio(out["ms"][fw], out["ms"]["ours"]) for fw in FRAMEWORKS[1:]}
    flops = sum(r["nonzero_flops"] * r["count"] for r in rows)
    out["ours_gflops"] = flops / out["ms"]["ours"] / 1e6 if out["ms"]["ours"] else None
    peak_all = rows[0]["peak_gflops"]
    out["ours_frac_peak"] = common.ratio(out["ours_gflops"], peak_all)
    ablated = [r for r in rows if "ablation_ms" in r]
    if ablated:  # over the layers that have an ablation (all of VGG's; one in --quick)
        abl = {n: [r["ablation_ms"].get(n) for r in ablated] for n in ablated[0]["ablation_ms"]}
        out["ablation_ms"] = {n: None if any(v is None for v in vs) else sum(vs) for n, vs in abl.items()}
        out["ablation_layers"] = len(ablated)
    return out


def markdown(result: dict) -> list[str]:
    sections = []
    head = [
        "layer",
        "Cin→Cout @ HxW /s",
        *(f"{fw} ms" for fw in FRAMEWORKS),
        *(f"{fw}/ours" for fw in FRAMEWORKS[1:]),
        "ours GFLOP/s (non-zero)",
        "% of peak",
        "torch dense GFLOP/s",
        "check (rel err)",
    ]
    for t in result["threads"]:
        rows = []
        for r in (r for r in result["layers"] if r["threads"] == t):
            ms, rat = r["ms"], r["ratio_vs_ours"]
            name = (
                f"{r['net']} {r['name']}"
                + (" (dense in PatDNN)" if r["dense_in_patdnn"] else "")
                + (f" ×{r['count']}" if r["count"] > 1 else "")
            )
            main = {k: c for k, c in r["checks"].items() if k == "ours:full" or not k.startswith("ours:")}
            check = common.check_cell(r["ours_ok"], main)  # the ablation variants' checks are in the JSON
            rows.append(
                [
                    name,
                    f"{r['cin']}→{r['cout']} @ {r['size']} /{r['stride']}",
                    *(common.fmt(ms[fw], 3) for fw in FRAMEWORKS),
                    *(common.speedup_cell(rat[fw]) for fw in FRAMEWORKS[1:]),
                    common.fmt(r["ours_gflops"], 1),
                    common.fmt(None if r["ours_frac_peak"] is None else 100 * r["ours_frac_peak"], 1, "%"),
                    common.fmt(r["torch_dense_gflops"], 1),
                    check,
                ]
            )
        for tot in (x for x in result["totals"] if x["threads"] == t):
            label = f"**{tot['net']} 3x3 layers together" + (
                "" if tot["net"] != "vgg16" else (", with conv1" if tot["with_first_layer"] else ", without conv1")
            )
            label += " (×count)**" if tot["net"] == "resnet50" else "**"
            rows.append(
                [
                    label,
                    f"{tot['layers']} layers",
                    *(common.fmt(tot["ms"][fw], 2) for fw in FRAMEWORKS),
                    *(common.speedup_cell(tot["ratio_vs_ours"][fw]) for fw in FRAMEWORKS[1:]),
                    common.fmt(tot["ours_gflops"], 1),
                    common.fmt(None if tot["ours_frac_peak"] is None else 100 * tot["ours_frac_peak"], 1, "%"),
                    "",
                    "",
                ]
            )
        sections.append(
            f"## {t} thread{'s' if t > 1 else ''} (ours: isa {result['isa']}; medians of "
            f"{result['runs']} runs after {result['warmup']} warm-up)\n\n" + common.markdown_table(head, rows)
        )
    missing = {
        f"{r['net']} {r['name']} / {r['threads']}T: {fw}": why
        for r in result["layers"]
        for fw, why in r["missing"].items()
    }
    if missing:
        sections.append("## Not measured\n\n" + "\n".join(f"* {k}: {v}" for k, v in missing.items()))
    for t in result["threads"]:
        abl = [r for r in result["layers"] if r["threads"] == t and "ablation_ms" in r]
        if not abl:
            continue
        names = list(abl[0]["ablation_ms"])
        rows = [[f"{r['net']} {r['name']}", *(common.fmt(r["ablation_ms"][n], 3) for n in names)] for r in abl]
        for tot in (x for x in result["totals"] if x["threads"] == t and "ablation_ms" in x):
            full = tot["ablation_ms"].get("full")
            which = (
                f"{'with' if tot['with_first_layer'] else 'without'} conv1"
                if tot["net"] == "vgg16"
                else f"{tot['ablation_layers']} layer(s)"
            )
            rows.append(
                [f"**{tot['net']} together, {which} (ms)**", *(common.fmt(tot["ablation_ms"][n], 2) for n in names)]
            )
            rows.append(
                ["slowdown vs full", *(common.fmt(common.ratio(tot["ablation_ms"][n], full), 2, "x") for n in names)]
            )
        sections.append(
            f"## Ablation, {t} thread{'s' if t > 1 else ''}: ours with one optimization off (ms)\n\n"
            + common.markdown_table(["layer", *names], rows)
        )
    return sections


def plot(result: dict, path: Path) -> None:
    panels = []
    for t in result["threads"]:
        rows = [r for r in result["layers"] if r["threads"] == t]
        panels.append(
            {
                "title": f"speed-up of ours over each dense framework, {t} thread(s) (>1: ours faster)",
                "labels": [f"{r['net'][:3]} {r['name']}" for r in rows],
                "ylabel": "time(fw) / time(ours)",
                "series": {fw: [r["ratio_vs_ours"][fw] for r in rows] for fw in FRAMEWORKS[1:]},
                "hline": 1.0,
                "hline_label": "parity",
            }
        )
        abl = [r for r in rows if "ablation_ms" in r]
        if abl:
            names = [n for n in abl[0]["ablation_ms"] if n != "full"]
            panels.append(
                {
                    "title": f"ablation, {t} thread(s): slowdown with one optimization off (>1: it helps)",
                    "labels": [r["name"] for r in abl],
                    "ylabel": "time(variant) / time(full)",
                    "series": {
                        n: [common.ratio(r["ablation_ms"].get(n), r["ablation_ms"].get("full")) for r in abl]
                        for n in names
                    },
                    "hline": 1.0,
                }
            )
    common.plot_panels(path, panels)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=common.RESULTS_DIR)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--only", choices=["vgg", "resnet50"])
    parser.add_argument("--quick", action="store_true", help="2 small layers, 3 runs (smoke test)")
    parser.add_argument("--no-ablation", action="store_true")
    common.add_timing_args(parser)
    parser.add_argument("--seed", type=int, default=None, help="weights seed (default: per layer name)")
    args = parser.parse_args(argv)
    threads_list = [int(t) for t in args.threads.split(",")]
    if args.quick:
        layers, args.runs, args.warmup, args.gap_ms = quick_layers(), 3, 1, 2.0
    else:
        layers = {"vgg": vgg16_layers(), "resnet50": resnet50_layers()}.get(args.only) or (
            vgg16_layers() + resnet50_layers()
        )
    args.out.mkdir(parents=True, exist_ok=True)
    pk = peak.load_peak(args.out, reps=2 if args.quick else 7)
    peak_gflops = {isa: peak.peak_per_core(pk, isa) for isa in ("avx512", "avx2", "neon")}
    result = common.run_record(
        "bench_layers", args, threads_list, quick=args.quick, peak_gflops_per_core=peak_gflops, layers=[]
    )
    for layer in layers:
        for t in threads_list:
            # Ablation on VGG's layers (in --quick: on the first layer only, to exercise it).
            ablate = not args.no_ablation and (layer.net == "vgg16" or (args.quick and layer is layers[0]))
            rec = bench_layer(layer, t, args.isa, args, peak_gflops, ablate)
            result["layers"].append(rec)
            print(
                f"{layer.net} {layer.name} {t}T: "
                + " ".join(f"{fw} {common.fmt(rec['ms'][fw], 3)}" for fw in FRAMEWORKS)
                + f" ms; check "
                f"{'ok' if rec['ours_ok'] else 'FAILED'}",
                flush=True,
            )
    nets = list(dict.fromkeys(layer.net for layer in layers))
    result["totals"] = [
        tot
        for t in threads_list
        for net in nets
        for first in ((True, False) if net == "vgg16" else (True,))
        if (tot := totals(result["layers"], t, net, first))
    ]
    result["deepsparse"] = deepsparse_client.version()
    result["load_end"] = common.loadavg()
    result["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    common.write_json(args.out / "layers.json", result)
    common.write_markdown(
        args.out / "layers.md",
        "Per-layer benchmark: pattern-pruned 3x3 convs vs dense frameworks",
        result,
        [
            f"Peak (measured, per core): {peak_gflops}. Pruning: 8 patterns × 4 entries, "
            "connectivity 3.6x; baselines run the same masked weights densely, except DeepSparse "
            f"({result['deepsparse']}): `deepsparse` on the masked weights (its sparse kernels where it "
            "finds zeros), `ds-dense` on the layer with its zeros filled.",
            *markdown(result),
        ],
    )
    plot(result, args.out / "layers.png")
    return result


if __name__ == "__main__":
    main()
