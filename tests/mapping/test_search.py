"""Search-based scheme mapping: the vectorised proxies, the exact knapsack, the rate target, λ."""

import numpy as np
import pytest
import torch

from patdnn.mapping.search import choose, proxies, search, search_plan
from patdnn.models import get_model
from patdnn.sparsity import Scheme, SchemeError, SchemeKind
from patdnn.sparsity.apply import project
from patdnn.sparsity.layers import model_layers, plan_rate
from patdnn.sparsity.patterns import extract_library

SHAPE = (1, 1, 28, 28)


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    return get_model("resnet20-cifar", in_channels=1)


def test_proxies_equal_the_projections_loss():
    """The vectorised energy sums must agree with the real projections, partial blocks included."""
    rng = np.random.default_rng(1)
    weight = rng.standard_normal((20, 10, 3, 3)).astype(np.float32)  # 90 columns: a partial 32/16-wide block
    library = extract_library(torch.nn.Sequential(torch.nn.Conv2d(10, 20, 3)))
    schemes = [
        Scheme.dense(),
        Scheme.pattern(1),
        Scheme.pattern(2.5),
        Scheme.blocks(8, 16, 3),
        Scheme.blocks(16, 32, 1.5),
        Scheme.blocks(4, 16, 12),
    ]
    total = float(np.square(weight.astype(np.float64)).sum())
    for scheme, proxy in zip(schemes, proxies(weight, schemes, library)):
        pruned, _ = project(weight, scheme, library)
        expected = float(np.square(weight.astype(np.float64) - pruned).sum()) / total
        assert proxy == pytest.approx(expected, abs=1e-9), scheme


def test_choose_is_the_exact_optimum():
    costs = [[4, 2, 1], [4, 2, 1], [4, 3, 1]]
    objs = [[0.0, 1.0, 3.0], [0.0, 2.0, 2.5], [0.0, 0.5, 4.0]]

    def total(picks, table):
        return sum(row[i] for row, i in zip(table, picks))

    feasible = [(a, b, c) for a in range(3) for b in range(3) for c in range(3) if 5 <= total((a, b, c), costs) <= 7]
    picks = choose(costs, objs, 5, 7)
    assert 5 <= total(picks, costs) <= 7
    assert total(picks, objs) == min(total(p, objs) for p in feasible)
    with pytest.raises(SchemeError):
        choose(costs, objs, 0, 2)


@pytest.mark.parametrize("rate", [2.0, 5.0])
def test_meets_the_rate_target_and_is_deterministic(net, rate):
    layers = model_layers(net, SHAPE)
    plan = search_plan(net, SHAPE, rate, progress=False, isa="avx512", layers=layers)
    assert set(plan) == {layer.name for layer in layers}
    assert rate <= plan_rate(layers, plan) <= rate / 0.9 + 1e-9
    assert plan["conv1"].kind == SchemeKind.DENSE  # the image-reading conv is not a candidate
    assert search_plan(net, SHAPE, rate, progress=False, isa="avx512", layers=layers) == plan


def test_small_lambda_buys_latency_large_lambda_buys_accuracy(net, tmp_path):
    fast = search(net, SHAPE, 4.0, progress=False, isa="avx512", lam=0.0)
    careful = search(net, SHAPE, 4.0, progress=False, isa="avx512", lam=100.0, log=tmp_path / "log.json")

    def totals(result):
        chosen = [c for name, c in result.chosen.items() if name in result.candidates]
        return sum(c.latency_ms for c in chosen), sum(c.proxy for c in chosen)

    (fast_ms, fast_proxy), (careful_ms, careful_proxy) = totals(fast), totals(careful)
    assert fast_ms < careful_ms and fast_proxy > careful_proxy
    logged = (tmp_path / "log.json").read_text()
    assert '"candidates"' in logged and '"choice"' in logged


def test_sensitivity_protects_a_layer(net):
    plain = search_plan(net, SHAPE, 3.0, progress=False, isa="avx512", lam=1.0)
    guarded = search_plan(
        net, SHAPE, 3.0, progress=False, isa="avx512", lam=1.0, sensitivity={"layer3.2.conv2": 1000.0}
    )
    layers = {layer.name: layer for layer in model_layers(net, SHAPE)}
    from patdnn.sparsity.layers import kept_weights

    def kept(plan):
        return kept_weights(layers["layer3.2.conv2"], plan["layer3.2.conv2"])

    assert kept(guarded) > kept(plain)


def test_unreachable_rate_is_a_clear_error(net):
    with pytest.raises(SchemeError, match="out of reach"):
        search_plan(net, SHAPE, 100.0, progress=False, isa="avx512")
