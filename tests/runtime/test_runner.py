"""runner_main.c linked with a tiny hand-written model (y = 2x + 1), on the host and under qemu."""

import hashlib
import re
import struct
from pathlib import Path

import numpy as np
import pytest

from patdnn.toolchain import RUNTIME_DIR, build_executable, run_executable, runtime_sources, toolchain_problem

MODEL_TEMPLATE = Path(__file__).with_name("affine_model.c.in")
N = 1003
WEIGHTS = struct.pack("<2f", 2.0, 1.0)

TARGETS = [pytest.param("host", id="host"), pytest.param("aarch64", id="aarch64", marks=pytest.mark.qemu)]


@pytest.fixture(scope="module", params=TARGETS)
def runner(request, tmp_path_factory, strict_flags):
    """(target, executable, weights dir) for the affine model built with the generic runner."""
    target = request.param
    if problem := toolchain_problem(target):
        pytest.skip(problem)
    d = tmp_path_factory.mktemp(f"runner-{target}")
    src = d / "affine_model.c"
    src.write_text(MODEL_TEMPLATE.read_text().replace("@SHA256@", hashlib.sha256(WEIGHTS).hexdigest()))
    exe = build_executable(
        [src, RUNTIME_DIR / "runner_main.c", *runtime_sources()],
        d / "affine_run",
        target=target,
        isa="neon",
        extra_flags=strict_flags,
    )
    weights = d / "weights"
    weights.mkdir()
    (weights / "affine.bin").write_bytes(WEIGHTS)
    return target, exe, weights


def _run(runner, *args):
    target, exe, _ = runner
    return run_executable(exe, [str(a) for a in args], target=target, timeout=60)


@pytest.fixture
def x_file(tmp_path):
    x = np.random.default_rng(0).standard_normal(N).astype("<f4")
    path = tmp_path / "x.bin"
    x.tofile(path)
    return path, x


@pytest.mark.parametrize("threads", [1, 3])
def test_round_trip(runner, x_file, tmp_path, threads):
    path, x = x_file
    out = tmp_path / "y.bin"
    proc = _run(runner, "--weights-dir", runner[2], "--threads", threads, path, out)
    assert proc.returncode == 0, proc.stderr
    # 2x is exact, so fused and unfused 2x+1 round identically: compare bit for bit.
    np.testing.assert_array_equal(np.fromfile(out, dtype="<f4"), x * np.float32(2) + np.float32(1))


def test_bench_prints_timings(runner, x_file, tmp_path):
    proc = _run(runner, "--weights-dir", runner[2], "--bench", 5, x_file[0], tmp_path / "y.bin")
    assert proc.returncode == 0, proc.stderr
    median = re.search(r"^median_ms: (\d+\.\d+)$", proc.stdout, re.M)
    minimum = re.search(r"^min_ms: (\d+\.\d+)$", proc.stdout, re.M)
    assert median and minimum, proc.stdout
    assert 0 <= float(minimum[1]) <= float(median[1])
    assert (tmp_path / "y.bin").stat().st_size == 4 * N


def test_wrong_input_size(runner, tmp_path):
    bad = tmp_path / "short.bin"
    bad.write_bytes(bytes(4 * (N - 1)))
    proc = _run(runner, "--weights-dir", runner[2], bad, tmp_path / "y.bin")
    assert proc.returncode == 1
    assert f"input '{bad}' has {4 * (N - 1)} bytes, the model expects {4 * N}" in proc.stderr
    assert not (tmp_path / "y.bin").exists()


def test_missing_input(runner, tmp_path):
    proc = _run(runner, "--weights-dir", runner[2], tmp_path / "nope.bin", tmp_path / "y.bin")
    assert proc.returncode == 1
    assert f"cannot open input '{tmp_path / 'nope.bin'}'" in proc.stderr


def test_corrupted_weights(runner, x_file, tmp_path):
    wd = tmp_path / "w"
    wd.mkdir()
    (wd / "affine.bin").write_bytes(struct.pack("<2f", 2.0, 1.5))
    proc = _run(runner, "--weights-dir", wd, x_file[0], tmp_path / "y.bin")
    assert proc.returncode == 1
    assert f"weights blob '{wd}/affine.bin' is corrupted: sha256 " in proc.stderr


def test_missing_weights(runner, x_file, tmp_path):
    proc = _run(runner, "--weights-dir", tmp_path, x_file[0], tmp_path / "y.bin")
    assert proc.returncode == 1
    assert f"weights blob '{tmp_path}/affine.bin': cannot open: No such file or directory" in proc.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "takes 1 input file(s) and 1 output file(s), got 0"),
        (["a.bin", "b.bin", "c.bin"], "got 3 file(s)"),
        (["--threads", "many", "a.bin", "b.bin"], "expected a non-negative integer for option: --threads"),
        (["--bench"], "missing value for option: --bench"),
        (["--fast", "a.bin", "b.bin"], "unknown option: --fast"),
    ],
)
def test_usage_errors(runner, args, message):
    proc = _run(runner, *args)
    assert proc.returncode == 2
    assert message in proc.stderr


def test_help(runner):
    proc = _run(runner, "--help")
    assert proc.returncode == 0
    assert "usage:" in proc.stdout and "--bench N" in proc.stdout and "affine" in proc.stdout
    assert f"input 0: {N} f32 ({N} values)" in proc.stdout and f"output 0: {N} f32" in proc.stdout
