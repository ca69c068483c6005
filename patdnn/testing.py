"""Helpers for patdnn's test suites (and for users testing their own compiled models)."""

from __future__ import annotations

import os

from patdnn.toolchain import host_cpu_problem, toolchain_problem


def need_toolchain(target: str, isa: str = "neon") -> None:
    """Skips the calling test when `target`/`isa` (or target "opencl") cannot be built or run here — except under
    CI=true, where a missing toolchain fails the test: CI must exercise every backend."""
    import pytest

    if target == "opencl":  # the OpenCL headers/loader and at least one platform (e.g. PoCL)
        from patdnn.runners.opencl import opencl_problem

        problem = opencl_problem()
    else:
        problem = toolchain_problem(target, isa)
    if problem is None:
        if target == "host" and (cpu := host_cpu_problem(isa)) is not None:
            pytest.skip(cpu)  # a property of the machine, not a missing package: skipped even in CI
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the {target}/{isa} backend: {problem}")
    pytest.skip(problem)
