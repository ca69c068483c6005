"""MobileNet-V3 Small and Large with torchvision's module tree and ``state_dict`` keys.

``features.0`` is the 3x3 stride-2 stem (Conv2dNormActivation with Hardswish), ``features.1..N``
are InvertedResiduals whose layers sit in ``.block`` ([1x1 expand], kxk depthwise, [squeeze-and-
excitation with ReLU and Hardsigmoid], 1x1 linear projection), ``features.N+1`` the 1x1 conv to 6x
the last block's channels, ``classifier = Sequential(Linear, Hardswish, Dropout, Linear)``.
BatchNorms use eps 1e-3 and momentum 0.01, as torchvision's do. ``round_nearest`` (default 8,
torchvision's) lets tests build narrow variants whose channel counts are not multiples of 8.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import torch
from torch import nn

from ._init import init_weights
from ._layers import Conv2dNormActivation, SqueezeExcitation
from .mobilenet import _make_divisible

__all__ = ["BlockConfig", "InvertedResidual", "MobileNetV3", "mobilenet_v3_large", "mobilenet_v3_small"]


@dataclass(frozen=True)
class BlockConfig:
    """One inverted residual: channels in / expanded / out (already width-adjusted), kernel,
    squeeze-and-excitation, hardswish (else ReLU), stride."""

    input_channels: int
    kernel: int
    expanded_channels: int
    out_channels: int
    use_se: bool
    use_hs: bool
    stride: int
    round_nearest: int = 8


class InvertedResidual(nn.Module):
    def __init__(self, cnf: BlockConfig, norm_layer) -> None:
        super().__init__()
        if cnf.stride not in (1, 2):
            raise ValueError(f"illegal stride value {cnf.stride}")
        self.use_res_connect = cnf.stride == 1 and cnf.input_channels == cnf.out_channels
        activation = nn.Hardswish if cnf.use_hs else nn.ReLU
        conv = partial(Conv2dNormActivation, norm_layer=norm_layer)
        layers: list[nn.Module] = []
        if cnf.expanded_channels != cnf.input_channels:
            layers.append(conv(cnf.input_channels, cnf.expanded_channels, 1, activation_layer=activation))
        layers.append(
            conv(
                cnf.expanded_channels,
                cnf.expanded_channels,
                cnf.kernel,
                cnf.stride,
                groups=cnf.expanded_channels,
                activation_layer=activation,
            )
        )
        if cnf.use_se:
            squeeze = _make_divisible(cnf.expanded_channels // 4, cnf.round_nearest)
            layers.append(SqueezeExcitation(cnf.expanded_channels, squeeze, scale_activation=nn.Hardsigmoid))
        layers.append(conv(cnf.expanded_channels, cnf.out_channels, 1, activation_layer=None))
        self.block = nn.Sequential(*layers)
        self.out_channels = cnf.out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        result = self.block(x)
        return result + x if self.use_res_connect else result


#: (in, kernel, expanded, out, SE, activation, stride) per block, before width scaling.
LARGE = [
    (16, 3, 16, 16, False, "RE", 1),
    (16, 3, 64, 24, False, "RE", 2),
    (24, 3, 72, 24, False, "RE", 1),
    (24, 5, 72, 40, True, "RE", 2),
    (40, 5, 120, 40, True, "RE", 1),
    (40, 5, 120, 40, True, "RE", 1),
    (40, 3, 240, 80, False, "HS", 2),
    (80, 3, 200, 80, False, "HS", 1),
    (80, 3, 184, 80, False, "HS", 1),
    (80, 3, 184, 80, False, "HS", 1),
    (80, 3, 480, 112, True, "HS", 1),
    (112, 3, 672, 112, True, "HS", 1),
    (112, 5, 672, 160, True, "HS", 2),
    (160, 5, 960, 160, True, "HS", 1),
    (160, 5, 960, 160, True, "HS", 1),
]
SMALL = [
    (16, 3, 16, 16, True, "RE", 2),
    (16, 3, 72, 24, False, "RE", 2),
    (24, 3, 88, 24, False, "RE", 1),
    (24, 5, 96, 40, True, "HS", 2),
    (40, 5, 240, 40, True, "HS", 1),
    (40, 5, 240, 40, True, "HS", 1),
    (40, 5, 120, 48, True, "HS", 1),
    (48, 5, 144, 48, True, "HS", 1),
    (48, 5, 288, 96, True, "HS", 2),
    (96, 5, 576, 96, True, "HS", 1),
    (96, 5, 576, 96, True, "HS", 1),
]


def block_configs(setting, width_mult: float, round_nearest: int = 8) -> list[BlockConfig]:
    def adjust(channels: int) -> int:
        return _make_divisible(channels * width_mult, round_nearest)

    return [
        BlockConfig(adjust(i), k, adjust(e), adjust(o), se, act == "HS", s, round_nearest)
        for i, k, e, o, se, act, s in setting
    ]


class MobileNetV3(nn.Module):
    def __init__(
        self, setting: list[BlockConfig], last_channel: int, num_classes: int = 1000, dropout: float = 0.2
    ) -> None:
        super().__init__()
        norm_layer = partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)
        first = setting[0].input_channels
        layers: list[nn.Module] = [
            Conv2dNormActivation(3, first, 3, 2, norm_layer=norm_layer, activation_layer=nn.Hardswish)
        ]
        layers.extend(InvertedResidual(cnf, norm_layer) for cnf in setting)
        last_in = setting[-1].out_channels
        last_out = 6 * last_in
        layers.append(Conv2dNormActivation(last_in, last_out, 1, norm_layer=norm_layer, activation_layer=nn.Hardswish))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(
            nn.Linear(last_out, last_channel),
            nn.Hardswish(inplace=True),
            nn.Dropout(p=dropout, inplace=True),
            nn.Linear(last_channel, num_classes),
        )
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.avgpool(self.features(x))
        return self.classifier(torch.flatten(x, 1))


def mobilenet_v3_large(num_classes: int = 1000, width_mult: float = 1.0, round_nearest: int = 8) -> MobileNetV3:
    """torchvision's ``mobilenet_v3_large``: 5,483,032 parameters at 1000 classes, width 1.0."""
    last = _make_divisible(1280 * width_mult, round_nearest)
    return MobileNetV3(block_configs(LARGE, width_mult, round_nearest), last, num_classes)


def mobilenet_v3_small(num_classes: int = 1000, width_mult: float = 1.0, round_nearest: int = 8) -> MobileNetV3:
    """torchvision's ``mobilenet_v3_small``: 2,542,856 parameters at 1000 classes, width 1.0."""
    last = _make_divisible(1024 * width_mult, round_nearest)
    return MobileNetV3(block_configs(SMALL, width_mult, round_nearest), last, num_classes)
