"""Notes: what the compiler did differently from what it was asked, said in one line.

A pass or an emitter that changes a value it was given (a schedule's `tile_x 7` rounded up to the
vector width, a `tile_y` larger than the layer clamped to its rows) calls `note(...)`, which issues
a Python warning of category `Note`. Passes have no stream of their own to print on, and warnings
reach every caller: the tools (`patdnn-opt`, `patdnnc`) collect them with `printing_notes()` and
print each, once, as `note: ...` on stderr; a library user sees them as warnings and may filter,
record or raise them (`warnings.simplefilter("error", Note)`).
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

__all__ = ["Note", "note", "printing_notes", "layer_title"]


class Note(UserWarning):
    """A value the compiler was given and changed (rounded, clamped, ignored): not an error."""


def note(message: str) -> None:
    """Issues `message` as a `Note` warning (shown to the caller of the pass or printer)."""
    warnings.warn(message, Note, stacklevel=2)


def layer_title(op, fallback: str) -> str:
    """`layer 'conv1'` from the op's `layer` attribute, else `fallback` (e.g. the C symbol)."""
    layer = op.attributes.get("layer")
    name = getattr(layer, "data", None)
    return f"layer '{name}'" if isinstance(name, str) else fallback


@contextmanager
def printing_notes(stream: TextIO | None = None) -> Iterator[None]:
    """Prints every `Note` issued inside the block as one `note: ...` line (each message once);
    other warnings pass through unchanged."""
    seen: set[str] = set()
    shown = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if not issubclass(category, Note):
            shown(message, category, filename, lineno, file, line)
            return
        text = str(message)
        if text not in seen:
            seen.add(text)
            print(f"note: {text}", file=stream or sys.stderr)

    with warnings.catch_warnings():
        warnings.simplefilter("always", Note)
        warnings.showwarning = show
        yield
