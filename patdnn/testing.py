"""Helpers for patdnn's test suites (and for users testing their own compiled models)."""

from __future__ import annotations

import os

from patdnn.toolchain import toolchain_problem


def need_toolchain(target: str, isa: str = "neon") -> None:
    """Skips the calling test when `target`/`isa` cannot be built or run here — except under
    CI=true, where a missing toolchain fails the test: CI must exercise every backend."""
    import pytest

    problem = toolchain_problem(target, isa)
    if problem is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the {target}/{isa} backend: {problem}")
    pytest.skip(problem)
