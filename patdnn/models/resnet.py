"""ResNet-18/50 (torchvision v1.5 layout and ``state_dict`` keys) and CIFAR ResNet-20.

``resnet18()``/``resnet50()`` match torchvision's module tree exactly (``conv1``, ``bn1``,
``relu``, ``maxpool``, ``layer1..4``, ``avgpool``, ``fc``; blocks with ``conv1``/``bn1``/...;
``downsample = Sequential(conv1x1, BatchNorm2d)``; the Bottleneck stride on its 3x3 conv), so
torchvision checkpoints load with ``load_state_dict(strict=True)``.
"""

from __future__ import annotations

import torch
from torch import nn

from ._init import init_weights

__all__ = [
    "BasicBlock",
    "Bottleneck",
    "ResNet",
    "ResNetCifar",
    "conv1x1",
    "conv3x3",
    "resnet18",
    "resnet20_cifar",
    "resnet50",
]


def conv3x3(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    """3x3 convolution, padding 1, no bias."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, bias=False)


def conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    """1x1 convolution, no bias."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


def _downsample(inplanes: int, outplanes: int, stride: int) -> nn.Sequential | None:
    if stride == 1 and inplanes == outplanes:
        return None
    return nn.Sequential(conv1x1(inplanes, outplanes, stride), nn.BatchNorm2d(outplanes))


class BasicBlock(nn.Module):
    expansion: int = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None) -> None:
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class Bottleneck(nn.Module):
    """torchvision's v1.5 Bottleneck: the stride sits on the 3x3 convolution (``conv2``)."""

    expansion: int = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None) -> None:
        super().__init__()
        width = planes
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = conv3x3(width, width, stride)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


Block = type[BasicBlock] | type[Bottleneck]


def _make_layer(inplanes: int, block: Block, planes: int, blocks: int, stride: int = 1) -> tuple[nn.Sequential, int]:
    """A stage of ``blocks`` blocks; returns it and the stage's output channel count."""
    outplanes = planes * block.expansion
    layers: list[nn.Module] = [block(inplanes, planes, stride, _downsample(inplanes, outplanes, stride))]
    for _ in range(1, blocks):
        layers.append(block(outplanes, planes))
    return nn.Sequential(*layers), outplanes


class ResNet(nn.Module):
    """torchvision's ImageNet ``ResNet`` (groups=1, width_per_group=64, no dilation)."""

    def __init__(self, block: Block, layers: list[int], num_classes: int = 1000) -> None:
        super().__init__()
        self.inplanes = 64
        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        c = self.inplanes
        self.layer1, c = _make_layer(c, block, 64, layers[0])
        self.layer2, c = _make_layer(c, block, 128, layers[1], stride=2)
        self.layer3, c = _make_layer(c, block, 256, layers[2], stride=2)
        self.layer4, c = _make_layer(c, block, 512, layers[3], stride=2)
        self.inplanes = c
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer1(x)
        x = self.layer2(x)
        x = self.layer3(x)
        x = self.layer4(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.fc(x)


class ResNetCifar(nn.Module):
    """He et al. (2016) CIFAR ResNet-(6n+2) with option-B shortcuts.

    Layout (``state_dict`` prefixes)::

        conv1   Conv2d(in_channels, 16, 3x3, pad 1, no bias); bn1; relu   (32x32)
        layer1  n x BasicBlock(16)                                          (32x32)
        layer2  n x BasicBlock(32), first with stride 2                     (16x16)
        layer3  n x BasicBlock(64), first with stride 2                     (8x8)
        avgpool AdaptiveAvgPool2d((1, 1)); flatten; fc Linear(64, num_classes)

    Where a block changes shape (layer2.0, layer3.0) the shortcut is
    ``downsample = Sequential(Conv2d 1x1 stride 2, BatchNorm2d)`` (option B), not
    the zero-padding option A, so every op is an ordinary conv/BN.
    """

    def __init__(self, depth: int = 20, num_classes: int = 10, in_channels: int = 3) -> None:
        super().__init__()
        if (depth - 2) % 6 != 0:
            raise ValueError(f"CIFAR ResNet depth must be 6n+2, got {depth}")
        n = (depth - 2) // 6
        self.conv1 = conv3x3(in_channels, 16)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        c = 16
        self.layer1, c = _make_layer(c, BasicBlock, 16, n)
        self.layer2, c = _make_layer(c, BasicBlock, 32, n, stride=2)
        self.layer3, c = _make_layer(c, BasicBlock, 64, n, stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(64, num_classes)
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer1(x)
        x = self.layer2(x)
        x = self.layer3(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.fc(x)


def resnet18(num_classes: int = 1000) -> ResNet:
    """torchvision's ``resnet18``: 11,689,512 parameters at 1000 classes."""
    return ResNet(BasicBlock, [2, 2, 2, 2], num_classes=num_classes)


def resnet50(num_classes: int = 1000) -> ResNet:
    """torchvision's ``resnet50`` (v1.5): 25,557,032 parameters at 1000 classes."""
    return ResNet(Bottleneck, [3, 4, 6, 3], num_classes=num_classes)


def resnet20_cifar(num_classes: int = 10, in_channels: int = 3) -> ResNetCifar:
    """CIFAR ResNet-20 with option-B shortcuts (see :class:`ResNetCifar`).

    272,474 parameters at 10 classes and 3 input channels (the paper's option-A ResNet-20
    has 0.27M; the two 1x1 shortcut convs + BNs add 2,752 of them).
    """
    return ResNetCifar(20, num_classes=num_classes, in_channels=in_channels)
