"""Shared fixtures for the runtime tests: a ctypes view of the runtime and strict build flags."""

import ctypes

import pytest

from patdnn.toolchain import build_shared_library, runtime_sources, toolchain_problem

# The runtime must stay warning-free; test builds treat warnings as errors.
STRICT_FLAGS = ("-Wall", "-Wextra", "-Werror")


def _declare(lib: ctypes.CDLL) -> ctypes.CDLL:
    c = ctypes
    sigs = {
        "pdnn_ctx_create": (c.c_void_p, [c.c_int, c.c_char_p]),
        "pdnn_ctx_destroy": (None, [c.c_void_p]),
        "pdnn_ctx_error": (c.c_char_p, [c.c_void_p]),
        "pdnn_ctx_num_threads": (c.c_int, [c.c_void_p]),
        "pdnn_ctx_blob": (c.c_void_p, [c.c_void_p, c.c_char_p, c.c_uint64, c.c_char_p]),
        "pdnn_alloc": (c.c_void_p, [c.c_size_t]),
        "pdnn_free": (None, [c.c_void_p]),
        "pdnn_now": (c.c_double, []),
        "pdnn_sha256": (None, [c.c_char_p, c.c_size_t, c.c_char_p]),
        "pdnn_sha256_hex": (None, [c.c_char_p, c.c_size_t, c.c_char_p]),
    }
    for name, (restype, argtypes) in sigs.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = restype, argtypes
    # Variadic: declare only the fixed part, pass the rest as char*.
    lib.pdnn_ctx_fail.restype = c.c_int
    return lib


@pytest.fixture(scope="session")
def strict_flags() -> tuple[str, ...]:
    return STRICT_FLAGS


@pytest.fixture(scope="session")
def rt(tmp_path_factory) -> ctypes.CDLL:
    """The runtime as a host shared library, with ctypes signatures declared."""
    if problem := toolchain_problem("host", isa="scalar"):
        pytest.skip(problem)
    so = tmp_path_factory.mktemp("rt") / "libpatdnn_rt.so"
    build_shared_library(runtime_sources(), so, isa="scalar", extra_flags=STRICT_FLAGS)
    return _declare(ctypes.CDLL(str(so)))


@pytest.fixture
def ctx_factory(rt):
    """Creates pdnn contexts and destroys them after the test."""
    made = []

    def make(num_threads=1, weights_dir=None):
        wd = None if weights_dir is None else str(weights_dir).encode()
        ctx = rt.pdnn_ctx_create(num_threads, wd)
        assert ctx
        made.append(ctx)
        return ctx

    yield make
    for ctx in made:
        rt.pdnn_ctx_destroy(ctx)
