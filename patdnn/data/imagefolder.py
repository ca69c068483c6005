"""Class-per-folder images (ROOT/<class>/<image>), decoded by Pillow (no torchvision).

Every image is converted to the folder's one mode (grey `L` or `RGB`: 1-bit and grey+alpha count
as grey, palette, RGBA and CMYK as RGB), optionally resized (shorter side to `resize`, bilinear)
and centre-cropped to `crop` x `crop`, scaled to [0, 1] and normalised per channel with `mean` /
`std` (default: the training images' own statistics). Images are decoded when read.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".ppm", ".pgm", ".tif", ".tiff", ".webp")
# Pillow mode -> the mode images are read in
_MODES = {"1": "L", "L": "L", "LA": "L", "I;16": "L", "RGB": "RGB", "RGBA": "RGB", "P": "RGB", "CMYK": "RGB"}
STAT_IMAGES = 512  # images the default mean / std are measured on


class ImageFolderError(ValueError):
    """The folder is not a usable class-per-folder image set."""


def _pillow():
    try:
        from PIL import Image
    except ImportError:
        raise ImageFolderError("reading images needs Pillow: pip install pillow") from None
    return Image


def _images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def scan_classes(root: Path) -> tuple[list[str], list[tuple[Path, int]]]:
    """(class names, [(image, class index)]) of ROOT/<class>/<image>."""
    root = Path(root)
    if not root.is_dir():
        raise ImageFolderError(f"image folder {root} does not exist")
    folders = [d for d in sorted(root.iterdir()) if d.is_dir() and _images(d)]
    if not folders:
        raise ImageFolderError(
            f"image folder {root} has no classes: expected {root}/CLASS/IMAGE.png, one folder a class"
        )
    names = [d.name for d in folders]
    return names, [(path, index) for index, d in enumerate(folders) for path in _images(d)]


class ImageFolder(Dataset):
    """(image tensor (C, H, W), class index) pairs of class-per-folder images (module docstring)."""

    def __init__(
        self,
        samples: list[tuple[Path, int]],
        classes: list[str],
        *,
        resize: int | None = None,
        crop: int | None = None,
        mean: tuple[float, ...] | None = None,
        std: tuple[float, ...] | None = None,
        mode: str | None = None,
        source: str = "image folder",
    ):
        Image = _pillow()
        self.samples, self.classes, self.resize, self.crop = list(samples), list(classes), resize, crop
        if not self.samples:
            raise ImageFolderError(f"{source}: no images")
        modes: Counter[str] = Counter()
        sizes: Counter[tuple[int, int]] = Counter()
        example: dict[str, Path] = {}
        for path, _ in self.samples:
            try:
                with Image.open(path) as image:  # reads the header only
                    read_as = _MODES.get(image.mode)
                    if read_as is None:
                        raise ImageFolderError(f"{path}: image mode {image.mode} is not supported (grey or RGB)")
                    modes[read_as] += 1
                    sizes[image.size] += 1
                    example.setdefault(read_as, path)
            except OSError as e:
                raise ImageFolderError(f"{path}: not an image Pillow can read ({e})") from None
        if mode is not None and mode not in modes:
            modes[mode] += 0
        if len(modes) > 1:
            counts = ", ".join(
                f"{m}: {n} (e.g. {example[m]})" if m in example else f"{m}: training set" for m, n in modes.items()
            )
            raise ImageFolderError(
                f"{source}: images of mixed modes ({counts}): convert them all to grey or all to RGB"
            )
        self.mode = next(iter(modes))
        self.channels = 1 if self.mode == "L" else 3
        if resize is None and crop is None and len(sizes) > 1:
            shown = ", ".join(f"{w}x{h}: {n}" for (w, h), n in sizes.most_common(3))
            raise ImageFolderError(f"{source}: images of different sizes ({shown}): give --resize N and/or --crop N")
        if mean is None or std is None:
            measured_mean, measured_std = self._statistics()
            mean, std = mean or measured_mean, std or measured_std
        self.mean = self._per_channel(mean, "mean", source)
        self.std = self._per_channel(std, "std", source)
        if (self.std <= 0).any():
            raise ImageFolderError(f"{source}: std must be > 0, got {self.std.tolist()}")

    def _per_channel(self, values, what: str, source: str) -> torch.Tensor:
        values = [float(v) for v in values]
        if len(values) == 1:
            values = values * self.channels
        if len(values) != self.channels:
            raise ImageFolderError(
                f"{source}: {len(values)} {what} values for {self.channels}-channel ({self.mode}) images"
            )
        return torch.tensor(values, dtype=torch.float32)

    def _statistics(self) -> tuple[list[float], list[float]]:
        step = max(1, len(self.samples) // STAT_IMAGES)
        pixels = torch.cat([self._decode(path).flatten(1) for path, _ in self.samples[::step]], dim=1)
        return pixels.mean(1).tolist(), pixels.std(1).clamp_min(1e-6).tolist()

    def _decode(self, path: Path) -> torch.Tensor:
        """(C, H, W) in [0, 1], resized and cropped."""
        Image = _pillow()
        with Image.open(path) as image:
            image = image.convert(self.mode)
            if self.resize is not None:
                w, h = image.size
                scale = self.resize / min(w, h)
                image = image.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.BILINEAR)
            if self.crop is not None:
                w, h = image.size
                if self.crop > min(w, h):
                    raise ImageFolderError(f"{path}: --crop {self.crop} is larger than the image ({w}x{h})")
                left, top = (w - self.crop) // 2, (h - self.crop) // 2
                image = image.crop((left, top, left + self.crop, top + self.crop))
            array = np.asarray(image, dtype=np.float32) / 255.0
        array = array[None] if array.ndim == 2 else array.transpose(2, 0, 1)
        return torch.from_numpy(np.ascontiguousarray(array))

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        path, label = self.samples[index]
        x = self._decode(path)
        return (x - self.mean[:, None, None]) / self.std[:, None, None], label

    def subset(self, samples: list[tuple[Path, int]], source: str) -> ImageFolder:
        """Other images read exactly like these (same classes, mode, sizes, normalisation)."""
        return ImageFolder(
            samples,
            self.classes,
            resize=self.resize,
            crop=self.crop,
            mean=tuple(self.mean.tolist()),
            std=tuple(self.std.tolist()),
            mode=self.mode,
            source=source,
        )


def image_folder_splits(
    root: Path,
    *,
    resize: int | None = None,
    crop: int | None = None,
    mean: tuple[float, ...] | None = None,
    std: tuple[float, ...] | None = None,
    test_every: int = 5,
) -> tuple[ImageFolder, ImageFolder]:
    """(train, test) of ROOT: ROOT/train and ROOT/test (or ROOT/val) when there are such folders,
    else ROOT/<class>/ split in a fixed way (every `test_every`-th image of each class is a test
    image). The test images are read with the training images' mode and statistics."""
    root = Path(root)
    if (root / "train").is_dir():
        held = next((root / name for name in ("test", "val") if (root / name).is_dir()), None)
        if held is None:
            raise ImageFolderError(f"{root}/train has no test/ or val/ folder beside it")
        classes, train_samples = scan_classes(root / "train")
        test_classes, raw = scan_classes(held)
        unknown = sorted(set(test_classes) - set(classes))
        if unknown:
            raise ImageFolderError(f"{held}: classes not in {root}/train: {', '.join(unknown)}")
        test_samples = [(path, classes.index(test_classes[label])) for path, label in raw]
        train_source, test_source = str(root / "train"), str(held)
    else:
        classes, samples = scan_classes(root)
        seen: Counter[int] = Counter()
        train_samples, test_samples = [], []
        for path, label in samples:
            (test_samples if seen[label] % test_every == test_every - 1 else train_samples).append((path, label))
            seen[label] += 1
        if not test_samples:
            raise ImageFolderError(f"{root}: too few images to hold out a test set (one in {test_every} per class)")
        train_source = test_source = str(root)
    train = ImageFolder(train_samples, classes, resize=resize, crop=crop, mean=mean, std=std, source=train_source)
    return train, train.subset(test_samples, test_source)
