"""pdnn_parallel_for on the persistent pool, checked by a C program (host and aarch64/qemu)."""

from pathlib import Path

import pytest

from patdnn.toolchain import build_executable, run_executable, runtime_sources, toolchain_problem

CHECK_SRC = Path(__file__).with_name("threadpool_check.c")


def _run_check(tmp_path, target, args, timeout, flags):
    exe = build_executable(
        [CHECK_SRC, *runtime_sources()], tmp_path / "threadpool_check", target=target, isa="scalar", extra_flags=flags
    )
    proc = run_executable(exe, args, target=target, timeout=timeout)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip() == "ok"


def test_parallel_for_host(tmp_path, strict_flags):
    if problem := toolchain_problem("host", isa="scalar"):
        pytest.skip(problem)
    _run_check(tmp_path, "host", ["16", "500"], timeout=60, flags=strict_flags)


@pytest.mark.qemu
def test_parallel_for_aarch64(tmp_path, strict_flags):
    if problem := toolchain_problem("aarch64", isa="scalar"):
        pytest.skip(problem)
    _run_check(tmp_path, "aarch64", ["6", "200"], timeout=120, flags=strict_flags)
