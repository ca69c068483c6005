"""Data sets by spec, as `patdnn prune` / `patdnn map` take them (`--data`):

  fashion-mnist          the built-in Fashion-MNIST (padded to `input_size`)
  imagefolder:DIR        class-per-folder images (patdnn.data.imagefolder; --resize, --crop,
                         --mean, --std)
  module.py:factory      a Python function returning (train, test) map-style datasets of
                         (image tensor (C, H, W), class index), or {"train": ..., "test": ...}

Input channels, image size and class count come from the data.
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import Dataset, Subset, TensorDataset

from patdnn.data.fashion_mnist import CLASSES, load_fashion_mnist
from patdnn.data.imagefolder import image_folder_splits

FASHION_MNIST = "fashion-mnist"
IMAGE_FOLDER = "imagefolder:"


@dataclass
class DataSplits:
    train: Dataset
    test: Dataset
    input_shape: tuple[int, int, int]  # C, H, W
    num_classes: int
    classes: list[str] | None = None


def load_python_factory(spec: str, what: str) -> tuple[Path, str, Any]:
    """(file, name, the callable) of `FILE.py:NAME`; one-line ValueErrors for each mistake."""
    path_text, _, name = spec.rpartition(":")
    path = Path(path_text)
    if path.suffix != ".py" or not name.isidentifier():
        raise ValueError(f"{what} {spec!r}: expected FILE.py:FUNCTION")
    if not path.is_file():
        raise ValueError(f"{what} file {path} does not exist")
    module_name = f"_patdnn_user_{abs(hash(str(path.resolve())))}"
    loader_spec = importlib.util.spec_from_file_location(module_name, path)
    assert loader_spec is not None and loader_spec.loader is not None
    module = importlib.util.module_from_spec(loader_spec)
    sys.modules[module_name] = module  # dataclasses and pickling look the module up
    try:
        loader_spec.loader.exec_module(module)
    except Exception as e:  # the user's file: its first error, one line
        raise ValueError(
            f"{path}: {type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}"
        ) from None
    factory = getattr(module, name, None)
    if not callable(factory):
        defined = sorted(
            n
            for n, v in vars(module).items()
            if callable(v) and not n.startswith("_") and getattr(v, "__module__", None) == module_name
        )
        listing = f"; it defines {', '.join(defined)}" if defined else ""
        raise ValueError(f"{path} does not define a function {name!r}{listing}")
    return path, name, factory


def call_with_known(factory: Any, **known: Any) -> Any:
    """Calls `factory` with those of `known` that its signature takes (None values skipped)."""
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        params = {}
    takes_all = any(p.kind == inspect.Parameter.VAR_KEYWORD for p in params.values())
    kwargs = {k: v for k, v in known.items() if v is not None and (takes_all or k in params)}
    return factory(**kwargs)


def _limit(data: Dataset, limit: int | None) -> Dataset:
    if limit is None or limit >= len(data):  # type: ignore[arg-type]
        return data
    if isinstance(data, TensorDataset):
        return TensorDataset(*(t[:limit] for t in data.tensors))
    return Subset(data, range(limit))


def pad_to(data: TensorDataset, size: int) -> TensorDataset:
    """Images padded (centred, with their minimum) to size x size."""
    x, y = data.tensors
    extra = size - x.shape[-1]
    if extra <= 0:
        return data
    before = extra // 2
    x = torch.nn.functional.pad(x, (before, extra - before, before, extra - before), value=float(x.min()))
    return TensorDataset(x, y)


def _labels(data: Dataset) -> torch.Tensor:
    if isinstance(data, TensorDataset):
        return data.tensors[1]
    return torch.tensor([int(data[i][1]) for i in range(len(data))])  # type: ignore[arg-type]


def load_data(
    spec: str,
    *,
    input_size: int | None = None,
    resize: int | None = None,
    crop: int | None = None,
    mean: tuple[float, ...] | None = None,
    std: tuple[float, ...] | None = None,
    train_limit: int | None = None,
    test_limit: int | None = None,
) -> DataSplits:
    """The (train, test) splits of `spec` (module docstring) and their shape and classes."""
    image_options = {"resize": resize, "crop": crop, "mean": mean, "std": std}
    given = [f"--{k}" for k, v in image_options.items() if v is not None]
    if spec == FASHION_MNIST:
        if given:
            raise ValueError(f"{', '.join(given)}: options of --data imagefolder:DIR (Fashion-MNIST: --input-size)")
        size = input_size or 28
        train = pad_to(load_fashion_mnist("train", limit=train_limit), size)
        test = pad_to(load_fashion_mnist("test", limit=test_limit), size)
        return DataSplits(train, test, (1, size, size), len(CLASSES), list(CLASSES))
    if input_size is not None:
        raise ValueError("--input-size pads Fashion-MNIST; for other data use --resize N / --crop N")
    classes = None
    if spec.startswith(IMAGE_FOLDER):
        train, test = image_folder_splits(Path(spec[len(IMAGE_FOLDER) :]), **image_options)
        classes = train.classes
    elif ":" in spec and spec.rpartition(":")[0].endswith(".py"):
        if given:
            raise ValueError(f"{', '.join(given)}: options of --data imagefolder:DIR (a factory prepares its own data)")
        path, name, factory = load_python_factory(spec, "data")
        made = factory()
        if isinstance(made, dict) and {"train", "test"} <= set(made):
            train, test = made["train"], made["test"]
        elif isinstance(made, (tuple, list)) and len(made) == 2:
            train, test = made
        else:
            raise ValueError(f"{path}:{name} returned {type(made).__name__}: expected (train, test) datasets")
        for split, data in (("train", train), ("test", test)):
            if not (hasattr(data, "__len__") and hasattr(data, "__getitem__")) or len(data) == 0:
                raise ValueError(f"{path}:{name}: the {split} set is not a non-empty map-style dataset")
        classes = getattr(train, "classes", None)
    else:
        raise ValueError(f"unknown data {spec!r}: expected {FASHION_MNIST}, imagefolder:DIR or FILE.py:FUNCTION")
    train, test = _limit(train, train_limit), _limit(test, test_limit)
    x = torch.as_tensor(train[0][0])
    if x.dim() != 3:
        raise ValueError(f"--data {spec}: an image is (C, H, W), got shape {tuple(x.shape)}")
    num_classes = len(classes) if classes else int(_labels(train).max()) + 1
    return DataSplits(train, test, tuple(x.shape), num_classes, list(classes) if classes else None)  # type: ignore[arg-type]
