"""Rule-based scheme mapping (Gong et al.'s rule-based method): each layer's scheme, block size
and rate from its shape alone.

Rules, checked top to bottom (the first that matches decides; "share" = the layer's share of the
prunable layers' weights / FLOPs, see patdnn.sparsity.layers):

| # | layer                                              | scheme  | block (filters x columns)            | why |
|---|----------------------------------------------------|---------|--------------------------------------|-----|
| 1 | first conv reading the image (Cin <= 4)            | dense   | -                                    | few weights, accuracy-critical (PatDNN keeps it dense) |
| 2 | depthwise / grouped conv                           | dense   | -                                    | one input channel per filter: nothing to share, memory-bound |
| 3 | tiny: weight share < 0.5% and FLOPs share < 0.5%   | dense   | -                                    | nothing to gain in size or time, accuracy to lose |
| 4 | 3x3 conv, Cin and Cout >= 16, layer rate >= 2.25,  | pattern | -                                    | the pattern compiler's best case (4/9 kept per kernel); connectivity = rate * 4/9 |
|   | output width fills >= 75% of the vector lanes      |         |                                      | pattern kernels vectorise along output rows: a 7-wide output uses 7 of 16 AVX-512 lanes (block kernels vectorise over all pixels: 3x3 512->512 @7 ran 2.9x faster as 8x16 blocks, shared machine) |
| 5 | any other conv (1x1, 3x3 below rule 4) and FC      | block   | Cout >= 64: 8x16                      | our block kernel's best tile: 8 filters share each loaded input row |
|   |                                                    |         | otherwise: 4x16                       | few filters: small blocks keep the pruning fine-grained |

No 16x32: on the 7 ResNet-50 shapes measured (patdnn.mapping.latency), 16x32 blocks ran 10-20%
slower than 8x16 at the same rate (and they prune more coarsely); the search still tries them.

Rates: every pruned layer (rules 4-5) gets the same weight rate r, chosen so that the overall
compression over the prunable layers (dense ones from rule 3 included) is the requested rate.
A layer's rate is snapped to what its projection really keeps (a 16-column block keeps a whole
number of columns: 16/3 = 5.33x or 16/2 = 8x, never 6x); the layers are taken in order and each
gets the snapped rate nearest to what the remaining layers still need (pattern layers, whose
connectivity rate is fine-grained, come last), so the rounding error is carried forward and
the overall rate meets the target (within 5%, else SchemeError). Uniform rates are the rule
method's simplicity; the search (patdnn.mapping.search) trades rates between layers.
"""

from __future__ import annotations

import torch

from patdnn.mapping.latency import VECTOR_WIDTH, lane_use
from patdnn.sparsity.layers import PATTERN_ENTRIES, LayerShape, kept_weights, model_layers, plan_rate
from patdnn.sparsity.plan import Plan
from patdnn.sparsity.scheme import Scheme, SchemeError
from patdnn.toolchain import best_host_isa

TINY_SHARE = 0.005
PATTERN_MIN_CHANNELS = 16
PATTERN_MIN_LANE_USE = 0.75
PATTERN_MIN_RATE = 9 / PATTERN_ENTRIES  # pattern pruning alone keeps 4 of 9 weights
MAX_LAYER_RATE = 64.0


def block_size(layer: LayerShape) -> tuple[int, int]:
    """Rule 5's block size (filters x GEMM columns), clipped to the layer."""
    if layer.cout >= 64:
        rows, cols = 8, 16
    else:
        rows, cols = 4, 16
    return min(rows, layer.cout), min(cols, layer.gemm_cols)


def rule_kind(layer: LayerShape, total_weights: int, total_flops: int, vector_width: int = 16) -> str:
    """'dense', 'pattern' or 'block' by rules 1-5 (rule 4's rate condition is checked later)."""
    if not layer.prunable:  # rules 1 and 2
        return "dense"
    if layer.weights < TINY_SHARE * total_weights and layer.flops < TINY_SHARE * total_flops:
        return "dense"
    wide = lane_use(layer.out_hw[1], vector_width) >= PATTERN_MIN_LANE_USE
    if layer.is_3x3 and min(layer.cin, layer.cout) >= PATTERN_MIN_CHANNELS and wide:
        return "pattern"
    return "block"


