"""ShuffleNet-V2 with torchvision's module tree and ``state_dict`` keys.

``conv1`` (3x3 stride-2 conv, BN, ReLU), ``maxpool``, ``stage2..4`` (Sequentials of
InvertedResiduals: a stride-2 unit runs ``branch1`` (3x3 depthwise, BN, 1x1, BN, ReLU) and
``branch2`` (1x1, BN, ReLU, 3x3 depthwise, BN, 1x1, BN, ReLU) on the whole input; a stride-1 unit
splits the channels in two (``chunk``), runs ``branch2`` on the second half; both concatenate the
halves and shuffle the channels (view / transpose / view)), ``conv5`` (1x1, BN, ReLU), a global
mean and ``fc``. ``stages_out_channels`` / ``stages_repeats`` give narrow or shallow variants.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["ShuffleNetV2", "ShuffleUnit", "channel_shuffle", "shufflenet_v2"]

#: torchvision's widths: stage output channels per width multiplier.
WIDTHS = {
    0.5: (24, 48, 96, 192, 1024),
    1.0: (24, 116, 232, 464, 1024),
    1.5: (24, 176, 352, 704, 1024),
    2.0: (24, 244, 488, 976, 2048),
}


def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    """Interleaves the channels of ``groups`` equal groups (ShuffleNet's cross-group exchange)."""
    n, c, h, w = x.size()
    x = x.view(n, groups, c // groups, h, w)
    x = torch.transpose(x, 1, 2).contiguous()
    return x.view(n, c, h, w)


def _depthwise(channels: int, stride: int) -> nn.Conv2d:
    return nn.Conv2d(channels, channels, 3, stride, 1, bias=False, groups=channels)


class ShuffleUnit(nn.Module):
    """torchvision's ``shufflenetv2.InvertedResidual``."""

    def __init__(self, inp: int, oup: int, stride: int) -> None:
        super().__init__()
        if not 1 <= stride <= 3:
            raise ValueError(f"illegal stride value {stride}")
        branch = oup // 2
        if stride == 1 and inp != branch * 2:
            raise ValueError(f"a stride-1 unit needs inp == oup (even), got inp={inp}, oup={oup}")
        self.stride = stride
        if stride > 1:
            self.branch1 = nn.Sequential(
                _depthwise(inp, stride),
                nn.BatchNorm2d(inp),
                nn.Conv2d(inp, branch, 1, 1, 0, bias=False),
                nn.BatchNorm2d(branch),
                nn.ReLU(inplace=True),
            )
        else:
            self.branch1 = nn.Sequential()
        self.branch2 = nn.Sequential(
            nn.Conv2d(inp if stride > 1 else branch, branch, 1, 1, 0, bias=False),
            nn.BatchNorm2d(branch),
            nn.ReLU(inplace=True),
            _depthwise(branch, stride),
            nn.BatchNorm2d(branch),
            nn.Conv2d(branch, branch, 1, 1, 0, bias=False),
            nn.BatchNorm2d(branch),
            nn.ReLU(inplace=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 1:
            x1, x2 = x.chunk(2, dim=1)
            out = torch.cat((x1, self.branch2(x2)), dim=1)
        else:
            out = torch.cat((self.branch1(x), self.branch2(x)), dim=1)
        return channel_shuffle(out, 2)


class ShuffleNetV2(nn.Module):
    def __init__(
        self, stages_repeats: Sequence[int], stages_out_channels: Sequence[int], num_classes: int = 1000
    ) -> None:
        super().__init__()
        if len(stages_repeats) != 3 or len(stages_out_channels) != 5:
            raise ValueError("expected stages_repeats as a list of 3 and stages_out_channels as a list of 5")
        channels = stages_out_channels[0]
        self.conv1 = nn.Sequential(
            nn.Conv2d(3, channels, 3, 2, 1, bias=False), nn.BatchNorm2d(channels), nn.ReLU(inplace=True)
        )
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        for name, repeats, out in zip(("stage2", "stage3", "stage4"), stages_repeats, stages_out_channels[1:4]):
            units = [ShuffleUnit(channels, out, 2)] + [ShuffleUnit(out, out, 1) for _ in range(repeats - 1)]
            setattr(self, name, nn.Sequential(*units))
            channels = out
        last = stages_out_channels[-1]
        self.conv5 = nn.Sequential(
            nn.Conv2d(channels, last, 1, 1, 0, bias=False), nn.BatchNorm2d(last), nn.ReLU(inplace=True)
        )
        self.fc = nn.Linear(last, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.conv1(x))
        x = self.conv5(self.stage4(self.stage3(self.stage2(x))))
        return self.fc(x.mean([2, 3]))


def shufflenet_v2(
    num_classes: int = 1000,
    width_mult: float = 1.0,
    stages_out_channels: Sequence[int] | None = None,
    stages_repeats: Sequence[int] = (4, 8, 4),
) -> ShuffleNetV2:
    """torchvision's ``shufflenet_v2_x1_0`` (2,278,604 parameters at 1000 classes); ``width_mult``
    0.5 / 1.5 / 2.0 are its other widths, ``stages_out_channels`` any (even) others."""
    if stages_out_channels is None:
        if width_mult not in WIDTHS:
            raise ValueError(
                f"ShuffleNet-V2 widths are {sorted(WIDTHS)} (or give stages_out_channels), got {width_mult}"
            )
        stages_out_channels = WIDTHS[width_mult]
    return ShuffleNetV2(stages_repeats, stages_out_channels, num_classes)
