"""ADMM over per-layer constraint sets, hard pruning by plan, and masks for block layers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from patdnn.prune.admm import Admm, SchemeAdmm, rho_schedule, scheme_constraints
from patdnn.prune.hardprune import hard_prune
from patdnn.prune.library import cross_library
from patdnn.prune.masks import MaskEnforcer, mask_violations, pattern_masks
from patdnn.sparsity import Scheme
from patdnn.sparsity.block import block_mask, gemm_view, project_block

BLOCK = Scheme.blocks(4, 8, 4)
ROWS = Scheme.blocks(2, 8, 2, "rows")


def _layers(seed: int = 0) -> dict[str, torch.nn.Module]:
    torch.manual_seed(seed)
    return {
        "pat": torch.nn.Conv2d(4, 6, 3, bias=False),
        "blk": torch.nn.Conv2d(6, 8, 3, bias=False),
        "fc": torch.nn.Linear(24, 10, bias=False),
        "keep": torch.nn.Conv2d(8, 8, 1, bias=False),
    }


PLAN = {"pat": Scheme.pattern(2.0), "blk": BLOCK, "fc": ROWS, "keep": Scheme.dense()}


def _admm(layers, rho: float) -> SchemeAdmm:
    return SchemeAdmm(layers, {n: scheme_constraints(s, cross_library()) for n, s in PLAN.items()}, rho)


def test_constraint_sets_per_scheme():
    admm = _admm(_layers(), 0.3)
    assert admm.kinds == ["pattern", "connectivity", "block"]
    assert set(admm.weights) == {"pat", "blk", "fc"}  # the dense layer has no set
    assert set(admm.Zs["block"]) == {"blk", "fc"} and set(admm.Zs["pattern"]) == {"pat"}
    admm.step()
    layers = admm.weights
    expected = sum(
        ((layers[n] - admm.Zs[k][n] + admm.Us[k][n]) ** 2).sum()
        for k, names in (("pattern", ["pat"]), ("connectivity", ["pat"]), ("block", ["blk", "fc"]))
        for n in names
    )
    assert float(admm.penalty().detach()) == pytest.approx(0.15 * float(expected.detach()), rel=1e-6)
    w = layers["fc"].detach().numpy()
    np.testing.assert_allclose(admm.Zs["block"]["fc"].numpy(), project_block(w, ROWS))
    np.testing.assert_allclose(admm.Us["block"]["fc"].numpy(), w - project_block(w, ROWS), atol=1e-7)


def test_pattern_only_sets_are_patdnns_admm():
    """The generic ADMM on a pattern plan computes exactly what PatDNN's Admm does."""
    conv = _layers()["pat"]
    generic = SchemeAdmm({"c": conv}, {"c": scheme_constraints(Scheme.pattern(2.0), cross_library())}, 0.2)
    classic = Admm({"c": conv}, cross_library(), 2.0, 0.2)
    generic.step(), classic.step()
    assert torch.equal(generic.penalty(), classic.penalty())
    assert tuple(generic.residuals_by_kind().values()) == classic.residuals()


def test_admm_drives_block_layers_into_the_block_set():
    """min c‖W − W0‖² subject to the block sets: the block residual falls towards 0."""
    layers = _layers(1)
    targets = {n: m.weight.detach().clone() for n, m in layers.items()}
    admm = _admm(layers, 0.05)
    optimizer = torch.optim.SGD([m.weight for m in layers.values()], lr=0.1)
    start = admm.residuals_by_kind()
    for rho in rho_schedule(0.05, 5.0, 20):
        admm.set_rho(rho)
        for _ in range(20):
            loss = 0.01 * sum(((m.weight - targets[n]) ** 2).sum() for n, m in layers.items()) + admm.penalty()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        admm.step()
    end = admm.residuals_by_kind()
    assert start["block"] > 0.3 and end["block"] < 0.05 * start["block"]
    assert end["pattern"] < 0.1 * start["pattern"]


def test_state_dict_round_trips():
    admm = _admm(_layers(), 0.1)
    admm.step()
    other = _admm(_layers(), 0.7)
    other.load_state_dict(admm.state_dict())
    assert other.rho == 0.1 and torch.equal(other.Us["block"]["fc"], admm.Us["block"]["fc"])


def test_hard_prune_gives_exactly_the_block_structure():
    model = torch.nn.Sequential()
    for name, layer in _layers(2).items():
        model.add_module(name, layer)
    before = {n: m.weight.detach().clone().numpy() for n, m in model.named_children()}
    patterns, masks = hard_prune(model, PLAN, cross_library())
    assert set(patterns) == {"pat"} and set(masks) == {"blk", "fc"}
    for name in ("blk", "fc"):
        scheme, w = PLAN[name], model.get_submodule(name).weight.detach().numpy()
        expected = block_mask(gemm_view(before[name]), scheme.block, scheme.rate, scheme.structure)
        np.testing.assert_array_equal(masks[name].numpy().reshape(expected.shape), expected)
        np.testing.assert_array_equal(w, before[name] * masks[name].numpy())
        np.testing.assert_array_equal(project_block(w, scheme), w)  # W lies in the block set
    # 54 GEMM columns = 6 blocks of 8 (2 kept each) + one of 6 (round(6/4) = 2 kept), all 8 filters
    assert int((model.get_submodule("blk").weight != 0).sum()) == 8 * (6 * 2 + 2)
    np.testing.assert_array_equal(model.get_submodule("keep").weight.detach().numpy(), before["keep"])


def test_block_masks_hold_through_retraining():
    """Momentum and weight decay would regrow pruned weights of conv and linear block layers."""
    model = torch.nn.Sequential()
    for name, layer in _layers(3).items():
        model.add_module(name, layer)
    patterns, block_masks = hard_prune(model, PLAN, cross_library())
    masks = {**pattern_masks(patterns), **block_masks}
    enforcer = MaskEnforcer(model, masks)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-3)
    x = torch.randn(2, 4, 7, 7)
    for _ in range(5):
        h = model.blk(model.pat(x))
        loss = model.fc(h.flatten(1)[:, :24]).pow(2).sum() + model.keep(h).pow(2).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        enforcer.after_step(optimizer)
    assert mask_violations(model, masks) == 0
    assert (model.fc.weight != 0).sum() == int(block_masks["fc"].sum())  # kept weights did train
