"""Resumable checkpoints: one file, replaced atomically after every epoch."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Writes `state` to `path` via a temporary file, so an interrupted save never corrupts it."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: Path) -> dict[str, Any] | None:
    """The saved state, or None when there is none."""
    path = Path(path)
    if not path.exists():
        return None
    # Our own file: it holds numpy arrays (library, ids) next to tensors.
    return torch.load(path, map_location="cpu", weights_only=False)
