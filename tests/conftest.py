"""Project-wide pytest set-up.

* `slow` tests are skipped unless `-m slow` is given or PATDNN_SLOW=1.
* `patdnn.testing.need_toolchain(target, isa)` skips a test when a compiler/qemu is missing —
  except under CI=true, where that is a failure: CI must exercise every backend.
"""

from __future__ import annotations

import os

import pytest


def pytest_collection_modifyitems(config, items):
    if os.environ.get("PATDNN_SLOW") == "1" or "slow" in (config.getoption("-m") or ""):
        return
    skip = pytest.mark.skip(reason="slow: run with -m slow or PATDNN_SLOW=1")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
