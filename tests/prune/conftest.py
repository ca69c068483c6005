"""Shared by the user-model tests: a small image folder written as real PNG files (Pillow) and a
user-defined network in a file of its own (not in patdnn.models)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

CLASSES = ("stripes", "columns", "checker")
SIZE = 12

# A user's own network: two 3x3 convs (the second one is pattern-pruned), BN, a classifier.
NET_SOURCE = """
import torch
from torch import nn


class TinyNet(nn.Module):
    def __init__(self, in_channels=1, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(16)
        self.fc = nn.Linear(16, num_classes)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        x = torch.relu(self.bn2(self.conv2(x)))
        return self.fc(x.mean(dim=(2, 3)))


def make_net(in_channels=1, num_classes=10):
    return TinyNet(in_channels, num_classes)


def not_a_module():
    return [1, 2, 3]
"""


def class_image(label: int, rng: np.random.Generator, size: int = SIZE) -> np.ndarray:
    """A grey uint8 image of class `label`: horizontal stripes, vertical stripes or a checker, at a
    random phase, with noise."""
    rows, cols = np.mgrid[:size, :size]
    shift = int(rng.integers(0, 4))
    pattern = [(rows + shift) // 2 % 2, (cols + shift) // 2 % 2, ((rows + shift) // 3 + (cols + shift) // 3) % 2][label]
    image = 60 + 140 * pattern + rng.normal(0, 20, (size, size))
    return np.clip(image, 0, 255).astype(np.uint8)


def write_image_folder(root: Path, per_class: int = 12, mode: str = "L", seed: int = 0) -> Path:
    """ROOT/<class>/<i>.png: `per_class` real PNG files per class (Pillow)."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    for label, name in enumerate(CLASSES):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            image = Image.fromarray(class_image(label, rng), mode="L")
            image.convert(mode).save(root / name / f"{i:03d}.png")
    return root


@pytest.fixture(scope="session")
def image_folder(tmp_path_factory) -> Path:
    return write_image_folder(tmp_path_factory.mktemp("images") / "shapes")


@pytest.fixture(scope="session")
def net_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("usernet") / "tinynet.py"
    path.write_text(NET_SOURCE)
    return path


def run_patdnn(capsys, *args: str) -> tuple[int, str, str]:
    """Runs `patdnn ARGS` in-process (no interpreter start-up per case): (status, stdout, stderr)."""
    from patdnn.tools.patdnn_cli import main

    try:
        status = main(list(args))
    except SystemExit as e:
        status = e.code
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture
def prune_mistake(capsys, tmp_path):
    """`check(args, message)`: `patdnn prune` with `args` (no training) fails with one line naming `message`."""

    def check(args: list[str], message: str) -> None:
        quick = ["--dense-epochs", "0", "--train-limit", "64", "--test-limit", "64"]
        status, _, err = run_patdnn(capsys, "prune", "-o", str(tmp_path / "o"), *quick, *args)
        assert status == 1
        lines = err.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], err

    return check
