"""The LR weights blob: one file of 64-byte aligned segments, checked by sha256."""

from __future__ import annotations

import hashlib
from pathlib import Path

from patdnn.lr.errors import LrError
from patdnn.lr.syntax import Span

ALIGN = 64


class SegmentWriter:
    """Collects byte segments (f32 weights, i8 ids) at 64-byte aligned offsets."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.size = 0

    def add(self, data: bytes) -> Span:
        pad = (-self.size) % ALIGN
        self.parts.append(b"\0" * pad + data)
        offset = self.size + pad
        self.size = offset + len(data)
        return Span(offset, len(data))

    def payload(self) -> bytes:
        return b"".join(self.parts)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_checked(path: Path, digest: str, what: str) -> bytes:
    """The bytes of `path`, which must exist and hash to `digest`."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise LrError(f"{what}: cannot read weights blob {path}: {e.strerror or e}") from None
    actual = sha256(data)
    if actual != digest:
        raise LrError(f"{what}: weights blob {path} has sha256 {actual}, expected {digest} (damaged or stale)")
    return data


def segment(data: bytes, span: Span, path: Path, what: str) -> bytes:
    """The bytes of `span`, which must lie inside the blob."""
    if span.offset < 0 or span.offset + span.size > len(data):
        raise LrError(f"{what}: segment @{span.offset} +{span.size} lies outside {path} ({len(data)} bytes)")
    return data[span.offset: span.offset + span.size]
