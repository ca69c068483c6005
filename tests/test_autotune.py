"""The auto-tuner: it times real candidates, keeps the fastest, logs them, and reuses the log;
the tile-tune pass takes the logged schedules into the IR."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from patdnn import autotune
from patdnn.dialects import pattern
from patdnn.ir_builder import pattern_conv_module
from patdnn.isa import get_isa
from patdnn.pipeline import default_pipeline, run_pipeline
from patdnn.sparsity.patterns import random_pattern_layer
from patdnn.target import Target
from patdnn.testing import need_toolchain
from patdnn.tuning.log import layer_key
from patdnn.tuning.rules import LayerShape, Schedule, rule_schedule


def _module():
    rng = np.random.default_rng(3)
    weight, ids, library = random_pattern_layer(rng, 12, 10)
    return pattern_conv_module(weight, ids, library, (1, 10, 13, 19), activation="relu")


def _conv(module) -> pattern.Conv2dOp:
    return next(op for op in module.walk() if isinstance(op, pattern.Conv2dOp))


def test_tuner_times_candidates_keeps_the_fastest_and_reuses_its_log(tmp_path, monkeypatch):
    need_toolchain("host", "avx2")
    isa = get_isa("avx2")
    log = tmp_path / "tuning.json"
    conv = _conv(_module())
    tuner = autotune.Autotuner(isa, threads=1, budget=15, log=log, runs=3)
    best = tuner.tune(conv, time.monotonic() + 15)
    entry = json.loads(log.read_text())[layer_key(conv, isa, 1)]
    tried = entry["tried"]
    assert len(tried) >= 2  # the rule and at least one neighbour were compiled and timed
    assert tried[0][0] == best.as_dict() and entry["ms"] == min(ms for _, ms in tried) > 0
    assert rule_schedule(LayerShape.of(conv), isa).as_dict() in [s for s, _ in tried]

    def no_compiling(*args, **kwargs):
        raise AssertionError("a logged layer must not be compiled again")

    monkeypatch.setattr(autotune, "_LayerTimer", no_compiling)
    again = autotune.Autotuner(isa, threads=1, budget=60, log=log)
    assert again.tune(_conv(_module()), time.monotonic() + 60) == best


def test_tile_tune_writes_the_tuned_schedule_into_the_ir(tmp_path, monkeypatch):
    need_toolchain("host", "avx2")
    monkeypatch.setenv("PATDNN_TUNING_LOG", str(tmp_path / "log.json"))
    module = _module()
    target = Target(isa="avx2")
    log = autotune.tune_module(module, target, budget=3)
    assert log == tmp_path / "log.json"
    run_pipeline(module, default_pipeline(target, log)[:1])  # tile-tune{isa=avx2 threads=1 log=...}
    schedule = _conv(module).attributes["patdnn.schedule"]
    logged = next(iter(json.loads((tmp_path / "log.json").read_text()).values()))["schedule"]
    in_ir = {k: v.value.data for k, v in schedule.data.items()}  # filter_group = 0 is the IR's default
    assert Schedule(**in_ir) == Schedule(**logged) and set(logged) >= set(in_ir)


def test_budget_zero_keeps_the_rule(tmp_path):
    need_toolchain("host", "avx2")
    isa = get_isa("avx2")
    conv = _conv(_module())
    tuner = autotune.Autotuner(isa, threads=1, budget=0, log=tmp_path / "t.json", runs=1)
    assert tuner.tune(conv, time.monotonic()) == rule_schedule(LayerShape.of(conv), isa)


@pytest.mark.parametrize("isa", ["neon", "avx2", "avx512", "scalar"])
def test_neighbours_stay_within_the_register_budget_and_the_layer(isa):
    target = get_isa(isa)
    shape = LayerShape(cin=10, cout=12, h=13, w=19, ho=13, wo=19, k=3, stride=1)
    start = rule_schedule(shape, target)
    for cand in autotune.neighbours(start, shape, target):
        assert cand != start
        assert 1 <= cand.tile_y <= shape.ho and 1 <= cand.channel_block <= shape.cin
        assert cand.tile_x % target.vector_width == 0


def test_auto_tuning_an_isa_this_cpu_lacks_is_one_clear_error(monkeypatch):
    monkeypatch.setattr(autotune, "host_cpu_problem", lambda isa: f"this CPU lacks avx512f (needed by isa={isa})")
    with pytest.raises(
        autotune.TuningError,
        match=r"^cannot time isa=avx512 candidates on this host: "
        r"this CPU lacks avx512f",
    ):
        autotune.tune_module(_module(), Target(isa="avx512"), budget=1)


def test_a_tuning_log_that_is_not_json_is_one_clear_error(tmp_path):
    from xdsl.utils.exceptions import PassFailedException

    bad = tmp_path / "log.json"
    bad.write_text("{not json")
    with pytest.raises(PassFailedException, match=r"tile-tune: cannot read the tuning log .*log.json"):
        run_pipeline(_module(), f'tile-tune{{isa=avx2 log="{bad}"}}')


def test_neon_is_tuned_by_the_a76_estimate_not_by_timing(tmp_path, monkeypatch):
    """isa=neon candidates are judged by the Cortex-A76 estimate (patdnn.estimate), never timed
    here (SIMDe on x86 says nothing about a phone); the log says which objective it holds."""
    from patdnn.estimate import estimate_problem

    if problem := estimate_problem():
        pytest.skip(problem)

    def no_timing(*args, **kwargs):
        raise AssertionError("isa=neon candidates must not be timed on the host")

    monkeypatch.setattr(autotune, "_LayerTimer", no_timing)
    isa, log = get_isa("neon"), tmp_path / "neon.json"
    conv = _conv(_module())
    best = autotune.Autotuner(isa, threads=2, budget=60, log=log).tune(conv, time.monotonic() + 60)
    entry = json.loads(log.read_text())[layer_key(conv, isa, 2)]
    assert entry["objective"] == "a76-estimate"
    tried = entry["tried"]
    assert len(tried) >= 2 and tried[0][0] == best.as_dict()
    assert entry["ms"] == min(ms for _, ms in tried) > 0
    assert rule_schedule(LayerShape.of(conv), isa).as_dict() in [s for s, _ in tried]
    # the estimate tells schedules apart (it is not a constant)
    assert len({round(ms, 9) for _, ms in tried}) > 1


def test_what_cannot_be_tuned_here_says_why():
    assert "does not apply to target" in autotune.tuning_problem(Target.parse("opencl"))
    assert autotune.objective_of(get_isa("avx2")) == "host-time"
    assert autotune.objective_of(get_isa("neon")) == "a76-estimate"


def test_fp16_neon_is_tuned_by_its_own_estimate(tmp_path):
    """neon_fp16 (precision=fp16) candidates: the fp16 loops' estimate, PatDNN's loop form only,
    channel blocks of at most 64, logged under their own ISA name."""
    from patdnn.estimate import estimate_problem

    if problem := estimate_problem():
        pytest.skip(problem)
    isa, log = get_isa("neon_fp16"), tmp_path / "fp16.json"
    conv = _conv(_module())
    autotune.Autotuner(isa, threads=1, budget=60, log=log).tune(conv, time.monotonic() + 60)
    entry = json.loads(log.read_text())[layer_key(conv, isa, 1)]
    assert entry["objective"] == "a76-estimate" and len(entry["tried"]) >= 2
    for schedule, _ in entry["tried"]:
        assert schedule["filter_group"] == 0 and schedule["channel_block"] <= 64 and schedule["tile_x"] % 8 == 0
