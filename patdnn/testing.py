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
    _skip_or_fail(problem, f"the {target}/{isa} backend")


def need_program(program: str, package: str) -> None:
    """Skips the calling test when `program` (from Debian `package`, e.g. cmake) is not on PATH; fails
    under CI=true, like need_toolchain."""
    import shutil

    if shutil.which(program) is None:
        _skip_or_fail(f"'{program}' was not found on PATH; install it with `apt-get install {package}`", program)


def _skip_or_fail(problem: str, what: str) -> None:
    import pytest

    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run {what}: {problem}")
    pytest.skip(problem)


def export_onnx(model, example_input, path) -> object:
    """Writes `model` as an ONNX file (TorchScript exporter, opset 17, its chatter silenced) and
    returns the model's output on `example_input`: the reference an ONNX import is checked against."""
    import contextlib
    import io
    import warnings

    import torch

    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (example_input,), str(path), dynamo=False, opset_version=17)
        return model(example_input)
