"""patdnn.toolchain: what it builds with, and how it reports what is missing."""

import pytest

import patdnn.toolchain as tc
from patdnn.toolchain import ToolchainError


def test_runtime_sources_exclude_the_runner():
    names = {p.name for p in tc.runtime_sources()}
    assert {"ctx.c", "sha256.c", "threadpool.c", "alloc.c"} <= names
    assert "runner_main.c" not in names
    assert (tc.RUNTIME_DIR / "patdnn_runtime.h").is_file()


def test_compile_error_carries_compiler_stderr(tmp_path):
    if problem := tc.toolchain_problem("host", isa="scalar"):
        pytest.skip(problem)
    bad = tmp_path / "bad.c"
    bad.write_text("int main(void) { return undeclared_thing; }\n")
    with pytest.raises(ToolchainError, match="undeclared_thing"):
        tc.build_executable([bad], tmp_path / "bad", isa="scalar")


def test_missing_cross_compiler_and_qemu_name_debian_packages(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing to find there
    assert not tc.have_toolchain("aarch64")
    with pytest.raises(ToolchainError, match="apt-get install gcc-aarch64-linux-gnu"):
        tc.build_executable([tmp_path / "m.c"], tmp_path / "m", target="aarch64")
    with pytest.raises(ToolchainError, match="apt-get install qemu-user"):
        tc.run_executable(tmp_path / "m", [], target="aarch64")


def test_cc_override_is_honoured(tmp_path, monkeypatch):
    monkeypatch.setenv("CC", "no-such-compiler-xyz")
    assert not tc.have_toolchain("host", isa="scalar")
    with pytest.raises(ToolchainError, match="no-such-compiler-xyz"):
        tc.build_executable([tmp_path / "m.c"], tmp_path / "m", isa="scalar")


def test_missing_simde_names_libsimde_dev(tmp_path, monkeypatch):
    monkeypatch.setattr(tc, "SIMDE_NEON_HEADER", tmp_path / "neon.h")
    assert not tc.have_toolchain("host", isa="neon")
    with pytest.raises(ToolchainError, match="libsimde-dev"):
        tc.build_shared_library([tmp_path / "m.c"], tmp_path / "m.so", isa="neon")


@pytest.mark.parametrize("target, isa", [("riscv", "neon"), ("host", "sve"), ("aarch64", "avx2")])
def test_unknown_target_or_isa(tmp_path, target, isa):
    with pytest.raises(ValueError):
        tc.build_executable([tmp_path / "m.c"], tmp_path / "m", target=target, isa=isa)
