"""Search-based scheme mapping (Gong et al.'s search-based method): per layer the scheme, block
size and rate minimising latency + λ · accuracy proxy under the overall weight-rate target.

Candidates per prunable layer (patdnn.sparsity.layers): dense; pattern at connectivity
1 / 1.5 / 2 / 2.5 / 3 / 3.6 / 4.5 / 6 (3x3 convs only; weight rate 2.25x-13.5x); block-punched
4x16 / 8x16 / 16x32 (clipped to the layer) at 1.5 / 2 / 3 / 4 / 6 / 8 / 12x. Layers that are not
prunable (image-reading first conv, depthwise) stay dense.

Per candidate:
* latency: patdnn.mapping.latency (the cost model, or measured single-layer compiles);
* accuracy proxy: the relative squared norm the one-shot projection removes,
  ||W - P(W)||² / ||W||² (0: nothing lost, 1: everything), from the model's own weights
  (a trained checkpoint makes this meaningful; random weights only rank structures), times the
  layer's sensitivity (default 1 for every layer; weights are normalised to sum to 1);
* kept weights: exact (patdnn.sparsity.layers.kept_weights).

Choice: minimise  Σ latency / (the prunable layers' dense latency)  +  λ · Σ sensitivity · proxy
subject to  kept weights ∈ [(1 - tolerance) · W / rate, W / rate]  (W: the prunable weights; the
lower bound keeps plans of different methods at the same compression). This is a multiple-choice
knapsack, solved exactly (up to a 1/4000 discretisation of the weight budget, rounded up, so the
target is always met) by dynamic programming over the budget: O(layers · candidates · 4000),
well under a second, deterministic (ties keep the earlier candidate). The Lagrangian/greedy
relaxation is not needed at these sizes and can miss the optimum between hull points.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from patdnn.mapping.latency import CostModel, MeasuredLatency
from patdnn.sparsity.layers import PATTERN_ENTRIES, LayerShape, kept_weights, model_layers, plan_rate
from patdnn.sparsity.patterns import extract_library
from patdnn.sparsity.plan import Plan
from patdnn.sparsity.scheme import Scheme, SchemeError, SchemeKind
from patdnn.toolchain import best_host_isa

PATTERN_CONNECTIVITY = (1.0, 1.5, 2.0, 2.5, 3.0, 3.6, 4.5, 6.0)
BLOCK_SIZES = ((4, 16), (8, 16), (16, 32))
BLOCK_RATES = (1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0)
BUDGET_UNITS = 4000


@dataclass
class Candidate:
    scheme: Scheme
    kept: int
    latency_ms: float
    source: str
    proxy: float
    objective: float = 0.0

    def as_dict(self) -> dict:
        d = asdict(self)
        d["scheme"] = str(self.scheme)
        return d


@dataclass
class SearchResult:
    plan: Plan
    layers: list[LayerShape]
    candidates: dict[str, list[Candidate]] = field(default_factory=dict)  # prunable layers only
    chosen: dict[str, Candidate] = field(default_factory=dict)  # every layer
    settings: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "settings": self.settings,
            "achieved_rate": plan_rate(self.layers, self.plan),
            "latency_ms": sum(c.latency_ms for c in self.chosen.values()),
            "layers": [
                {
                    "layer": layer.name,
                    "shape": layer.describe(),
                    "flops": layer.flops,
                    "choice": self.chosen[layer.name].as_dict(),
                    "candidates": [c.as_dict() for c in self.candidates.get(layer.name, [])],
                }
                for layer in self.layers
            ],
        }


def candidate_schemes(layer: LayerShape) -> list[Scheme]:
    if not layer.prunable:
        return [Scheme.dense()]
    schemes = [Scheme.dense()]
    if layer.is_3x3:
        schemes += [Scheme.pattern(c) for c in PATTERN_CONNECTIVITY]
    sizes = dict.fromkeys((min(r, layer.cout), min(c, layer.gemm_cols)) for r, c in BLOCK_SIZES)
    schemes += [Scheme.blocks(r, c, rate) for r, c in sizes for rate in BLOCK_RATES]
    return schemes


# --- accuracy proxy: the energy each projection keeps, vectorised over rates -----------------------


def _kept_count(size: int, rate: float) -> int:
    return max(1, min(size, int(round(size / rate))))


def _top_energy(norms: np.ndarray, rates: list[float]) -> np.ndarray:
    """norms (..., n): for each rate the summed energy of the round(n / rate) largest along the last axis."""
    n = norms.shape[-1]
    csum = np.cumsum(-np.sort(-norms, axis=-1), axis=-1)
    return np.array([csum[..., _kept_count(n, r) - 1].sum() for r in rates])


def block_kept_energy(matrix: np.ndarray, block: tuple[int, int], rates: list[float]) -> np.ndarray:
    """For each rate the squared norm block-punched pruning (patdnn.sparsity.block) keeps: each
    rows x cols block keeps its round(cols / rate) strongest columns."""
    rows, cols = block
    out, width = matrix.shape
    squares = np.square(matrix.astype(np.float64))
    blocks = -(-out // rows)
    padded = np.zeros((blocks * rows, width))
    padded[:out] = squares
    col_norms = padded.reshape(blocks, rows, width).sum(axis=1)  # (row blocks, width)
    full = width // cols * cols
    kept = _top_energy(col_norms[:, :full].reshape(blocks, -1, cols), rates) if full else np.zeros(len(rates))
    if full < width:  # the narrower last column block keeps round(its width / rate)
        kept = kept + _top_energy(col_norms[:, full:], rates)
    return kept


def pattern_kept_energy(weight: np.ndarray, library: np.ndarray, rates: list[float]) -> np.ndarray:
    """For each connectivity rate the squared norm pattern + connectivity pruning keeps."""
    energy = np.einsum("oikl,pkl->oip", weight.astype(np.float64) ** 2, library.astype(np.float64))
    return _top_energy(energy.max(axis=2).reshape(-1), rates)


def proxies(weight: np.ndarray, schemes: list[Scheme], library: np.ndarray | None) -> list[float]:
    """Relative squared norm removed, per scheme."""
    total = float(np.square(weight.astype(np.float64)).sum()) or 1.0
    result = {}
    pattern = [s for s in schemes if s.kind == SchemeKind.PATTERN]
    if pattern:
        for s, e in zip(pattern, pattern_kept_energy(weight, library, [s.rate for s in pattern])):
            result[s] = e
    for size in dict.fromkeys(s.block for s in schemes if s.kind == SchemeKind.BLOCK):
        group = [s for s in schemes if s.block == size]
        matrix = weight.reshape(weight.shape[0], -1)
        for s, e in zip(group, block_kept_energy(matrix, size, [s.rate for s in group])):
            result[s] = e
    return [0.0 if s.kind == SchemeKind.DENSE else max(0.0, 1.0 - result[s] / total) for s in schemes]


# --- the exact multiple-choice knapsack ----------------------------------------------------------------


def choose(costs: list[list[int]], objectives: list[list[float]], low: int, high: int) -> list[int]:
    """One candidate index per layer minimising the summed objective with the summed cost in
    [low, high] (integers). Raises SchemeError when no combination fits."""
    best = np.full(high + 1, np.inf)
    best[0] = 0.0
    picks = []
    for layer_costs, layer_objs in zip(costs, objectives):
        new = np.full(high + 1, np.inf)
        pick = np.full(high + 1, -1, dtype=np.int32)
        for i, (cost, obj) in enumerate(zip(layer_costs, layer_objs)):
            if cost > high:
                continue
            shifted = best[: high + 1 - cost] + obj
            better = shifted < new[cost:]
            new[cost:][better] = shifted[better]
            pick[cost:][better] = i
        best = new
        picks.append(pick)
    if not np.isfinite(best[low:]).any():
        raise SchemeError("no combination of the candidate schemes reaches the rate target")
    b = low + int(np.argmin(best[low:]))
    chosen = []
    for layer_costs, pick in zip(reversed(costs), reversed(picks)):
        i = int(pick[b])
        chosen.append(i)
        b -= layer_costs[i]
    return chosen[::-1]


# --- the search ------------------------------------------------------------------------------------------


def search(
    model: torch.nn.Module,
    input_shape: tuple[int, ...],
    rate: float,
    latency: str = "model",
    budget: float | None = None,
    progress: bool = True,
    log: str | Path | None = None,
    lam: float = 1.0,
    sensitivity: dict[str, float] | None = None,
    tolerance: float = 0.1,
    isa: str | None = None,
    threads: int = 1,
    latency_log: str | Path | None = None,
    layers: list[LayerShape] | None = None,
) -> SearchResult:
    """The search with everything it saw (see the module docstring); `search_plan` returns its plan.

    latency: "model" or "measured"; budget: seconds of measuring (then the model), None = no limit;
    log: write the candidates and choices as JSON there; lam: λ, the weight of the accuracy proxy."""
    if not rate >= 1.0:
        raise SchemeError(f"rate {rate} must be >= 1")
    if latency not in ("model", "measured"):
        raise SchemeError(f"latency must be 'model' or 'measured', got '{latency}'")
    isa = isa or best_host_isa()
    layers = layers if layers is not None else model_layers(model, input_shape)
    cost_model = CostModel(isa, threads)
    timer = MeasuredLatency(isa, threads, latency_log, model=cost_model) if latency == "measured" else None
    deadline = time.monotonic() + budget if budget is not None else None
    modules = dict(model.named_modules())
    library = _library(model, layers)
    sens = {layer.name: (sensitivity or {}).get(layer.name, 1.0) for layer in layers if layer.prunable}
    sens_total = sum(sens.values()) or 1.0

    def layer_latency(layer, scheme):
        if timer is None:
            return cost_model.latency_ms(layer, scheme), "model"
        return timer.latency(layer, scheme, deadline)

    result = SearchResult(
        {},
        layers,
        settings={
            "rate": rate,
            "lambda": lam,
            "latency": latency,
            "isa": isa,
            "threads": threads,
            "tolerance": tolerance,
            "budget_s": budget,
            "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        },
    )
    for layer in tqdm(layers, desc="scheme search", unit="layer", disable=None if progress else True):
        schemes = candidate_schemes(layer)
        weight = modules[layer.name].weight.detach().cpu().numpy()
        proxy = proxies(weight, schemes, library) if layer.prunable else [0.0]
        cands = [Candidate(s, kept_weights(layer, s), *layer_latency(layer, s), p) for s, p in zip(schemes, proxy)]
        if layer.prunable:
            result.candidates[layer.name] = cands
        else:
            result.chosen[layer.name] = cands[0]
    prunable = [layer for layer in layers if layer.prunable]
    dense_ms = sum(result.candidates[layer.name][0].latency_ms for layer in prunable) or 1.0
    total = sum(layer.weights for layer in prunable)
    unit = total / rate / BUDGET_UNITS
    costs, objectives = [], []
    for layer in prunable:
        for c in result.candidates[layer.name]:
            c.objective = c.latency_ms / dense_ms + lam * sens[layer.name] / sens_total * c.proxy
        costs.append([math.ceil(c.kept / unit - 1e-9) for c in result.candidates[layer.name]])
        objectives.append([c.objective for c in result.candidates[layer.name]])
    try:
        picks = choose(costs, objectives, int(BUDGET_UNITS * (1 - tolerance)), BUDGET_UNITS)
    except SchemeError:
        raise SchemeError(
            f"rate {rate}x is out of reach for the search's candidates (at most {max(BLOCK_RATES)}x per block layer)"
        ) from None
    for layer, i in zip(prunable, picks):
        result.chosen[layer.name] = result.candidates[layer.name][i]
    result.plan = {layer.name: result.chosen[layer.name].scheme for layer in layers}
    if log is not None:
        Path(log).parent.mkdir(parents=True, exist_ok=True)
        Path(log).write_text(json.dumps(result.as_dict(), indent=1) + "\n")
    return result


def search_plan(model: torch.nn.Module, input_shape: tuple[int, ...], rate: float, **options) -> Plan:
    """A plan for every conv/linear of `model` chosen by the search (module docstring), with
    ~`rate`x fewer weights over the prunable layers (between rate and rate / (1 - tolerance));
    `options`: those of `search`."""
    return search(model, input_shape, rate, **options).plan


def _library(model: torch.nn.Module, layers: list[LayerShape]) -> np.ndarray | None:
    """The model's 8 most frequent natural 4-entry patterns (as the one-shot pruner uses)."""
    if not any(layer.is_3x3 and layer.prunable for layer in layers):
        return None
    return extract_library(model, 8, PATTERN_ENTRIES)
