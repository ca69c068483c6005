"""Hard pruning by plan: each layer projected onto its scheme's set, and the masks retraining keeps.

Pattern layers: PatDNN's one-shot step (best library pattern per kernel, strongest kernels kept);
their masks come from (library, ids). Block layers: `project_block`; their mask is the block
structure itself (`block_mask` of the weights at hard-pruning time), so a kept weight that happens
to be exactly zero may still train.
"""

from __future__ import annotations

import numpy as np
import torch

from patdnn.frontend.to_ir import PatternInfo
from patdnn.prune.oneshot import pattern_prune_conv
from patdnn.schemes.block import block_mask, gemm_view
from patdnn.schemes.plan import Plan
from patdnn.schemes.scheme import Scheme, SchemeKind


def block_layer_mask(weight: np.ndarray, scheme: Scheme) -> np.ndarray:
    """The 0/1 mask (weight's shape) of the block scheme's projection of `weight`."""
    assert scheme.block is not None
    return block_mask(gemm_view(weight), scheme.block, scheme.rate, scheme.structure).reshape(weight.shape)


@torch.no_grad()
def hard_prune(model: torch.nn.Module, plan: Plan, library: np.ndarray | None
               ) -> tuple[dict[str, PatternInfo], dict[str, torch.Tensor]]:
    """Prunes `model` in place by `plan`; returns ({pattern layer: (library, ids)},
    {block layer: 0/1 float mask})."""
    modules = dict(model.named_modules())
    patterns: dict[str, PatternInfo] = {}
    block_masks: dict[str, torch.Tensor] = {}
    for name, scheme in plan.items():
        layer = modules[name]
        if scheme.kind == SchemeKind.PATTERN:
            assert library is not None, "pattern layers need a library"
            patterns[name] = (library, pattern_prune_conv(layer, library, scheme.rate))
        elif scheme.kind == SchemeKind.BLOCK:
            mask = torch.from_numpy(block_layer_mask(layer.weight.detach().cpu().numpy(), scheme))
            layer.weight.mul_(mask.to(layer.weight.device))
            block_masks[name] = mask
    return patterns, block_masks
