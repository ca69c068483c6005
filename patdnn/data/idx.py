"""Reader for the IDX format of (Fashion-)MNIST: big-endian header, then raw uint8 data.

Header: two zero bytes, a type code (0x08 = uint8), the number of dimensions, then one
big-endian uint32 per dimension. Files may be gzip-compressed (Debian ships `.gz`).
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

UINT8 = 0x08


class IdxFormatError(ValueError):
    """The file is not an uint8 IDX file (or is truncated)."""


def read_idx(path: Path) -> np.ndarray:
    """The array stored in an IDX file (gzip or plain), as uint8 with the header's shape."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0:2] != b"\0\0":
        raise IdxFormatError(f"{path}: not an IDX file (bad magic)")
    dtype, ndim = data[2], data[3]
    if dtype != UINT8:
        raise IdxFormatError(f"{path}: IDX element type 0x{dtype:02x} is not uint8")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise IdxFormatError(f"{path}: truncated IDX header")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    count = int(np.prod(shape))
    if len(data) - header != count:
        raise IdxFormatError(f"{path}: expected {count} bytes of data for shape {shape}, found {len(data) - header}")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)
