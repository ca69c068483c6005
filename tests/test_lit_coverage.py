"""Every dialect and every pass has its lit/FileCheck test (docs/design.md: lit layout)."""

from __future__ import annotations

from pathlib import Path

from patdnn.passes import get_all_passes

ROOT = Path(__file__).resolve().parents[1]
FILECHECK = ROOT / "tests" / "filecheck"


def test_every_dialect_has_a_lit_test():
    dialects = [p.stem for p in (ROOT / "dialects").glob("*.py") if p.stem not in ("__init__", "common")]
    assert len(dialects) >= 4
    missing = [d for d in dialects if not list((FILECHECK / "dialects").glob(f"{d}_*.mlir"))]
    assert not missing, f"dialects without a tests/filecheck/dialects/<name>_*.mlir test: {missing}"


def test_every_pass_has_a_lit_test():
    passes = [name.replace("-", "_") for name in get_all_passes()]
    missing = [p for p in passes if not (FILECHECK / "passes" / f"{p}.mlir").is_file()]
    assert not missing, f"passes without a tests/filecheck/passes/<name>.mlir test: {missing}"
    for name in passes:  # and each one runs its pass
        runs = [line for line in (FILECHECK / "passes" / f"{name}.mlir").read_text().splitlines() if "RUN:" in line]
        assert any(name.replace("_", "-") in line.split(" -p ", 1)[-1] for line in runs if " -p " in line), name
