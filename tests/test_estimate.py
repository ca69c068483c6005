"""The A76 estimate (patdnn.estimate): the printer's llvm-mca marks (off by default), the loop
extraction from assembly, and one small layer end to end (skipped without llvm-mca-19 and the
aarch64 cross compiler)."""

from __future__ import annotations

import numpy as np
import pytest

from patdnn.backend.c.printer import CEmitter
from patdnn.estimate import CORE, estimate_pattern_conv, estimate_problem
from patdnn.estimate.mca import marked_loops
from patdnn.ir_builder import pattern_conv_module
from patdnn.isa import get_isa
from patdnn.pipeline import default_pipeline, replace_pass, run_pipeline
from patdnn.sparsity.patterns import random_pattern_layer
from patdnn.target import Target

SHAPE = (2, 12, 13, 11)  # batch 2, channels and width off the vector width


def _layer(seed: int = 3, cout: int = 10):
    rng = np.random.default_rng(seed)
    return random_pattern_layer(rng, cout, SHAPE[1], num_patterns=8, connectivity=2.0)


def _pipeline(tap_lists: bool):
    return replace_pass(
        default_pipeline(Target(isa="neon", threads=1)), name="tile-tune", threads=1, filter_group=4 if tap_lists else 0
    )


@pytest.mark.parametrize("tap_lists", [False, True])
def test_marks_only_when_asked(tap_lists: bool):
    weight, ids, library = _layer()
    sources = []
    for regions in (None, []):
        module = pattern_conv_module(weight, ids, library, SHAPE)
        run_pipeline(module, _pipeline(tap_lists))
        sources.append(CEmitter(get_isa("neon"), mca_regions=regions).emit_module(module))
    assert "LLVM-MCA" not in sources[0]
    expected = ["conv0_taps"] if tap_lists else [f"conv0_p{p}" for p in range(library.shape[0])]
    assert [r[0] for r in regions] == expected
    for name in expected:
        assert sources[1].count(f"LLVM-MCA-BEGIN {name}") == sources[1].count(f"LLVM-MCA-END {name}") == 1


def test_marked_loop_takes_its_latch():
    asm = "\n".join(
        [
            ".L7:",
            "#APP",
            "\t# LLVM-MCA-BEGIN l_p0",
            "#NO_APP",
            "\tldr\tq1, [x2, 16]",
            "\tfmla\tv0.4s, v1.4s, v2.s[0]",
            "#APP",
            "\t# LLVM-MCA-END l_p0",
            "#NO_APP",
            "\tadd\tx1, x1, 1",
            "\tcmp\tw3, w1",
            "\tbgt\t.L7",
            "\tret",
        ]
    )
    loop = marked_loops(asm)["l_p0"]
    assert [line.split()[0] for line in loop.lines] == ["ldr", "fmla", "add", "cmp", "bgt"]
    assert loop.fmas == 1 and loop.vector_loads == 1


@pytest.mark.parametrize("tap_lists", [False, True])
def test_estimate_of_a_small_layer(tap_lists: bool, tmp_path):
    problem = estimate_problem()
    if problem:
        pytest.skip(problem)
    weight, ids, library = _layer()
    est = estimate_pattern_conv("small", weight, ids, library, SHAPE, workdir=tmp_path, pipeline=_pipeline(tap_lists))
    assert est.loops, "no marked loop found"
    # every FMA of the loops, over their trip counts, is one of the layer's (tile-padded) FMAs
    mem = est.memory
    kept_weights = int(library[ids[ids >= 0]].sum())
    rows_x_vectors = sum(v["fmas"] * v["iterations"] for v in est.loops.values()) / kept_weights
    executed_pixels = rows_x_vectors * 4 * mem["tiles"]
    assert executed_pixels >= SHAPE[0] * SHAPE[2] * SHAPE[3]  # every output pixel computed
    assert rows_x_vectors == int(rows_x_vectors)
    assert est.cycles >= est.fma_bound_cycles > 0
    assert 0 < est.fraction_of_fma_bound <= 1
    assert est.ms == pytest.approx(est.cycles / (CORE.ghz * 1e6))


@pytest.mark.slow
def test_bench_neon_quick(tmp_path):
    """benchmarks/bench_neon.py --quick end to end: every conv and linear of ResNet-18 at 64x64."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    problem = estimate_problem()
    if problem:
        pytest.skip(problem)
    script = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_neon.py"
    subprocess.run([sys.executable, str(script), "--quick", "--out", str(tmp_path)], check=True, timeout=600)
    (model,) = json.loads((tmp_path / "neon.json").read_text())["models"]
    kinds = {r["kind"] for r in model["layers"]}
    assert kinds == {"pattern conv", "dense conv", "linear"}
    assert all(r["cycles"] >= r["fma_bound_cycles"] > 0 for r in model["layers"])
    assert 0 < model["totals"]["all (convs + linears)"]["fraction_of_fma_bound"] <= 1
    assert "resnet18" in (tmp_path / "neon.md").read_text()
