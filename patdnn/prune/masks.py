"""Masks for hard-pruned models: keep pruned weights at zero through retraining.

Zeroing the weights once is not enough: the gradient, momentum and weight decay of a pruned
weight would regrow it. A `MaskEnforcer` masks the gradient (a tensor hook, so DDP's averaged
gradient is masked too), and after every optimizer step re-zeroes the weights and every
optimizer state tensor of the weight's shape (momentum, Adam moments).
"""

from __future__ import annotations

import numpy as np
import torch

from patdnn.sparsity.patterns import PatternInfo, apply_patterns


def pattern_masks(patterns: dict[str, PatternInfo]) -> dict[str, torch.Tensor]:
    """{conv name: (Cout, Cin, 3, 3) float 0/1 mask} from the pruner's (library, ids)."""
    masks = {}
    for name, (library, ids) in patterns.items():
        ones = np.ones((*ids.shape, *library.shape[1:]), dtype=np.float32)
        masks[name] = torch.from_numpy(apply_patterns(ones, ids, library))
    return masks


def mask_violations(model: torch.nn.Module, masks: dict[str, torch.Tensor]) -> int:
    """How many weights outside the masks are non-zero (0 when the masks hold)."""
    modules = dict(model.named_modules())
    return sum(int(((modules[name].weight.detach().cpu() != 0) & (mask == 0)).sum()) for name, mask in masks.items())


class MaskEnforcer:
    """Keeps `model`'s masked convs pruned; call `after_step(optimizer)` after each step."""

    def __init__(self, model: torch.nn.Module, masks: dict[str, torch.Tensor]):
        modules = dict(model.named_modules())
        self.weights = {name: modules[name].weight for name in masks}
        self.masks = {name: mask.to(self.weights[name].device) for name, mask in masks.items()}
        self._hooks = [w.register_hook(lambda grad, m=self.masks[name]: grad * m) for name, w in self.weights.items()]
        self.apply_to_weights()

    @torch.no_grad()
    def apply_to_weights(self) -> None:
        for name, weight in self.weights.items():
            weight.mul_(self.masks[name])

    @torch.no_grad()
    def after_step(self, optimizer: torch.optim.Optimizer) -> None:
        self.apply_to_weights()
        for name, weight in self.weights.items():
            for value in optimizer.state.get(weight, {}).values():
                if isinstance(value, torch.Tensor) and value.shape == weight.shape:
                    value.mul_(self.masks[name])

    def remove(self) -> None:
        for hook in self._hooks:
            hook.remove()
        self._hooks = []
