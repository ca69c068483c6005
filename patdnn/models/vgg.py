"""VGG-16: torchvision's ImageNet layout and the common CIFAR-10 (BatchNorm) variant.

``vgg16()`` has exactly torchvision's module tree and ``state_dict`` keys
(``features.{0,2,5,...,28}``, ``classifier.{0,3,6}``), so a torchvision VGG-16 checkpoint
loads with ``load_state_dict(strict=True)``.
"""

from __future__ import annotations

import torch
from torch import nn

from ._init import init_weights

__all__ = ["VGG", "VGG16_CFG", "make_layers", "vgg16", "vgg16_cifar"]

#: Configuration "D" of Simonyan & Zisserman: conv output channels, "M" = 2x2 max pool.
VGG16_CFG: list[int | str] = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]


def make_layers(cfg: list[int | str], batch_norm: bool = False, in_channels: int = 3) -> nn.Sequential:
    """``features`` as torchvision builds it: Conv3x3(pad 1)[, BN], ReLU per entry; MaxPool(2, 2) per "M"."""
    layers: list[nn.Module] = []
    c = in_channels
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            v = int(v)
            conv = nn.Conv2d(c, v, kernel_size=3, padding=1)
            if batch_norm:
                layers += [conv, nn.BatchNorm2d(v), nn.ReLU(inplace=True)]
            else:
                layers += [conv, nn.ReLU(inplace=True)]
            c = v
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """torchvision's ``VGG``: features -> AdaptiveAvgPool2d((7, 7)) -> flatten -> classifier."""

    def __init__(self, features: nn.Sequential, num_classes: int = 1000, dropout: float = 0.5) -> None:
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes),
        )
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


class VGGCifar(nn.Module):
    """VGG-16 with BatchNorm for 32x32 inputs (CIFAR-10, Fashion-MNIST padded to 32x32).

    Layout (``state_dict`` prefixes)::

        features  = make_layers(VGG16_CFG, batch_norm=True, in_channels)
                    13 x [Conv2d(3x3, pad 1, bias) , BatchNorm2d, ReLU] with 5 MaxPool2d(2, 2)
                    -> indices 0,1,2 conv/bn/relu ... 6 maxpool ... 43 last maxpool
                    32x32 input -> 512 x 1 x 1
        flatten   -> 512
        classifier = Linear(512, num_classes)          (keys "classifier.weight"/"classifier.bias")

    There is no avgpool: the input must be 32x32 (the flatten yields 512 features only then).
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 3) -> None:
        super().__init__()
        self.features = make_layers(VGG16_CFG, batch_norm=True, in_channels=in_channels)
        self.classifier = nn.Linear(512, num_classes)
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


def vgg16(num_classes: int = 1000) -> VGG:
    """torchvision's ``vgg16`` (no BatchNorm): 138,357,544 parameters at 1000 classes."""
    return VGG(make_layers(VGG16_CFG, batch_norm=False), num_classes=num_classes)


def vgg16_cifar(num_classes: int = 10, in_channels: int = 3) -> VGGCifar:
    """CIFAR VGG-16 with BatchNorm (see :class:`VGGCifar`): 14,728,266 parameters at 10 classes, 3 channels."""
    return VGGCifar(num_classes=num_classes, in_channels=in_channels)
