"""NEON tile schedules by the Cortex-A76 estimate (issue 17): for each distinct pattern layer of
VGG-16 and ResNet-50 at PatDNN's rate, the rule's schedule (patdnn/tuning/rules.py) against the
auto-tuner's best when its objective is the estimate (patdnn.autotune, isa=neon), each with its
estimated ms on one A76 core. This is what the NEON rule table is checked against.

    python3 benchmarks/tune_neon.py [--models vgg16,resnet50] [--size 224] [--budget 120] [--out DIR]
    python3 benchmarks/tune_neon.py --quick --out /tmp/b     # ResNet-18 at 64x64 (smoke test)

Needs aarch64-linux-gnu-gcc and llvm-mca-19. Writes OUT/neon-tune.json and OUT/neon-tune.md; the
tuner's log goes to OUT/neon-tuning.json (a later run with the same OUT reuses it: delete it to
re-tune).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(HERE.parent))

from benchmarks import common  # noqa: E402
from benchmarks.bench_neon import MODELS, model_layers  # noqa: E402


def distinct_pattern_layers(models: list[str], size: int, seed: int) -> list[dict]:
    """One entry per distinct (shape, stride) pattern layer, with the models' layer names using it."""
    seen: dict[tuple, dict] = {}
    for name in models:
        layers, patterns = model_layers(name, size, seed)
        for layer in layers:
            if layer["name"] not in patterns:
                continue
            m = layer["module"]
            key = (layer["in"][1:], layer["out"][1:], m.stride[0])
            entry = seen.setdefault(key, {**layer, "patterns": patterns[layer["name"]], "used_by": []})
            entry["used_by"].append(f"{name}.{layer['name']}")
    return list(seen.values())


def tune_layer(layer: dict, budget: float, log: Path) -> dict:
    from patdnn.autotune import Autotuner
    from patdnn.dialects import pattern
    from patdnn.ir_builder import pattern_conv_module
    from patdnn.isa import get_isa
    from patdnn.tuning.log import TuningLog, layer_key
    from patdnn.tuning.rules import LayerShape, rule_schedule

    isa = get_isa("neon")
    library, ids = layer["patterns"]
    m = layer["module"]
    module = pattern_conv_module(m.weight.detach().numpy(), ids, library, layer["in"], m.stride[0], m.padding[0])
    conv = next(op for op in module.walk() if isinstance(op, pattern.Conv2dOp))
    rule = rule_schedule(LayerShape.of(conv), isa)
    start = time.perf_counter()
    best = Autotuner(isa, 1, budget, log).tune(conv, time.monotonic() + budget)
    entry = TuningLog.read(log).entries[layer_key(conv, isa, 1)]
    tried = {tuple(sorted(s.items())): ms for s, ms in entry["tried"]}
    rule_ms = tried[tuple(sorted(rule.as_dict().items()))]
    return {
        "used_by": layer["used_by"],
        "input": list(layer["in"]),
        "output": list(layer["out"]),
        "stride": m.stride[0],
        "rule": rule.as_dict(),
        "rule_ms": rule_ms,
        "tuned": best.as_dict(),
        "tuned_ms": entry["ms"],
        "candidates": len(entry["tried"]),
        "tune_s": time.perf_counter() - start,
    }


def _sched(s: dict) -> str:
    form = f", taps/{s['filter_group']}" if s["filter_group"] else ""
    return f"{s['tile_x']}x{s['tile_y']}, cb {s['channel_block']}{form}"


def markdown(rows: list[dict]) -> str:
    head = ["layer (used by)", "in → out", "rule schedule", "rule ms", "tuned schedule", "tuned ms", "rule / tuned"]
    table = [
        [
            f"{r['used_by'][0]}" + (f" (+{len(r['used_by']) - 1})" if len(r["used_by"]) > 1 else ""),
            f"{'x'.join(map(str, r['input'][1:]))} → {'x'.join(map(str, r['output'][1:]))}",
            _sched(r["rule"]),
            f"{r['rule_ms']:.3f}",
            _sched(r["tuned"]),
            f"{r['tuned_ms']:.3f}",
            f"{r['rule_ms'] / r['tuned_ms']:.3f}x",
        ]
        for r in rows
    ]
    total_rule, total_tuned = sum(r["rule_ms"] for r in rows), sum(r["tuned_ms"] for r in rows)
    table.append(["**all distinct layers**", "", "", f"{total_rule:.2f}", "", f"{total_tuned:.2f}", ""])
    return (
        "# NEON schedules: the rule against the tuner's best by the A76 estimate\n\n"
        "Estimated ms on one Cortex-A76 at 2.84 GHz (patdnn.estimate; llvm-mca-19 -mcpu=neoverse-n1), "
        "not measured. Schedule: tile_x x tile_y (output columns x rows per register tile), cb = "
        "channel block, taps/N = tap-list form with N-filter groups. Each distinct layer shape once.\n\n"
        + common.markdown_table(head, table)
        + "\n"
    )


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=common.RESULTS_DIR / "neon-a76")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--budget", type=float, default=120, help="tuning seconds per layer (default: 120)")
    parser.add_argument("--quick", action="store_true", help="ResNet-18 at 64x64 (smoke test)")
    args = parser.parse_args(argv)
    from patdnn.estimate import estimate_problem

    if problem := estimate_problem():
        parser.exit(1, f"tune_neon.py: cannot estimate: {problem}\n")
    models, size = (["resnet18"], 64) if args.quick else (args.models.split(","), args.size)
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for layer in distinct_pattern_layers(models, size, args.seed):
        rows.append(tune_layer(layer, args.budget, args.out / "neon-tuning.json"))
        r = rows[-1]
        print(f"{r['used_by'][0]}: rule {r['rule_ms']:.3f} ms, tuned {r['tuned_ms']:.3f} ms ({_sched(r['tuned'])})")
    common.write_json(
        args.out / "neon-tune.json", {"script": "tune_neon", "models": models, "size": size, "layers": rows}
    )
    (args.out / "neon-tune.md").write_text(markdown(rows))
    return rows


if __name__ == "__main__":
    main()
