"""The pruning report: per-layer scheme and kept weights, pattern histogram, compression, accuracies."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from patdnn.prune.planning import prunable_layers
from patdnn.sparsity.patterns import PatternInfo
from patdnn.sparsity.plan import Plan
from patdnn.sparsity.scheme import SchemeKind


def _row(name: str, scheme: str, weight: torch.Tensor, kept: int, kernels: np.ndarray | None) -> dict[str, Any]:
    """`kernels`: the (Cout, Cin) kept-kernel map of a conv (None for a linear layer)."""
    row: dict[str, Any] = {"layer": name, "scheme": scheme, "shape": list(weight.shape)}
    if kernels is not None:
        row.update(kernels=int(kernels.size), kept_kernels=int(kernels.sum()))
    row.update(
        weights=int(weight.numel()),
        kept_weights=kept,
        kept_fraction=round(kept / max(weight.numel(), 1), 6),
        nonzero_weights=int((weight != 0).sum()),
    )
    return row


def layer_rows(
    model: torch.nn.Module, plan: Plan, patterns: dict[str, PatternInfo], block_masks: dict[str, torch.Tensor]
) -> list[dict[str, Any]]:
    """One row per pruned layer: scheme, shape, kernels kept (convs), weights kept, kept fraction."""
    modules = dict(model.named_modules())
    rows = []
    for name, scheme in plan.items():
        weight = modules[name].weight.detach().cpu()
        if scheme.kind == SchemeKind.PATTERN:
            library, ids = patterns[name]
            kept = ids >= 0
            rows.append(_row(name, str(scheme), weight, int(library[ids[kept]].sum()), kept))
        elif scheme.kind == SchemeKind.BLOCK:
            mask = block_masks[name]
            kernels = mask.reshape(*mask.shape[:2], -1).any(dim=2).numpy() if mask.ndim == 4 else None
            rows.append(_row(name, str(scheme), weight, int(mask.sum()), kernels))
    return rows


def pattern_histogram(patterns: dict[str, PatternInfo]) -> list[int]:
    """How many kept kernels use each library pattern, over all pattern-pruned convs."""
    if not patterns:
        return []
    library = next(iter(patterns.values()))[0]
    counts = np.zeros(len(library), dtype=np.int64)
    for _, ids in patterns.values():
        counts += np.bincount(ids[ids >= 0].ravel(), minlength=len(library))
    return counts.tolist()


def build_report(
    model: torch.nn.Module,
    plan: Plan,
    patterns: dict[str, PatternInfo],
    block_masks: dict[str, torch.Tensor],
    accuracy: dict[str, float],
    settings: dict[str, Any],
    history: list[dict[str, Any]],
    wall_seconds: float,
) -> dict[str, Any]:
    """Everything a reader needs to judge the run, JSON-serialisable."""
    modules = dict(model.named_modules())
    rows = layer_rows(model, plan, patterns, block_masks)
    pattern_rows = [r for r in rows if r["scheme"].startswith("pattern")]
    library = next(iter(patterns.values()))[0] if patterns else np.zeros((0, 3, 3))
    plan_weights = sum(modules[name].weight.numel() for name in prunable_layers(model))
    pruned_weights, kept_weights = sum(r["weights"] for r in rows), sum(r["kept_weights"] for r in rows)
    conv_weights, kept_conv = sum(r["weights"] for r in pattern_rows), sum(r["kept_weights"] for r in pattern_rows)
    kernels, kept_kernels = sum(r["kernels"] for r in pattern_rows), sum(r["kept_kernels"] for r in pattern_rows)
    params = sum(p.numel() for p in model.parameters())
    nonzero = sum(int((p != 0).sum()) for p in model.parameters())
    return {
        "settings": settings,
        "accuracy": accuracy,
        "accuracy_drop": accuracy.get("dense", float("nan")) - accuracy.get("pruned", float("nan")),
        "compression": {
            # over every prunable layer (`prunable_layers`; dense ones count in full): the figure
            # rule / search aim at with --rate
            "layers_rate": plan_weights / max(plan_weights - pruned_weights + kept_weights, 1),
            "layer_weights": plan_weights,
            "kept_layer_weights": plan_weights - pruned_weights + kept_weights,
            # over the pruned (non-dense) layers
            "pruned_layers_rate": pruned_weights / max(kept_weights, 1),
            "pruned_weights": pruned_weights,
            "kept_weights": kept_weights,
            # over the pattern-pruned 3x3 convs (PatDNN's figures)
            "connectivity_rate": kernels / max(kept_kernels, 1),
            "pruned_conv_rate": conv_weights / max(kept_conv, 1),
            "pruned_conv_weights": conv_weights,
            "kept_conv_weights": kept_conv,
            "parameters": params,
            "nonzero_parameters": nonzero,
            "model_rate": params / max(nonzero, 1),
        },
        "schemes": {name: str(scheme) for name, scheme in plan.items()},
        "library": library.astype(int).tolist(),
        "pattern_histogram": pattern_histogram(patterns),
        "layers": rows,
        "dense_layers": [name for name, scheme in plan.items() if scheme.kind == SchemeKind.DENSE],
        "history": history,
        "wall_seconds": wall_seconds,
    }


def _pattern_picture(pattern: list[list[int]]) -> str:
    return "/".join("".join("x" if v else "." for v in row) for row in pattern)


def format_report(report: dict[str, Any]) -> str:
    """A readable table of the report."""
    lines = [f"{'layer':<24} {'scheme':<20} {'shape':<16} {'kernels kept':>14} {'weights kept':>16} {'kept':>7}"]
    for r in report["layers"]:
        shape = "x".join(map(str, r["shape"]))
        kernels = f"{r['kept_kernels']:>6}/{r['kernels']:<7}" if "kernels" in r else f"{'-':>14}"
        lines.append(
            f"{r['layer']:<24} {r['scheme']:<20} {shape:<16} {kernels} "
            f"{r['kept_weights']:>7}/{r['weights']:<8} {100 * r['kept_fraction']:>6.2f}%"
        )
    c = report["compression"]
    dense = report["dense_layers"]
    lines += [
        "",
        f"dense layers ({len(dense)}): {', '.join(dense) if dense else 'none'}",
        f"pruned layers: {c['pruned_layers_rate']:.2f}x fewer weights ({c['kept_weights']}/{c['pruned_weights']}); "
        f"all prunable layers: {c['layers_rate']:.2f}x ({c['kept_layer_weights']}/{c['layer_weights']}); "
        f"whole model: {c['model_rate']:.2f}x ({c['nonzero_parameters']}/{c['parameters']} non-zero parameters)",
    ]
    if report["library"]:
        lines += [
            f"pattern convs: connectivity {c['connectivity_rate']:.2f}x fewer kernels, "
            f"{c['pruned_conv_rate']:.2f}x fewer weights ({c['kept_conv_weights']}/{c['pruned_conv_weights']})",
            "pattern histogram (kept kernels per library pattern):",
        ]
        for index, (pattern, count) in enumerate(zip(report["library"], report["pattern_histogram"])):
            lines.append(f"  {index:>2}  {_pattern_picture(pattern)}  {count}")
    lines.append("accuracy (top-1 %, test set): " + ", ".join(f"{k} {v:.2f}" for k, v in report["accuracy"].items()))
    lines.append(f"accuracy drop dense → pruned: {report['accuracy_drop']:+.2f} points")
    lines.append(f"wall time: {report['wall_seconds'] / 60:.1f} min")
    return "\n".join(lines)
