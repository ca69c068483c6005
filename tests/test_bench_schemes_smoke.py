"""Smoke test of `benchmarks/bench_schemes.py --quick` end to end (not a timing test)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from patdnn.testing import need_toolchain

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_bench_schemes_quick(tmp_path):
    sys.path.insert(0, str(ROOT))
    from benchmarks.common import best_isa

    need_toolchain("host", best_isa())
    run = tmp_path / "acc" / "rule"
    run.mkdir(parents=True)
    (run / "report.json").write_text(
        json.dumps(
            {
                "accuracy": {"dense": 92.5, "pruned": 91.9},
                "compression": {"layers_rate": 6.0},
                "settings": {"model": "resnet20-cifar", "data": "fashion-mnist", "schemes": "rule"},
            }
        )
    )
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "bench_schemes.py"),
            "--quick",
            "--out",
            str(tmp_path),
            "--accuracy-dir",
            str(tmp_path / "acc"),
        ],
        check=True,
        timeout=400,
    )
    result = json.loads((tmp_path / "schemes.json").read_text())
    (rec,) = result["models"]
    assert set(rec["variants"]) == {"pattern", "block", "rule", "search"}
    for name, v in rec["variants"].items():
        assert v["check"]["ok"], (name, v["check"])
        assert v["ms"] > 0 and v["torch_over_ours"] > 0
        assert v["rate"] == pytest.approx(6.0, rel=0.12) or name == "pattern"
    assert result["accuracy"]["rule"]["pruned"] == 91.9 and "missing" in result["accuracy"]["search"]
    table = (tmp_path / "schemes.md").read_text()
    assert "92.50 → 91.90" in table and "| search |" in table
    assert (tmp_path / "schemes-plans" / "resnet20-cifar-search.json").is_file()
