"""Hard pruning by plan: each layer projected onto its scheme's set, and the masks retraining keeps.

The projection is patdnn.sparsity.apply's. Pattern layers: PatDNN's one-shot step (best library
pattern per kernel, strongest kernels kept); their masks come from (library, ids). Block layers: `project_block`; their mask is the block
structure itself (`block_mask` of the weights at hard-pruning time), so a kept weight that happens
to be exactly zero may still train.
"""

from __future__ import annotations

import numpy as np
import torch

from patdnn.sparsity.apply import apply_plan
from patdnn.sparsity.block import block_mask, gemm_view
from patdnn.sparsity.patterns import PatternInfo
from patdnn.sparsity.plan import Plan
from patdnn.sparsity.scheme import Scheme, SchemeKind


def block_layer_mask(weight: np.ndarray, scheme: Scheme) -> np.ndarray:
    """The 0/1 mask (weight's shape) of the block scheme's projection of `weight`."""
    assert scheme.block is not None
    return block_mask(gemm_view(weight), scheme.block, scheme.rate, scheme.structure).reshape(weight.shape)


@torch.no_grad()
def hard_prune(
    model: torch.nn.Module, plan: Plan, library: np.ndarray | None
) -> tuple[dict[str, PatternInfo], dict[str, torch.Tensor]]:
    """Prunes `model` in place by `plan` (the one-shot projection of patdnn.sparsity.apply); returns
    ({pattern layer: (library, ids)}, {block layer: 0/1 float mask})."""
    if library is None and any(s.kind == SchemeKind.PATTERN for s in plan.values()):
        raise ValueError("pattern layers need a library")
    modules = dict(model.named_modules())
    block_masks = {  # from the weights before projection: the block structure, not the non-zeros
        name: torch.from_numpy(block_layer_mask(modules[name].weight.detach().cpu().numpy(), scheme))
        for name, scheme in plan.items()
        if scheme.kind == SchemeKind.BLOCK
    }
    return apply_plan(model, plan, library), block_masks
