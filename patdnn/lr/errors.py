"""LR errors: located `FILE:LINE:COL: message` plus the offending line and a caret."""

from __future__ import annotations


class LrError(ValueError):
    """A problem with an LR file or its weights blob (a user error: no traceback needed)."""


class LrSyntaxError(LrError):
    """The LR text does not follow the grammar (or a body misses / repeats a field)."""


def located(filename: str, source: str, line: int, column: int, message: str) -> str:
    """`FILE:LINE:COL: message`, then the source line and a caret under the column."""
    text = f"{filename}:{line}:{column}: {message}"
    lines = source.splitlines()
    if 1 <= line <= len(lines):
        src = lines[line - 1]
        pad = "".join(c if c == "\t" else " " for c in src[: max(column - 1, 0)])
        text += f"\n  {src}\n  {pad}^"
    return text
