"""`--schemes` specs → complete, checked plans; bad plans are clear errors."""

from __future__ import annotations

import json
import re

import pytest
import torch

from patdnn.prune.pipeline import build_model
from patdnn.prune.planning import check_plan, default_block_layers, prunable_layers, resolve_plan
from patdnn.sparsity import Scheme, SchemeError, parse_scheme
from patdnn.sparsity.layers import prunable_convs
from patdnn.sparsity.plan import save_plan

SHAPE = (1, 1, 28, 28)


@pytest.fixture(scope="module")
def resnet():
    return build_model("resnet20-cifar", "fashion-mnist")


def _resolve(spec, model, rate=None):
    return resolve_plan(spec, model, 3.6, rate, SHAPE)


def test_patterns_is_patdnns_plan(resnet):
    plan = _resolve("patterns", resnet)
    pruned = {n for n, s in plan.items() if s != Scheme.dense()}
    assert pruned == set(prunable_convs(resnet)) and len(pruned) == 18
    assert {plan[n] for n in pruned} == {Scheme.pattern(3.6)}
    assert plan["conv1"] == plan["fc"] == plan["layer2.0.downsample.0"] == Scheme.dense()


def test_blocks_cover_prunable_layers_but_the_classifier(resnet):
    plan = _resolve("blocks:8x16:4:rows", resnet)
    blocks = [n for n, s in plan.items() if s == Scheme.blocks(8, 16, 4, "rows")]
    assert blocks == default_block_layers(resnet) == prunable_layers(resnet)[:-1]
    assert "layer3.0.downsample.0" in blocks and len(blocks) == 20  # 18 3x3 + 2 1x1 convs
    assert plan["conv1"] == plan["fc"] == Scheme.dense()
    assert list(plan) == [n for n, m in resnet.named_modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]


def test_plan_file_is_completed_with_dense(resnet, tmp_path):
    save_plan({"layer1.0.conv1": Scheme.pattern(2), "fc": Scheme.blocks(2, 16, 2)}, tmp_path / "p.json")
    plan = _resolve(str(tmp_path / "p.json"), resnet)
    assert plan["layer1.0.conv1"] == Scheme.pattern(2) and plan["fc"] == Scheme.blocks(2, 16, 2)
    assert sum(s != Scheme.dense() for s in plan.values()) == 2


@pytest.mark.parametrize("spec", ["rule", "search"])
def test_mapped_plans_at_the_rate(resnet, spec, tmp_path):
    pytest.importorskip("patdnn.mapping.rules" if spec == "rule" else "patdnn.mapping.search")
    from patdnn.sparsity.layers import model_layers, plan_rate

    plan = resolve_plan(spec, resnet, 3.6, 6.0, SHAPE, {"progress": False, "log": tmp_path / "search.json"})
    assert plan_rate(model_layers(resnet, SHAPE), plan) == pytest.approx(6.0, rel=0.05)
    assert (tmp_path / "search.json").exists() == (spec == "search")


class _Depthwise(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = torch.nn.Conv2d(1, 8, 3)
        self.dw = torch.nn.Conv2d(8, 8, 3, groups=8)
        self.pw = torch.nn.Conv2d(8, 8, 1)
        self.bn = torch.nn.BatchNorm2d(8)


@pytest.mark.parametrize(
    "layers, message",
    [
        ({"layer1.0.conv": "block 8x16 4x"}, "'layer1.0.conv' does not exist; near names: layer1.0.conv2"),
        ({"bn": "dense"}, "'bn' is a BatchNorm2d, not a Conv2d or Linear"),
        ({"dw": "block 4x8 2x"}, "'dw' is a depthwise conv (groups 8): block pruning needs groups 1"),
        ({"pw": "pattern 2x"}, "'pw' (conv 1x1, groups 1) cannot take 'pattern 2x'"),
        ({"stem": "block 4x8 2x"}, "'stem' is the first conv and reads the image"),
    ],
)
def test_bad_plans_name_the_layer(layers, message):
    plan = {name: parse_scheme(text) for name, text in layers.items()}
    model = build_model("resnet20-cifar", "fashion-mnist") if "layer1.0.conv" in layers else _Depthwise()
    with pytest.raises(SchemeError, match=re.escape("plan: layer " + message)):
        check_plan(plan, model)


@pytest.mark.parametrize(
    "spec, rate, message",
    [
        ("blocks:8x16", None, "blocks:ROWSxCOLS:RATE"),
        ("blocks:8x16:0.5", None, "rate 0.5 must be a finite number >= 1"),
        ("pattern", None, "expected patterns, blocks"),
        ("/nonexistent/plan.json", None, "does not exist"),
        ("rule", None, "needs the overall target --rate"),
        ("search", None, "needs the overall target --rate"),
    ],
)
def test_bad_specs_are_clear_errors(resnet, spec, rate, message):
    with pytest.raises(SchemeError, match=message):
        _resolve(spec, resnet, rate)


def test_bad_plan_files(resnet, tmp_path):
    (tmp_path / "dense.json").write_text(json.dumps({"layers": {"fc": "dense"}}))
    with pytest.raises(SchemeError, match="prunes no layer"):
        _resolve(str(tmp_path / "dense.json"), resnet)
    (tmp_path / "typo.json").write_text(json.dumps({"layers": {"fc": "blok 2x16 2x"}}))
    with pytest.raises(SchemeError, match="layer 'fc': cannot read pruning scheme 'blok 2x16 2x'"):
        _resolve(str(tmp_path / "typo.json"), resnet)
