"""The weights blob: one file of byte segments (f32 weights, i8 pattern ids, i32 block columns and
offsets) at 64-byte aligned offsets (vector-friendly), named in the IR and the LR by its sha256.

`BlobWriter` is the one writer, used by the frontend, `patdnn.ir_builder` / `patdnn.nn_builder`
and the LR printer; reading and checking a blob is the LR's (`patdnn.lr.blob`) and the backends'.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

ALIGN = 64  # bytes


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class BlobWriter:
    """Appends segments to one blob; `close()` writes it to `path` and returns its sha256, so
    references to it (offset, size, digest) are valid once `close()` ran. Without a path, the
    caller takes the bytes (`payload()`)."""

    def __init__(self, path: Path | None = None):
        self.path = None if path is None else Path(path)
        self.parts: list[bytes] = []
        self.size = 0

    def add_bytes(self, data: bytes) -> tuple[int, int]:
        """Appends `data` at the next aligned offset; returns (offset, size) in bytes."""
        pad = (-self.size) % ALIGN
        self.parts.append(b"\0" * pad + data)
        offset = self.size + pad
        self.size = offset + len(data)
        return offset, len(data)

    def add(self, values: np.ndarray) -> tuple[int, int]:
        """Appends `values` as f32; returns (offset, size) in bytes."""
        return self.add_bytes(np.ascontiguousarray(values, dtype=np.float32).tobytes())

    def payload(self) -> bytes:
        return b"".join(self.parts)

    def close(self) -> str:
        """Writes the blob to `path` (creating its folder); returns its sha256."""
        if self.path is None:
            raise ValueError("BlobWriter.close() needs the path the blob is written to")
        payload = self.payload()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_bytes(payload)
        return sha256(payload)
