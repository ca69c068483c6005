"""Reading the LR's weights blob: the file must match its sha256 and every segment lie inside it
(the blob format and its one writer are patdnn.sparsity.blob)."""

from __future__ import annotations

from pathlib import Path

from patdnn.lr.errors import LrError
from patdnn.lr.syntax import Span
from patdnn.sparsity.blob import sha256


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
    return data[span.offset : span.offset + span.size]
