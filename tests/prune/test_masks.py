"""Masked retraining keeps pruned weights at zero (weights, gradients and optimizer state)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from patdnn.prune.masks import MaskEnforcer, mask_violations, pattern_masks
from patdnn.sparsity.patterns import random_pattern_layer


def _setup(seed: int = 0):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Conv2d(8, 6, 3, padding=1), torch.nn.ReLU(), torch.nn.Conv2d(6, 4, 3))
    _, ids, library = random_pattern_layer(np.random.default_rng(seed), 6, 8)
    return model, pattern_masks({"0": (library, ids)})


def _train(model, optimizer, steps, enforcer=None):
    for _ in range(steps):
        loss = model(torch.randn(4, 8, 6, 6)).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if enforcer is not None:
            enforcer.after_step(optimizer)


@pytest.mark.parametrize(
    "make_optimizer",
    [
        lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=1e-3),
        lambda p: torch.optim.Adam(p, lr=0.01, weight_decay=1e-3),
    ],
)
def test_masks_hold_through_training(make_optimizer):
    model, masks = _setup()
    optimizer = make_optimizer(model.parameters())
    _train(model, optimizer, 2)  # optimizer state exists from before pruning
    enforcer = MaskEnforcer(model, masks)
    assert mask_violations(model, masks) == 0
    before = model[0].weight.detach().clone()
    _train(model, optimizer, 5, enforcer)
    assert mask_violations(model, masks) == 0
    kept = masks["0"].bool()
    assert not torch.equal(before[kept], model[0].weight.detach()[kept])  # kept weights still learn
    for value in optimizer.state[model[0].weight].values():
        if isinstance(value, torch.Tensor) and value.shape == kept.shape:
            assert (value[~kept] == 0).all()


def test_gradient_is_masked():
    model, masks = _setup()
    MaskEnforcer(model, masks)
    model(torch.randn(2, 8, 6, 6)).sum().backward()
    assert (model[0].weight.grad[masks["0"] == 0] == 0).all()


def test_without_enforcer_pruned_weights_regrow():
    """The check above can fail: zeroing once does not survive momentum."""
    model, masks = _setup()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    _train(model, optimizer, 2)
    with torch.no_grad():
        model[0].weight.mul_(masks["0"])
    _train(model, optimizer, 2)
    assert mask_violations(model, masks) > 0
