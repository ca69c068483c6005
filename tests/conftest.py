"""Project-wide pytest set-up.

* `slow` tests are skipped unless `-m slow` is given or PATDNN_SLOW=1.
* `need_toolchain(target, isa)` skips when a compiler/qemu is missing — except under CI=true,
  where a missing toolchain is a failure: CI must exercise every backend.
"""

from __future__ import annotations

import os

import pytest

from patdnn.toolchain import toolchain_problem


def pytest_collection_modifyitems(config, items):
    if os.environ.get("PATDNN_SLOW") == "1" or "slow" in (config.getoption("-m") or ""):
        return
    skip = pytest.mark.skip(reason="slow: run with -m slow or PATDNN_SLOW=1")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def need_toolchain(target: str, isa: str = "neon") -> None:
    problem = toolchain_problem(target, isa)
    if problem is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the {target}/{isa} backend: {problem}")
    pytest.skip(problem)
