"""pdnn_ctx_blob: loading, caching, and the exact error messages models surface to users."""

import ctypes
import hashlib
import os

import pytest


def _blob(rt, ctx, name, required, sha):
    return rt.pdnn_ctx_blob(ctx, name.encode(), required, sha.encode())


def _error(rt, ctx):
    return rt.pdnn_ctx_error(ctx).decode()


@pytest.fixture
def weights(tmp_path):
    data = os.urandom(1000)
    (tmp_path / "w.bin").write_bytes(data)
    return tmp_path, data, hashlib.sha256(data).hexdigest()


def test_fresh_context(rt, ctx_factory):
    ctx = ctx_factory(4)
    assert _error(rt, ctx) == ""
    assert rt.pdnn_ctx_num_threads(ctx) == 4
    assert rt.pdnn_ctx_num_threads(ctx_factory(0)) == 1
    assert rt.pdnn_ctx_num_threads(ctx_factory(-3)) == 1


def test_ctx_fail_records_formatted_message(rt, ctx_factory):
    ctx = ctx_factory()
    ret = rt.pdnn_ctx_fail(ctypes.c_void_p(ctx), b"layer %s: bad %s", b"conv1", b"shape")
    assert ret == -1
    assert _error(rt, ctx) == "layer conv1: bad shape"


def test_loads_verified_blob_aligned_and_cached(rt, ctx_factory, weights):
    wd, data, sha = weights
    ctx = ctx_factory(1, wd)
    p = _blob(rt, ctx, "w.bin", 1000, sha)
    assert p and p % 64 == 0
    assert ctypes.string_at(p, len(data)) == data
    assert _error(rt, ctx) == ""
    # Cached by file name: the same buffer comes back, even after the file disappears.
    (wd / "w.bin").unlink()
    assert _blob(rt, ctx, "w.bin", 16, sha) == p


def test_required_size_is_a_lower_bound(rt, ctx_factory, weights):
    wd, _, sha = weights
    assert _blob(rt, ctx_factory(1, wd), "w.bin", 10, sha)


def test_uppercase_expected_hash_is_accepted(rt, ctx_factory, weights):
    wd, _, sha = weights
    assert _blob(rt, ctx_factory(1, wd), "w.bin", 1000, sha.upper())


def test_default_weights_dir_is_cwd(rt, ctx_factory, weights, monkeypatch):
    wd, _, sha = weights
    monkeypatch.chdir(wd)
    assert _blob(rt, ctx_factory(1, None), "w.bin", 1000, sha)


def test_missing_file(rt, ctx_factory, tmp_path):
    ctx = ctx_factory(1, tmp_path)
    assert not _blob(rt, ctx, "missing.bin", 4, "0" * 64)
    assert _error(rt, ctx) == f"weights blob '{tmp_path}/missing.bin': cannot open: No such file or directory"


def test_truncated_file(rt, ctx_factory, weights):
    wd, data, sha = weights
    (wd / "w.bin").write_bytes(data[:600])
    ctx = ctx_factory(1, wd)
    assert not _blob(rt, ctx, "w.bin", 1000, sha)
    assert _error(rt, ctx) == (f"weights blob '{wd}/w.bin' is truncated: 600 bytes, the model needs at least 1000")


def test_corrupted_file_then_repaired(rt, ctx_factory, weights):
    wd, data, sha = weights
    bad = bytearray(data)
    bad[517] ^= 0x01
    (wd / "w.bin").write_bytes(bad)
    ctx = ctx_factory(1, wd)
    assert not _blob(rt, ctx, "w.bin", 1000, sha)
    got = hashlib.sha256(bad).hexdigest()
    assert _error(rt, ctx) == (
        f"weights blob '{wd}/w.bin' is corrupted: sha256 {got} does not match the expected {sha}"
    )
    # A rejected blob is not cached: once the file is fixed, loading succeeds.
    (wd / "w.bin").write_bytes(data)
    assert _blob(rt, ctx, "w.bin", 1000, sha)


def test_cached_blob_rechecked_against_new_expectation(rt, ctx_factory, weights):
    wd, _, sha = weights
    ctx = ctx_factory(1, wd)
    assert _blob(rt, ctx, "w.bin", 1000, sha)
    assert not _blob(rt, ctx, "w.bin", 2000, sha)
    assert "is truncated: 1000 bytes, the model needs at least 2000" in _error(rt, ctx)
    assert not _blob(rt, ctx, "w.bin", 1000, "f" * 64)
    assert "is corrupted" in _error(rt, ctx)
