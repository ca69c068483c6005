"""DeepLab-V3 (Chen et al. 2017) with an ASPP head as torchvision writes it, on a small dilated
ResNet backbone.

``backbone``: a ResNet-18-style trunk (``conv1``/``bn1``/``relu``/``maxpool``, ``layer1..4`` of
BasicBlocks) at output stride 16: ``layer4`` keeps stride 1 and dilates its 3x3 convs by 2.
``classifier``: torchvision's ``DeepLabHead`` = ASPP (``convs.0`` 1x1, ``convs.1..3`` 3x3 convs
dilated 6 / 12 / 18, ``convs.4`` image pooling: global average, 1x1 conv, BN, ReLU, bilinear
upsampling back; concatenated and projected to ``aspp_channels`` by ``project``), 3x3 conv, BN,
ReLU, 1x1 conv to ``num_classes``. ``forward`` returns the score maps bilinearly upsampled to the
input size (align_corners False), N x num_classes x H x W (torchvision's ``["out"]``).
``width`` (64), ``aspp_channels`` (256), ``blocks`` (2 per stage) and ``atrous_rates`` give
smaller variants.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from ._init import init_weights
from .resnet import BasicBlock, _downsample

__all__ = ["ASPP", "DeepLabHead", "DeepLabV3", "DilatedResNet", "deeplab_v3"]


class ASPPConv(nn.Sequential):
    def __init__(self, c_in: int, c_out: int, dilation: int) -> None:
        super().__init__(
            nn.Conv2d(c_in, c_out, 3, padding=dilation, dilation=dilation, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()
        )


class ASPPPooling(nn.Sequential):
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__(
            nn.AdaptiveAvgPool2d(1), nn.Conv2d(c_in, c_out, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = x.shape[-2:]
        for module in self:
            x = module(x)
        return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


class ASPP(nn.Module):
    def __init__(self, c_in: int, atrous_rates: Sequence[int], c_out: int = 256) -> None:
        super().__init__()
        branches: list[nn.Module] = [
            nn.Sequential(nn.Conv2d(c_in, c_out, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU())
        ]
        branches.extend(ASPPConv(c_in, c_out, rate) for rate in atrous_rates)
        branches.append(ASPPPooling(c_in, c_out))
        self.convs = nn.ModuleList(branches)
        self.project = nn.Sequential(
            nn.Conv2d(len(branches) * c_out, c_out, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(), nn.Dropout(0.5)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.project(torch.cat([branch(x) for branch in self.convs], dim=1))


class DeepLabHead(nn.Sequential):
    def __init__(self, c_in: int, num_classes: int, atrous_rates: Sequence[int] = (6, 12, 18), c_aspp: int = 256):
        super().__init__(
            ASPP(c_in, atrous_rates, c_aspp),
            nn.Conv2d(c_aspp, c_aspp, 3, padding=1, bias=False),
            nn.BatchNorm2d(c_aspp),
            nn.ReLU(),
            nn.Conv2d(c_aspp, num_classes, 1),
        )


def _dilate(block: BasicBlock, dilation: int) -> BasicBlock:
    """The block's 3x3 convs dilated (and padded) by ``dilation``: the stride-free last stage."""
    for conv in (block.conv1, block.conv2):
        conv.dilation, conv.padding = (dilation, dilation), (dilation, dilation)
    return block


class DilatedResNet(nn.Module):
    """ResNet-18-style trunk at output stride 16 (``layer4`` dilated 2 instead of strided)."""

    def __init__(self, width: int = 64, blocks: int = 2) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        stages, c_in = [], width
        for i, (stride, dilation) in enumerate([(1, 1), (2, 1), (2, 1), (1, 2)]):
            c_out = width * 2**i
            stage = [BasicBlock(c_in, c_out, stride, _downsample(c_in, c_out, stride))]
            stage += [BasicBlock(c_out, c_out) for _ in range(blocks - 1)]
            stages.append(nn.Sequential(*[_dilate(b, dilation) for b in stage] if dilation > 1 else stage))
            c_in = c_out
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.out_channels = c_in

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))


class DeepLabV3(nn.Module):
    def __init__(
        self,
        num_classes: int = 21,
        width: int = 64,
        blocks: int = 2,
        aspp_channels: int = 256,
        atrous_rates: Sequence[int] = (6, 12, 18),
    ) -> None:
        super().__init__()
        self.backbone = DilatedResNet(width, blocks)
        self.classifier = DeepLabHead(self.backbone.out_channels, num_classes, atrous_rates, aspp_channels)
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = x.shape[-2:]
        y = self.classifier(self.backbone(x))
        return F.interpolate(y, size=size, mode="bilinear", align_corners=False)


def deeplab_v3(
    num_classes: int = 21,
    width: int = 64,
    blocks: int = 2,
    aspp_channels: int = 256,
    atrous_rates: Sequence[int] = (6, 12, 18),
) -> DeepLabV3:
    """DeepLab-V3 on a dilated ResNet-18-style backbone, output stride 16, ASPP rates 6/12/18, 21 classes (VOC)."""
    return DeepLabV3(num_classes, width, blocks, aspp_channels, atrous_rates)
