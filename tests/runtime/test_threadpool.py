"""pdnn_parallel_for on the persistent pool, checked by a C program (host and aarch64/qemu)."""

from pathlib import Path

import pytest

from patdnn.toolchain import build_executable, have_toolchain, run_executable, runtime_sources

CHECK_SRC = Path(__file__).with_name("threadpool_check.c")


def _run_check(tmp_path, target, args, timeout, flags):
    exe = build_executable([CHECK_SRC, *runtime_sources()], tmp_path / "threadpool_check", target=target,
                           isa="scalar", extra_flags=flags)
    proc = run_executable(exe, args, target=target, timeout=timeout)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip() == "ok"


def test_parallel_for_host(tmp_path, strict_flags):
    if not have_toolchain("host", isa="scalar"):
        pytest.skip("no host C compiler (apt-get install gcc)")
    _run_check(tmp_path, "host", ["16", "500"], timeout=60, flags=strict_flags)


@pytest.mark.qemu
def test_parallel_for_aarch64(tmp_path, strict_flags):
    if not have_toolchain("aarch64", isa="scalar"):
        pytest.skip("aarch64 toolchain missing (apt-get install gcc-aarch64-linux-gnu qemu-user)")
    _run_check(tmp_path, "aarch64", ["6", "200"], timeout=120, flags=strict_flags)
