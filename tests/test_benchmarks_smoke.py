"""Smoke test of the benchmark suite: `benchmarks/bench_layers.py --quick` end to end (not a timing test)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from patdnn.testing import need_toolchain

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_bench_layers_quick(tmp_path):
    pytest.importorskip("matplotlib")
    sys.path.insert(0, str(ROOT))
    from benchmarks.common import best_isa

    need_toolchain("host", best_isa())
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "bench_layers.py"),
            "--quick",
            "--threads",
            "1",
            "--out",
            str(tmp_path),
        ],
        check=True,
        timeout=300,
    )
    result = json.loads((tmp_path / "layers.json").read_text())
    assert result["layers"], "no layer was benchmarked"
    for rec in result["layers"]:
        assert rec["ours_ok"], rec["checks"]
        assert rec["ms"]["ours"] > 0 and rec["ms"]["torch"] > 0
        assert rec["ratio_vs_ours"]["torch"] > 0 and rec["ours_gflops"] > 0
    assert any("ablation_ms" in rec for rec in result["layers"])
    assert result["totals"] and result["totals"][0]["ms"]["ours"] > 0
    for name in ("layers.md", "layers.png", "peak.json"):
        assert (tmp_path / name).stat().st_size > 0
