"""Extended ADMM: penalty, dual updates, ρ schedule, convergence into both constraint sets."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from patdnn.prune.admm import Admm, project_to_connectivity, project_to_patterns, rho_schedule
from patdnn.prune.library import cross_library


def _conv(seed: int = 0) -> torch.nn.Conv2d:
    torch.manual_seed(seed)
    return torch.nn.Conv2d(4, 6, 3, bias=False)


def test_penalty_is_the_augmented_lagrangian_term():
    conv = _conv()
    admm = Admm({"c": conv}, cross_library(), 2.0, rho=0.3)
    admm.step()
    w, z, y, u, v = conv.weight, admm.Z["c"], admm.Y["c"], admm.U["c"], admm.V["c"]
    expected = 0.15 * (((w - z + u) ** 2).sum() + ((w - y + v) ** 2).sum())
    assert float(admm.penalty().detach()) == pytest.approx(float(expected.detach()), rel=1e-6)
    assert float(expected.detach()) > 0


def test_step_projects_and_updates_duals():
    conv = _conv()
    library = cross_library()
    admm = Admm({"c": conv}, library, 3.0, rho=1.0)
    w = conv.weight.detach().numpy()
    admm.step()
    np.testing.assert_allclose(admm.Z["c"].numpy(), project_to_patterns(w, library))
    np.testing.assert_allclose(admm.Y["c"].numpy(), project_to_connectivity(w, 3.0))
    np.testing.assert_allclose(admm.U["c"].numpy(), w - admm.Z["c"].numpy(), atol=1e-7)
    np.testing.assert_allclose(admm.V["c"].numpy(), w - admm.Y["c"].numpy(), atol=1e-7)


def test_set_rho_keeps_the_multipliers():
    admm = Admm({"c": _conv()}, cross_library(), 2.0, rho=0.1)
    admm.step()
    before = admm.rho * admm.U["c"].clone()
    admm.set_rho(0.4)
    torch.testing.assert_close(admm.rho * admm.U["c"], before)


def test_rho_schedule_increases_geometrically():
    rhos = rho_schedule(1e-3, 1e-1, 3)
    assert rhos == pytest.approx([1e-3, 1e-2, 1e-1])
    assert rho_schedule(0.5, 2.0, 1) == [0.5]


def test_admm_drives_weights_into_both_sets():
    """min c‖W − W0‖² subject to pattern and connectivity constraints: the residuals shrink
    towards 0. (ρ must come to dominate the loss curvature c, as it does in a real network.)"""
    conv = _conv(1)
    target = conv.weight.detach().clone()
    admm = Admm({"c": conv}, cross_library(), 2.0, rho=0.05)
    optimizer = torch.optim.SGD(conv.parameters(), lr=0.1)
    start = admm.residuals()
    for rho in rho_schedule(0.05, 5.0, 20):
        admm.set_rho(rho)
        for _ in range(20):
            loss = 0.01 * ((conv.weight - target) ** 2).sum() + admm.penalty()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        admm.step()
    end = admm.residuals()
    assert end[0] < 0.05 * start[0] and end[1] < 0.1 * start[1]
