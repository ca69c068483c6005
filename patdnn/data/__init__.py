"""Datasets read by the project's own loaders (no torchvision)."""

from patdnn.data.fashion_mnist import (
    CLASSES, DatasetMissingError, fashion_mnist_root, load_fashion_mnist,
)
from patdnn.data.idx import IdxFormatError, read_idx

DATASETS = {"fashion-mnist": load_fashion_mnist}


def load_dataset(name: str, split: str = "train", limit: int | None = None):
    """A registered dataset by name (see DATASETS)."""
    try:
        loader = DATASETS[name]
    except KeyError:
        raise ValueError(f"unknown dataset {name!r}; valid names: {', '.join(sorted(DATASETS))}") from None
    return loader(split, limit=limit)


__all__ = [
    "CLASSES", "DATASETS", "DatasetMissingError", "IdxFormatError",
    "fashion_mnist_root", "load_dataset", "load_fashion_mnist", "read_idx",
]
