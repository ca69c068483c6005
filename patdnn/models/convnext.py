"""ConvNeXt (Tiny by default) with torchvision's module tree and ``state_dict`` keys.

``features.0`` is the 4x4 stride-4 patchify stem (conv with bias, LayerNorm2d), then stages of
CNBlocks alternating with downsamplers (``Sequential(LayerNorm2d, 2x2 stride-2 conv)``), an
average pool and ``classifier = Sequential(LayerNorm2d, Flatten, Linear)``. A CNBlock is
``x + layer_scale * block(x)``, ``block`` = 7x7 depthwise conv, permute to channels-last,
LayerNorm (eps 1e-6), Linear to 4x, GELU, Linear back, permute to NCHW. LayerNorm2d normalises
over the channels by permute → LayerNorm → permute, as torchvision writes it. ``widths`` /
``depths`` give smaller variants (Tiny: 96-192-384-768, 3-3-9-3).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import torch
from torch import nn

from ._layers import Conv2dNormActivation, LayerNorm2d, Permute, StochasticDepth

__all__ = ["CNBlock", "ConvNeXt", "convnext_tiny"]


class CNBlock(nn.Module):
    def __init__(self, dim: int, layer_scale: float, stochastic_depth_prob: float) -> None:
        super().__init__()
        self.block = nn.Sequential(
            nn.Conv2d(dim, dim, kernel_size=7, padding=3, groups=dim, bias=True),
            Permute([0, 2, 3, 1]),
            nn.LayerNorm(dim, eps=1e-6),
            nn.Linear(dim, 4 * dim, bias=True),
            nn.GELU(),
            nn.Linear(4 * dim, dim, bias=True),
            Permute([0, 3, 1, 2]),
        )
        self.layer_scale = nn.Parameter(torch.ones(dim, 1, 1) * layer_scale)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, "row")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.stochastic_depth(self.layer_scale * self.block(x)) + x


class ConvNeXt(nn.Module):
    def __init__(
        self,
        widths: Sequence[int],
        depths: Sequence[int],
        stochastic_depth_prob: float = 0.0,
        layer_scale: float = 1e-6,
        num_classes: int = 1000,
    ) -> None:
        super().__init__()
        if len(widths) != len(depths) or not widths:
            raise ValueError(f"ConvNeXt needs one width per stage, got widths {widths} and depths {depths}")
        norm = partial(LayerNorm2d, eps=1e-6)
        layers: list[nn.Module] = [
            Conv2dNormActivation(3, widths[0], 4, 4, padding=0, norm_layer=norm, activation_layer=None, bias=True)
        ]
        total, block_id = sum(depths), 0
        for i, (width, depth) in enumerate(zip(widths, depths)):
            stage = []
            for _ in range(depth):
                stage.append(CNBlock(width, layer_scale, stochastic_depth_prob * block_id / max(total - 1.0, 1.0)))
                block_id += 1
            layers.append(nn.Sequential(*stage))
            if i + 1 < len(widths):
                layers.append(nn.Sequential(norm(width), nn.Conv2d(width, widths[i + 1], kernel_size=2, stride=2)))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(norm(widths[-1]), nn.Flatten(1), nn.Linear(widths[-1], num_classes))
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.avgpool(self.features(x)))


def convnext_tiny(
    num_classes: int = 1000, widths: Sequence[int] = (96, 192, 384, 768), depths: Sequence[int] = (3, 3, 9, 3)
) -> ConvNeXt:
    """torchvision's ``convnext_tiny`` (28,589,128 parameters at 1000 classes; stochastic depth 0.1)."""
    return ConvNeXt(widths, depths, stochastic_depth_prob=0.1, num_classes=num_classes)
