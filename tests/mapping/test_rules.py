"""Rule-based scheme mapping: the rules table, the exact kept-weight arithmetic, the rate target."""

import numpy as np
import pytest
import torch
from torch import nn

from patdnn.mapping.rules import block_size, rule_plan
from patdnn.models import get_model
from patdnn.sparsity import Scheme, SchemeError, SchemeKind
from patdnn.sparsity.block import project_block
from patdnn.sparsity.layers import kept_weights, model_layers, plan_rate
from patdnn.sparsity.patterns import apply_patterns, connectivity_projection, extract_library, pattern_projection


class Mixed(nn.Module):
    """Every rule once: image conv, 3x3 pattern conv, depthwise, 1x1 (small and big), tiny conv, FC."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 32, 3, padding=1)
        self.conv3 = nn.Conv2d(32, 64, 3, padding=1)
        self.dw = nn.Conv2d(64, 64, 3, padding=1, groups=64)
        self.pw = nn.Conv2d(64, 256, 1)
        self.big = nn.Conv2d(256, 256, 1)
        self.tiny = nn.Conv2d(256, 1, 1)
        self.fc = nn.Linear(16 * 16, 40)

    def forward(self, x):
        x = self.big(self.pw(self.dw(self.conv3(self.stem(x)))))
        return self.fc(self.tiny(x).flatten(1))


SHAPE = (1, 3, 16, 16)


def test_rules_table_per_layer():
    plan = rule_plan(Mixed(), SHAPE, 4.0)
    assert plan["stem"].kind == SchemeKind.DENSE  # rule 1: reads the image
    assert plan["dw"].kind == SchemeKind.DENSE  # rule 2: depthwise
    assert plan["tiny"].kind == SchemeKind.DENSE  # rule 3: < 0.5% of weights and FLOPs
    assert plan["conv3"].kind == SchemeKind.PATTERN  # rule 4
    assert plan["pw"].block == (8, 16)  # rule 5: Cout >= 64 -> 8x16
    assert plan["big"].block == (8, 16)  # rule 5: no 16x32 (slower on our kernels)
    assert plan["fc"].kind == SchemeKind.BLOCK and plan["fc"].block == (4, 16)


def test_low_rate_3x3_gets_blocks_not_patterns():
    """Pattern pruning alone removes 5/9: below 2.25x a 3x3 conv is block-pruned instead."""
    plan = rule_plan(Mixed(), SHAPE, 1.5)
    assert plan["conv3"].kind == SchemeKind.BLOCK


@pytest.mark.parametrize(
    "model,shape", [("resnet20-cifar", (1, 1, 28, 28)), ("resnet50", (1, 3, 64, 64)), ("mobilenet-v2", (1, 3, 64, 64))]
)
@pytest.mark.parametrize("rate", [2.0, 4.0, 8.0])
def test_overall_rate_is_met(model, shape, rate):
    net = get_model(model, **({"in_channels": 1} if shape[1] == 1 else {}))
    layers = model_layers(net, shape)
    plan = rule_plan(net, shape, rate, layers)
    assert set(plan) == {layer.name for layer in layers}
    assert plan_rate(layers, plan) == pytest.approx(rate, rel=0.02)


def test_unreachable_rate_is_a_clear_error():
    with pytest.raises(SchemeError, match="out of reach|rate"):
        rule_plan(Mixed(), SHAPE, 1000.0)


def test_overshooting_rate_is_not_called_out_of_reach():
    """MobileNet-V3-Small with a 2-class head: the snapped block rates overshoot 4x by > 5%."""
    with pytest.raises(SchemeError, match=r"^rate 4.0x cannot be met within 5%: .* snap to 4.\d\dx overall"):
        rule_plan(get_model("mobilenet-v3-small", num_classes=2), (1, 3, 32, 32), 4.0, isa="avx512")


def test_block_size_is_clipped_to_small_layers():
    layers = {layer.name: layer for layer in model_layers(Mixed(), SHAPE)}
    assert block_size(layers["tiny"]) == (1, 16)


def test_kept_weights_match_the_projections():
    """kept_weights is pure arithmetic: it must agree with what the projections really keep."""
    torch.manual_seed(0)
    net = Mixed()
    layers = {layer.name: layer for layer in model_layers(net, SHAPE)}
    rng = np.random.default_rng(0)
    for name, scheme in [
        ("pw", Scheme.blocks(8, 16, 3)),
        ("big", Scheme.blocks(16, 32, 5)),
        ("fc", Scheme.blocks(4, 16, 2.5, "rows")),
        ("conv3", Scheme.blocks(4, 16, 3)),
    ]:
        weight = rng.standard_normal(tuple(getattr(net, name).weight.shape)).astype(np.float32)
        assert int((project_block(weight, scheme) != 0).sum()) == kept_weights(layers[name], scheme)
    weight = net.conv3.weight.detach().numpy()
    library = extract_library(net)
    ids = connectivity_projection(weight, pattern_projection(weight, library), library, 3.0)
    pruned = apply_patterns(np.where(weight == 0, 1e-3, weight), ids, library)
    assert int((pruned != 0).sum()) == kept_weights(layers["conv3"], Scheme.pattern(3.0))


@pytest.mark.parametrize("rate", [3.0, 6.0, 7.0])
def test_snapped_block_rates_still_meet_the_target(rate):
    """16-column blocks keep whole columns (5.33x or 8x, never 6x): the rounding is carried forward."""
    from patdnn.mapping.rules import uniform_plan

    layers = model_layers(get_model("resnet20-cifar", in_channels=1), (1, 1, 28, 28))
    plan = uniform_plan(layers, {layer.name: "block" if layer.prunable else "dense" for layer in layers}, rate)
    assert plan_rate(layers, plan) == pytest.approx(rate, rel=0.02)


def test_narrow_outputs_get_blocks_on_wide_vectors():
    """Rule 4's lane condition: a 7-wide output fills 7 of 16 AVX-512 lanes but 7 of 8 AVX2 lanes."""
    net = nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), nn.Conv2d(32, 64, 3, padding=1))
    assert rule_plan(net, (1, 3, 7, 7), 4.0, isa="avx512")["1"].kind == SchemeKind.BLOCK
    assert rule_plan(net, (1, 3, 7, 7), 4.0, isa="avx2")["1"].kind == SchemeKind.PATTERN
    assert rule_plan(net, (1, 3, 16, 16), 4.0, isa="avx512")["1"].kind == SchemeKind.PATTERN
