"""The pruning report: per-layer kept kernels, pattern histogram, compression, accuracies."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from patdnn.frontend.to_ir import PatternInfo


def layer_rows(model: torch.nn.Module, patterns: dict[str, PatternInfo]) -> list[dict[str, Any]]:
    """One row per pruned conv: shape, kernels kept, weights kept."""
    modules = dict(model.named_modules())
    rows = []
    for name, (library, ids) in patterns.items():
        weight = modules[name].weight
        kept = ids >= 0
        rows.append({
            "layer": name,
            "shape": list(weight.shape),
            "kernels": int(ids.size),
            "kept_kernels": int(kept.sum()),
            "weights": int(weight.numel()),
            "kept_weights": int(library[ids[kept]].sum()),
            "nonzero_weights": int((weight != 0).sum()),
        })
    return rows


def pattern_histogram(patterns: dict[str, PatternInfo]) -> list[int]:
    """How many kept kernels use each library pattern, over all pruned convs."""
    if not patterns:
        return []
    library = next(iter(patterns.values()))[0]
    counts = np.zeros(len(library), dtype=np.int64)
    for _, ids in patterns.values():
        counts += np.bincount(ids[ids >= 0].ravel(), minlength=len(library))
    return counts.tolist()


def build_report(model: torch.nn.Module, patterns: dict[str, PatternInfo], accuracy: dict[str, float],
                 settings: dict[str, Any], history: list[dict[str, Any]], wall_seconds: float) -> dict[str, Any]:
    """Everything a reader needs to judge the run, JSON-serialisable."""
    rows = layer_rows(model, patterns)
    library = next(iter(patterns.values()))[0] if patterns else np.zeros((0, 3, 3))
    pruned_weights = sum(r["weights"] for r in rows)
    kept_weights = sum(r["kept_weights"] for r in rows)
    kernels = sum(r["kernels"] for r in rows)
    kept_kernels = sum(r["kept_kernels"] for r in rows)
    params = sum(p.numel() for p in model.parameters())
    nonzero = sum(int((p != 0).sum()) for p in model.parameters())
    return {
        "settings": settings,
        "accuracy": accuracy,
        "accuracy_drop": accuracy.get("dense", float("nan")) - accuracy.get("pruned", float("nan")),
        "compression": {
            "connectivity_rate": kernels / max(kept_kernels, 1),
            "pruned_conv_rate": pruned_weights / max(kept_weights, 1),
            "model_rate": params / max(nonzero, 1),
            "pruned_conv_weights": pruned_weights, "kept_conv_weights": kept_weights,
            "parameters": params, "nonzero_parameters": nonzero,
        },
        "library": library.astype(int).tolist(),
        "pattern_histogram": pattern_histogram(patterns),
        "layers": rows,
        "history": history,
        "wall_seconds": wall_seconds,
    }


def _pattern_picture(pattern: list[list[int]]) -> str:
    return "/".join("".join("x" if v else "." for v in row) for row in pattern)


def format_report(report: dict[str, Any]) -> str:
    """A readable table of the report."""
    lines = [f"{'layer':<24} {'shape':<16} {'kernels kept':>14} {'weights kept':>16}"]
    for r in report["layers"]:
        shape = "x".join(map(str, r["shape"]))
        lines.append(f"{r['layer']:<24} {shape:<16} {r['kept_kernels']:>6}/{r['kernels']:<7} "
                     f"{r['kept_weights']:>7}/{r['weights']:<8}")
    c = report["compression"]
    lines += [
        "",
        f"connectivity: {c['connectivity_rate']:.2f}x fewer kernels; pruned 3x3 convs: "
        f"{c['pruned_conv_rate']:.2f}x fewer weights ({c['kept_conv_weights']}/{c['pruned_conv_weights']}); "
        f"whole model: {c['model_rate']:.2f}x ({c['nonzero_parameters']}/{c['parameters']} non-zero parameters)",
        "pattern histogram (kept kernels per library pattern):",
    ]
    for index, (pattern, count) in enumerate(zip(report["library"], report["pattern_histogram"])):
        lines.append(f"  {index:>2}  {_pattern_picture(pattern)}  {count}")
    lines.append("accuracy (top-1 %, test set): " + ", ".join(f"{k} {v:.2f}" for k, v in report["accuracy"].items()))
    lines.append(f"accuracy drop dense → pruned: {report['accuracy_drop']:+.2f} points")
    lines.append(f"wall time: {report['wall_seconds'] / 60:.1f} min")
    return "\n".join(lines)
