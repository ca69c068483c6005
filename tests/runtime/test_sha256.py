"""pdnn_sha256 agrees with hashlib, including at every padding boundary."""

import ctypes
import hashlib
import random

import pytest

# Lengths around the 55/56 and 64-byte padding boundaries, plus larger multi-block inputs.
LENGTHS = [0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 4096, 1 << 20]


@pytest.mark.parametrize("length", LENGTHS)
def test_sha256_matches_hashlib(rt, length):
    data = random.Random(length).randbytes(length)
    digest = ctypes.create_string_buffer(32)
    rt.pdnn_sha256(data, len(data), digest)
    assert digest.raw == hashlib.sha256(data).digest()

    hexbuf = ctypes.create_string_buffer(65)
    rt.pdnn_sha256_hex(data, len(data), hexbuf)
    assert hexbuf.value.decode() == hashlib.sha256(data).hexdigest()


def test_sha256_known_vector(rt):
    hexbuf = ctypes.create_string_buffer(65)
    rt.pdnn_sha256_hex(b"abc", 3, hexbuf)
    assert hexbuf.value == b"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_alloc_is_aligned_and_zeroed(rt):
    for size in (0, 1, 63, 64, 1000, 1 << 16):
        p = rt.pdnn_alloc(size)
        assert p % 64 == 0
        if size:
            assert ctypes.string_at(p, size) == bytes(size)
        rt.pdnn_free(p)


def test_now_is_monotonic(rt):
    a = rt.pdnn_now()
    b = rt.pdnn_now()
    assert 0 < a <= b
