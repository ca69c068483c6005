"""Per-layer latency: the cost model against the recorded benchmark results, and measured mode."""

import json
from pathlib import Path

import pytest

from patdnn.mapping.latency import CostModel, MeasuredLatency, compiler_takes_schemes
from patdnn.models import get_model
from patdnn.sparsity import Scheme, SchemeError
from patdnn.sparsity.layers import LayerShape, model_layers, prunable_convs
from patdnn.testing import need_toolchain

RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "results"


def conv(cin, cout, size, stride=1, k=3, groups=1):
    out = size // stride
    return LayerShape("c", "conv", cin, cout, (k, k), stride, groups, (size, size), (out, out), padding=(k // 2,) * 2)


def test_less_work_is_faster_and_8x16_blocks_are_the_fastest():
    model, layer = CostModel("avx512"), conv(256, 256, 28, k=1)
    dense = model.latency_ms(layer, Scheme.dense())
    assert model.latency_ms(layer, Scheme.blocks(8, 16, 4)) < dense
    assert model.latency_ms(layer, Scheme.blocks(8, 16, 8)) < model.latency_ms(layer, Scheme.blocks(8, 16, 4))
    assert model.latency_ms(layer, Scheme.blocks(8, 16, 4)) < model.latency_ms(layer, Scheme.blocks(4, 16, 4))
    assert model.latency_ms(layer, Scheme.blocks(8, 16, 4)) < model.latency_ms(layer, Scheme.blocks(16, 32, 4))
    assert CostModel("avx512", threads=2).latency_ms(layer, Scheme.dense()) < dense


def test_depthwise_is_memory_or_low_efficiency_bound_and_patterns_need_3x3():
    model = CostModel("avx512")
    with pytest.raises(SchemeError, match="pattern"):
        model.latency_ms(conv(64, 64, 28, k=1), Scheme.pattern(2))
    with pytest.raises(SchemeError, match="not prunable"):
        model.latency_ms(conv(64, 64, 28, groups=64), Scheme.blocks(4, 16, 2))
    assert model.latency_ms(conv(64, 64, 28, groups=64), Scheme.dense()) > 0


@pytest.mark.skipif(not (RESULTS / "layers.json").is_file(), reason="no recorded layer benchmark")
def test_model_within_1_6x_of_measured_pattern_layers():
    model = CostModel("avx512")
    records = [
        r
        for r in json.loads((RESULTS / "layers.json").read_text())["layers"]
        if r["threads"] == 1 and not r.get("dense_in_patdnn")
    ]
    assert records
    for r in records:
        est = model.latency_ms(conv(r["cin"], r["cout"], r["size"], r["stride"]), Scheme.pattern(3.6))
        assert 1 / 1.6 < est / r["ms"]["ours"] < 1.6, (r["net"], r["name"], est, r["ms"]["ours"])


@pytest.mark.skipif(not (RESULTS / "models.json").is_file(), reason="no recorded model benchmark")
@pytest.mark.parametrize("name", ["resnet50", "mobilenet-v2"])
def test_model_within_1_3x_of_measured_whole_models(name):
    measured = next(
        r["ms"]["ours"]
        for r in json.loads((RESULTS / "models.json").read_text())["models"]
        if r["model"] == name and r["threads"] == 1
    )
    net = get_model(name)
    convs = prunable_convs(net)
    model = CostModel("avx512")
    est = sum(
        model.latency_ms(layer, Scheme.pattern(3.6) if layer.name in convs else Scheme.dense())
        for layer in model_layers(net, (1, 3, 224, 224))
    )
    assert 1 / 1.3 < est / measured < 1.3


@pytest.mark.slow
def test_measured_latency_times_and_reuses_its_log(tmp_path):
    from patdnn.toolchain import best_host_isa

    need_toolchain("host", best_host_isa())
    timer = MeasuredLatency(threads=1, log=tmp_path / "log.json", runs=3)
    layer = conv(16, 16, 8)
    ms, source = timer.latency(layer, Scheme.pattern(2))
    assert source == "measured" and ms > 0
    block_ms, block_source = timer.latency(layer, Scheme.blocks(4, 16, 2))
    assert block_source == ("measured" if compiler_takes_schemes() else "model: compiler has no schemes= yet")
    again = MeasuredLatency(threads=1, log=tmp_path / "log.json")
    assert again.latency(layer, Scheme.pattern(2)) == (ms, "log")
