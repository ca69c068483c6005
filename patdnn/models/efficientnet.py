"""EfficientNet-B0 with torchvision's module tree and ``state_dict`` keys.

``features.0`` is the 3x3 stride-2 stem (Conv2dNormActivation with SiLU), ``features.1..7`` the
seven stages, each a Sequential of MBConvs whose layers sit in ``.block`` ([1x1 expand], kxk
depthwise, squeeze-and-excitation with SiLU and Sigmoid, 1x1 linear projection; SiLU
throughout), ``features.8`` the 1x1 conv to 1280 channels, ``classifier = Sequential(Dropout,
Linear)``. Stochastic depth (p growing to 0.2 over the blocks) drops residual branches while
training and is the identity in eval mode. ``width_mult`` / ``depth_mult`` are EfficientNet's
compound scaling (B0: 1.0, 1.0); ``round_nearest`` (default 8) lets tests build narrow variants.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch
from torch import nn

from ._layers import Conv2dNormActivation, SqueezeExcitation, StochasticDepth
from .mobilenet import _make_divisible

__all__ = ["EfficientNet", "MBConv", "MBConvConfig", "efficientnet_b0"]


@dataclass(frozen=True)
class MBConvConfig:
    expand_ratio: float
    kernel: int
    stride: int
    input_channels: int
    out_channels: int
    num_layers: int
    round_nearest: int = 8

    def expanded(self) -> int:
        return _make_divisible(self.input_channels * self.expand_ratio, self.round_nearest)


class MBConv(nn.Module):
    def __init__(self, cnf: MBConvConfig, stochastic_depth_prob: float) -> None:
        super().__init__()
        if cnf.stride not in (1, 2):
            raise ValueError(f"illegal stride value {cnf.stride}")
        self.use_res_connect = cnf.stride == 1 and cnf.input_channels == cnf.out_channels
        expanded = cnf.expanded()
        layers: list[nn.Module] = []
        if expanded != cnf.input_channels:
            layers.append(Conv2dNormActivation(cnf.input_channels, expanded, 1, activation_layer=nn.SiLU))
        layers.append(
            Conv2dNormActivation(expanded, expanded, cnf.kernel, cnf.stride, groups=expanded, activation_layer=nn.SiLU)
        )
        squeeze = max(1, cnf.input_channels // 4)
        layers.append(SqueezeExcitation(expanded, squeeze, activation=nn.SiLU))
        layers.append(Conv2dNormActivation(expanded, cnf.out_channels, 1, activation_layer=None))
        self.block = nn.Sequential(*layers)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, "row")
        self.out_channels = cnf.out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        result = self.block(x)
        if self.use_res_connect:
            result = self.stochastic_depth(result) + x
        return result


#: (expand ratio, kernel, stride, in, out, layers) per stage of B0, before scaling.
B0 = [
    (1, 3, 1, 32, 16, 1),
    (6, 3, 2, 16, 24, 2),
    (6, 5, 2, 24, 40, 2),
    (6, 3, 2, 40, 80, 3),
    (6, 5, 1, 80, 112, 3),
    (6, 5, 2, 112, 192, 4),
    (6, 3, 1, 192, 320, 1),
]


def stage_configs(width_mult: float, depth_mult: float, round_nearest: int = 8) -> list[MBConvConfig]:
    def adjust(channels: int) -> int:
        return _make_divisible(channels * width_mult, round_nearest)

    return [
        MBConvConfig(t, k, s, adjust(i), adjust(o), int(math.ceil(n * depth_mult)), round_nearest)
        for t, k, s, i, o, n in B0
    ]


class EfficientNet(nn.Module):
    def __init__(
        self, setting: list[MBConvConfig], dropout: float, stochastic_depth_prob: float = 0.2, num_classes: int = 1000
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = [Conv2dNormActivation(3, setting[0].input_channels, 3, 2, activation_layer=nn.SiLU)]
        total_blocks = sum(cnf.num_layers for cnf in setting)
        block_id = 0
        for cnf in setting:
            stage: list[nn.Module] = []
            for i in range(cnf.num_layers):
                block_cnf = cnf if i == 0 else replace(cnf, input_channels=cnf.out_channels, stride=1)
                stage.append(MBConv(block_cnf, stochastic_depth_prob * block_id / total_blocks))
                block_id += 1
            layers.append(nn.Sequential(*stage))
        last_in = setting[-1].out_channels
        last_out = 4 * last_in
        layers.append(Conv2dNormActivation(last_in, last_out, 1, activation_layer=nn.SiLU))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout, inplace=True), nn.Linear(last_out, num_classes))
        self._init_weights()

    def _init_weights(self) -> None:
        """torchvision's: kaiming-normal convs (fan out), unit BNs, uniform(+-1/sqrt(out)) linears."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                bound = 1.0 / math.sqrt(m.out_features)
                nn.init.uniform_(m.weight, -bound, bound)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.avgpool(self.features(x))
        return self.classifier(torch.flatten(x, 1))


def efficientnet_b0(
    num_classes: int = 1000, width_mult: float = 1.0, depth_mult: float = 1.0, round_nearest: int = 8
) -> EfficientNet:
    """torchvision's ``efficientnet_b0``: 5,288,548 parameters at 1000 classes, width and depth 1.0."""
    return EfficientNet(stage_configs(width_mult, depth_mult, round_nearest), dropout=0.2, num_classes=num_classes)
