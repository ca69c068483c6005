"""The IDX reader and the Fashion-MNIST loader (Debian's dataset-fashion-mnist)."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from patdnn.data import DatasetMissingError, IdxFormatError, fashion_mnist_root, load_dataset, read_idx


def _idx_bytes(array: np.ndarray) -> bytes:
    return b"\0\0\x08" + bytes([array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


@pytest.mark.parametrize("compressed", [False, True])
def test_read_idx_round_trip(tmp_path, compressed):
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = tmp_path / ("a.idx.gz" if compressed else "a.idx")
    data = _idx_bytes(array)
    path.write_bytes(gzip.compress(data) if compressed else data)
    np.testing.assert_array_equal(read_idx(path), array)


@pytest.mark.parametrize(
    "data, message",
    [
        (b"\x01\x00\x08\x01", "magic"),
        (b"\0\0\x0d\x01" + struct.pack(">I", 1) + b"\0\0\0\0", "type"),
        (b"\0\0\x08\x02" + struct.pack(">I", 2), "header"),
        (b"\0\0\x08\x01" + struct.pack(">I", 5) + b"abc", "expected 5 bytes"),
    ],
)
def test_read_idx_rejects_bad_files(tmp_path, data, message):
    path = tmp_path / "bad.idx"
    path.write_bytes(data)
    with pytest.raises(IdxFormatError, match=message):
        read_idx(path)


def test_fashion_mnist_test_split():
    if not (fashion_mnist_root() / "t10k-images-idx3-ubyte.gz").exists():
        pytest.skip("Debian package dataset-fashion-mnist is not installed")
    data = load_dataset("fashion-mnist", "test")
    x, y = data.tensors
    assert x.shape == (10000, 1, 28, 28) and y.shape == (10000,)
    assert np.bincount(y.numpy()).tolist() == [1000] * 10  # the test set is balanced
    assert abs(float(x.mean())) < 0.1  # normalised with the training statistics
    assert load_dataset("fashion-mnist", "test", limit=7).tensors[0].shape[0] == 7


def test_missing_dataset_names_the_package(tmp_path, monkeypatch):
    monkeypatch.setenv("PATDNN_FASHION_MNIST", str(tmp_path))
    with pytest.raises(DatasetMissingError, match="dataset-fashion-mnist"):
        load_dataset("fashion-mnist", "train")


def test_unknown_dataset():
    with pytest.raises(ValueError, match="fashion-mnist"):
        load_dataset("imagenet")
