"""The DeepSparse baseline of the benchmarks (benchmarks/deepsparse_client.py + deepsparse_worker.py):
a masked conv through the worker agrees with torch and times itself; without the venv the
benchmark gets one line saying why. Skipped where benchmarks/setup_deepsparse.sh has not run."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import deepsparse_client  # noqa: E402
from benchmarks.bench_layers import onnx_conv  # noqa: E402
from benchmarks.common import Timed, interleaved  # noqa: E402


def test_a_missing_venv_is_one_line(monkeypatch, tmp_path):
    monkeypatch.setenv("PATDNN_DEEPSPARSE_VENV", str(tmp_path / "none"))
    monkeypatch.setattr(deepsparse_client, "_worker", None)
    monkeypatch.setattr(deepsparse_client, "_why_not", None)
    runners, missing, checks = {}, {}, {}
    deepsparse_client.add_checked_engine(runners, missing, checks, "deepsparse", b"", None, 1, None, 1e-4)
    assert not runners and "setup_deepsparse.sh" in missing["deepsparse"] and "\n" not in missing["deepsparse"]


def test_masked_conv_matches_torch():
    if not deepsparse_client.venv_python().is_file():
        pytest.skip("no DeepSparse venv (benchmarks/setup_deepsparse.sh)")
    import torch
    import torch.nn.functional as F

    rng = np.random.default_rng(5)
    weight = rng.standard_normal((13, 6, 3, 3)).astype(np.float32)
    weight[rng.random(weight.shape) < 0.6] = 0  # sparse, like a pruned layer
    x = rng.standard_normal((1, 6, 11, 11)).astype(np.float32)  # odd size, stride 2
    with torch.inference_mode():
        reference = F.conv2d(torch.from_numpy(x), torch.from_numpy(weight), stride=2, padding=1).numpy()
    model = onnx_conv(weight, 2, 11)
    runners, missing, checks = {}, {}, {}
    try:
        deepsparse_client.add_checked_engine(runners, missing, checks, "deepsparse", model, x, 1, reference, 1e-4)
        assert "deepsparse" in runners, missing
        assert checks["deepsparse"]["rel_err"] <= 1e-4
        assert isinstance(runners["deepsparse"](), Timed)
        timed = interleaved(runners, runs=2, warmup=1, gap_s=0)
        assert timed["deepsparse"]["median_ms"] > 0
        deepsparse_client.free_engines(runners)
    finally:
        deepsparse_client.stop_worker()
