"""The Cortex-A76 estimate (issue 17): VGG-16 and ResNet-50 pattern-pruned at PatDNN's rate, every
conv and linear estimated on one 2.84 GHz A76 core from the generated NEON code (patdnn.estimate:
llvm-mca-19 on the marked kernel loops x the compiler's trip counts, plus a stated memory model).
Not a measurement: no A76 runs here.

    python3 benchmarks/bench_neon.py [--models vgg16,resnet50] [--size 224] [--out DIR]
    python3 benchmarks/bench_neon.py --quick --out /tmp/b      # ResNet-18 at 64x64 (smoke test)

Needs aarch64-linux-gnu-gcc and llvm-mca-19 (.ci/setup installs both). Writes OUT/neon.json and
OUT/neon.md (per layer: estimated cycles, ms, what bounds it, fraction of the 16 FLOP/cycle FMA bound).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(HERE.parent))

from benchmarks import common  # noqa: E402

MODELS = ("vgg16", "resnet50")


def model_layers(name: str, size: int, seed: int) -> tuple[list[dict], dict]:
    """The model's convs and linears in execution order ({name, module, in, out}) and its patterns:
    `one_shot_pattern_prune` at PatDNN's rate (8 patterns x 4 entries, connectivity 3.6x; the
    image-reading first conv stays dense, as in PatDNN)."""
    import torch

    from patdnn.models import get_model
    from patdnn.prune import one_shot_pattern_prune

    torch.manual_seed(seed)
    model = get_model(name).eval()
    patterns = one_shot_pattern_prune(model, num_patterns=8, connectivity=3.6)
    layers, handles = [], []
    for layer_name, module in model.named_modules():
        if isinstance(module, (torch.nn.Conv2d, torch.nn.Linear)):

            def hook(mod, inp, out, layer_name=layer_name):
                layers.append({"name": layer_name, "module": mod, "in": tuple(inp[0].shape), "out": tuple(out.shape)})

            handles.append(module.register_forward_hook(hook))
    with torch.inference_mode():
        model(torch.randn(1, 3, size, size))
    for h in handles:
        h.remove()
    return layers, patterns


def estimate_layer(layer: dict, patterns: dict):
    import torch

    from patdnn.estimate import estimate_dense_conv, estimate_linear, estimate_pattern_conv

    m, name = layer["module"], layer["name"]
    if isinstance(m, torch.nn.Linear):
        return estimate_linear(name, m.in_features, m.out_features, layer["in"][0])
    if name in patterns:
        library, ids = patterns[name]
        return estimate_pattern_conv(
            name, m.weight.detach().numpy(), ids, library, layer["in"], m.stride[0], m.padding[0]
        )
    return estimate_dense_conv(
        name, m.out_channels, m.in_channels, m.kernel_size, m.groups, layer["out"][2:], layer["in"][2:], layer["in"][0]
    )


def totals(records: list[dict], kinds: tuple[str, ...]) -> dict:
    from patdnn.estimate import CORE

    rows = [r for r in records if r["kind"] in kinds]
    cycles = sum(r["cycles"] for r in rows)
    flops = sum(r["flops"] for r in rows)
    return {
        "layers": len(rows),
        "cycles": cycles,
        "ms": CORE.ms(cycles),
        "flops": flops,
        "fraction_of_fma_bound": flops / CORE.flops_per_cycle / cycles if cycles else None,
    }


def bench_model(name: str, size: int, seed: int) -> dict:
    layers, patterns = model_layers(name, size, seed)
    records = []
    for layer in layers:
        start = time.perf_counter()
        rec = estimate_layer(layer, patterns).record()
        rec["input"], rec["output"], rec["estimate_s"] = (
            list(layer["in"]),
            list(layer["out"]),
            time.perf_counter() - start,
        )
        records.append(rec)
        print(
            f"{name} {rec['name']}: {rec['kind']}, {rec['ms']:.3f} ms ({rec['bound_by']}), "
            f"{100 * rec['fraction_of_fma_bound']:.0f}% of the FMA bound",
            flush=True,
        )
    return {
        "model": name,
        "input": [1, 3, size, size],
        "layers": records,
        "totals": {
            "pattern convs": totals(records, ("pattern conv",)),
            "convs": totals(records, ("pattern conv", "dense conv")),
            "all (convs + linears)": totals(records, ("pattern conv", "dense conv", "linear")),
        },
    }


def markdown(result: dict) -> list[str]:
    from patdnn.estimate import CORE

    head = [
        "layer",
        "kind",
        "in → out",
        "MFLOP (non-zero)",
        "compute Mcycles",
        "memory Mcycles",
        "copy Mcycles",
        "est. ms",
        "bound by",
        "% of FMA bound",
        "mca cycles/iter (loops)",
    ]
    sections = [
        f"Estimated on one Cortex-A76 at {CORE.ghz} GHz (llvm-mca-19, -mcpu=neoverse-n1), not measured. "
        f"Memory model: L1d {CORE.l1d_bytes // 1024} KB, L2 {CORE.l2_bytes // 1024} KB at "
        f"{CORE.l2_bytes_per_cycle} B/cycle, DRAM {CORE.dram_bytes_per_cycle} B/cycle; "
        f"FMA bound {CORE.flops_per_cycle} FLOP/cycle. Pruning: 8 patterns x 4 entries, connectivity 3.6x, "
        "first conv dense. See patdnn/estimate/__init__.py and docs/benchmarks.md for the model and its limits."
    ]
    for m in result["models"]:
        rows = []
        for r in m["layers"]:
            loops = r["loops"].values()
            per_iter = sorted(v.get("cycles_per_iter", v.get("cycles_per_step", 0)) for v in loops)
            rows.append(
                [
                    r["name"],
                    r["kind"],
                    f"{'x'.join(map(str, r['input'][1:]))} → {'x'.join(map(str, r['output'][1:]))}",
                    f"{r['flops'] / 1e6:.1f}",
                    f"{r['compute_cycles'] / 1e6:.2f}",
                    f"{r['memory_cycles'] / 1e6:.2f}",
                    f"{r['extra_cycles'] / 1e6:.2f}",
                    f"{r['ms']:.3f}",
                    r["bound_by"],
                    f"{100 * r['fraction_of_fma_bound']:.0f}%",
                    f"{per_iter[0]:.1f}–{per_iter[-1]:.1f} ({len(per_iter)})" if per_iter else "—",
                ]
            )
        for label, tot in m["totals"].items():
            frac = tot["fraction_of_fma_bound"]
            rows.append(
                [
                    f"**{label}**",
                    f"{tot['layers']} layers",
                    "",
                    f"{tot['flops'] / 1e6:.1f}",
                    "",
                    "",
                    "",
                    f"**{tot['ms']:.2f}**",
                    "",
                    "—" if frac is None else f"{100 * frac:.0f}%",
                    "",
                ]
            )
        sections.append(f"## {m['model']} at {'x'.join(map(str, m['input']))}\n\n" + common.markdown_table(head, rows))
    return sections


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=common.RESULTS_DIR)
    parser.add_argument("--models", default=",".join(MODELS), help="any of patdnn.models.MODELS with 3x3 convs")
    parser.add_argument("--size", type=int, default=224, help="input height = width")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="ResNet-18 at 64x64 (smoke test)")
    args = parser.parse_args(argv)
    from patdnn.estimate import CORE, estimate_problem

    problem = estimate_problem()
    if problem:
        parser.exit(1, f"bench_neon.py: cannot estimate: {problem}\n")
    models, size = (["resnet18"], 64) if args.quick else (args.models.split(","), args.size)
    args.out.mkdir(parents=True, exist_ok=True)
    result = {
        "script": "bench_neon",
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "core": dataclasses.asdict(CORE),
        "seed": args.seed,
        "models": [bench_model(name, size, args.seed) for name in models],
        "finished": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    common.write_json(args.out / "neon.json", result)
    text = ["# Cortex-A76 estimate: pattern-pruned models, instruction level (llvm-mca)", *markdown(result)]
    (args.out / "neon.md").write_text("\n\n".join(text) + "\n")
    return result


if __name__ == "__main__":
    main()