def scheme_at_rate(layer: LayerShape, kind: str, rate: float) -> Scheme:
    """The scheme of `kind` whose real kept weights come closest to 1/rate of the layer's,
    rates rounded to 2 decimals (they are written into plans and LR files)."""
    if kind == "dense" or rate <= 1.0:
        return Scheme.dense()
    if kind == "pattern" and rate >= PATTERN_MIN_RATE:
        return Scheme.pattern(max(1.0, round(rate / PATTERN_MIN_RATE, 2)))
    rows, cols = block_size(layer)
    kept_cols = max(1, min(cols, round(cols / rate)))
    return Scheme.blocks(rows, cols, round(cols / kept_cols, 2))


def rule_plan(
    model: torch.nn.Module,
    input_shape: tuple[int, ...],
    rate: float,
    layers: list[LayerShape] | None = None,
    isa: str | None = None,
) -> Plan:
    """A plan for every conv/linear of `model` by the rules above, ~`rate`x fewer weights overall
    over the prunable layers (`isa`: the target's vector width for rule 4, default the best host
    ISA). Raises SchemeError when the rate cannot be reached."""
    if not rate >= 1.0:
        raise SchemeError(f"rate {rate} must be >= 1")
    layers = layers if layers is not None else model_layers(model, input_shape)
    prunable = [layer for layer in layers if layer.prunable]
    total_w = sum(layer.weights for layer in prunable)
    total_f = sum(layer.flops for layer in prunable)
    width = VECTOR_WIDTH.get(isa or best_host_isa(), 1)
    return uniform_plan(layers, {layer.name: rule_kind(layer, total_w, total_f, width) for layer in layers}, rate)


def uniform_plan(layers: list[LayerShape], kinds: dict[str, str], rate: float) -> Plan:
    """Every layer of kind 'pattern' / 'block' at one weight rate r (snapped per layer, see
    `scheme_at_rate`), r chosen so that the overall rate over the prunable layers is `rate`.
    Also builds the benchmark's single-scheme plans (all 'block', or 'pattern' on 3x3s)."""
    prunable = [layer for layer in layers if layer.prunable]
    total_w = sum(layer.weights for layer in prunable)
    pruned = [layer for layer in prunable if kinds[layer.name] != "dense"]
    dense_w = total_w - sum(layer.weights for layer in pruned)
    budget = total_w / rate
    if pruned and dense_w >= budget and rate > 1:
        raise SchemeError(
            f"rate {rate}x is out of reach: the layers kept dense already hold "
            f"{dense_w} of the {total_w} prunable weights"
        )
    # One rate for all, but a layer keeps whole columns (a 16-column block: 16/3 or 16/2, not 6x):
    # each layer takes the snapped rate nearest to what the layers left still need, so the
    # rounding error is carried forward (error diffusion) and the overall rate hits the target.
    plan: Plan = {layer.name: Scheme.dense() for layer in layers}
    left_weights, left_budget = sum(layer.weights for layer in pruned), budget - dense_w
    for layer in sorted(pruned, key=lambda layer: kinds[layer.name] == "pattern"):  # fine-grained rates last
        need = left_weights / left_budget if left_budget > 0 else MAX_LAYER_RATE
        plan[layer.name] = scheme_at_rate(layer, kinds[layer.name], min(max(need, 1.0), MAX_LAYER_RATE))
        left_weights -= layer.weights
        left_budget -= kept_weights(layer, plan[layer.name])
    achieved = plan_rate(layers, plan)
    if achieved < rate * 0.95:
        raise SchemeError(
            f"rate {rate}x is out of reach: the plan reaches {achieved:.2f}x "
            f"(a block keeps at least one column, the dense layers all of theirs)"
        )
    if achieved > rate * 1.05:  # few, narrow layers: the snapped per-layer rates overshoot
        raise SchemeError(
            f"rate {rate}x cannot be met within 5%: the layers' block rates snap to {achieved:.2f}x "
            f"overall (a block keeps whole columns; a slightly different --rate may land within 5%)"
        )
    return plan
