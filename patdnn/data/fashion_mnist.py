"""Fashion-MNIST (Xiao et al. 2017) from Debian's `dataset-fashion-mnist` package.

60k training and 10k test 28x28 grey images, 10 classes. Images become float tensors
(N, 1, 28, 28) normalised with the training set's mean/std; no torchvision needed.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch.utils.data import TensorDataset

from patdnn.data.idx import read_idx

DEFAULT_ROOT = Path("/usr/share/datasets/fashion-mnist")
ROOT_VARIABLE = "PATDNN_FASHION_MNIST"
CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
# Training-set statistics of the [0, 1]-scaled pixels.
MEAN, STD = 0.2860, 0.3530
_FILES = {"train": "train", "test": "t10k"}


class DatasetMissingError(FileNotFoundError):
    """The dataset files are not installed."""


def fashion_mnist_root() -> Path:
    """$PATDNN_FASHION_MNIST if set, else Debian's install folder."""
    return Path(os.environ.get(ROOT_VARIABLE, DEFAULT_ROOT))


def _find(root: Path, stem: str) -> Path:
    for name in (f"{stem}.gz", stem):
        if (root / name).exists():
            return root / name
    raise DatasetMissingError(
        f"Fashion-MNIST file {stem}(.gz) not found in {root}: install the Debian package "
        f"'dataset-fashion-mnist' (apt-get install dataset-fashion-mnist) or set {ROOT_VARIABLE}"
    )


def load_fashion_mnist(split: str = "train", root: Path | None = None, limit: int | None = None) -> TensorDataset:
    """The `split` ("train" or "test") as a TensorDataset of (image, label); `limit`: first N only."""
    if split not in _FILES:
        raise ValueError(f"unknown split {split!r}: expected 'train' or 'test'")
    root = Path(root) if root is not None else fashion_mnist_root()
    prefix = _FILES[split]
    images = read_idx(_find(root, f"{prefix}-images-idx3-ubyte"))
    labels = read_idx(_find(root, f"{prefix}-labels-idx1-ubyte"))
    if len(images) != len(labels):
        raise ValueError(f"{root}: {len(images)} {split} images but {len(labels)} labels")
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    x = torch.from_numpy(images.astype("float32") / 255.0).unsqueeze(1)
    x = (x - MEAN) / STD
    return TensorDataset(x, torch.from_numpy(labels.astype("int64")))
