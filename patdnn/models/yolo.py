"""A YOLOv8-style detector (no torchvision equivalent): C2f/CSP backbone with SiLU, SPPF, an
FPN + PAN neck (nearest upsampling and concatenation, then stride-2 convs and concatenation) and
one head per scale (3x3 conv, 1x1 prediction conv).

Module names follow ultralytics' vocabulary (``Conv`` = conv/bn/act, ``C2f`` with ``cv1``, ``m``,
``cv2``, ``SPPF``), not its checkpoints. ``forward`` returns ONE tensor: each scale's predictions
(``N x (4 + num_classes) x H_s x W_s`` for strides 8, 16, 32) flattened per sample in NCHW order
and concatenated, shape ``N x sum_s (4 + num_classes) * H_s * W_s``; ``split_predictions`` cuts it
back into the per-scale maps. The defaults are the nano scale (width 0.25, depth 1/3: 16..256
channels) at 80 classes; the input height and width must be multiples of 32.
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["C2f", "SPPF", "Bottleneck", "Conv", "YOLO", "split_predictions", "yolo"]


class Conv(nn.Module):
    """Conv2d (no bias, 'same' padding) → BatchNorm2d → SiLU."""

    def __init__(self, c1: int, c2: int, k: int = 1, s: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c1, c2, k, s, k // 2, bias=False)
        self.bn = nn.BatchNorm2d(c2, eps=1e-3, momentum=0.03)
        self.act = nn.SiLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.bn(self.conv(x)))


class Bottleneck(nn.Module):
    """Two 3x3 Convs, with a residual add when ``shortcut``."""

    def __init__(self, c: int, shortcut: bool) -> None:
        super().__init__()
        self.cv1 = Conv(c, c, 3)
        self.cv2 = Conv(c, c, 3)
        self.add = shortcut

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.cv2(self.cv1(x))
        return x + y if self.add else y


class C2f(nn.Module):
    """CSP bottleneck with two convs: 1x1 to 2c, split in halves, ``n`` Bottlenecks chained on the
    second half, all ``n + 2`` parts concatenated, 1x1 to ``c2``."""

    def __init__(self, c1: int, c2: int, n: int = 1, shortcut: bool = False) -> None:
        super().__init__()
        self.c = c2 // 2
        self.cv1 = Conv(c1, 2 * self.c, 1)
        self.cv2 = Conv((2 + n) * self.c, c2, 1)
        self.m = nn.ModuleList(Bottleneck(self.c, shortcut) for _ in range(n))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        parts = list(self.cv1(x).split((self.c, self.c), dim=1))
        for block in self.m:
            parts.append(block(parts[-1]))
        return self.cv2(torch.cat(parts, dim=1))


class SPPF(nn.Module):
    """Spatial pyramid pooling, fast: 1x1 halving conv, three chained 5x5 stride-1 max pools, all four concatenated, 1x1."""

    def __init__(self, c1: int, c2: int, k: int = 5) -> None:
        super().__init__()
        c = c1 // 2
        self.cv1 = Conv(c1, c, 1)
        self.cv2 = Conv(4 * c, c2, 1)
        self.m = nn.MaxPool2d(kernel_size=k, stride=1, padding=k // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = [self.cv1(x)]
        for _ in range(3):
            y.append(self.m(y[-1]))
        return self.cv2(torch.cat(y, dim=1))


class YOLO(nn.Module):
    def __init__(
        self, num_classes: int = 80, width_mult: float = 0.25, depth_mult: float = 1 / 3, max_channels: int = 1024
    ) -> None:
        super().__init__()

        def ch(c: int) -> int:
            return max(2, int(round(min(c, max_channels) * width_mult / 2)) * 2)  # even: C2f splits in halves

        def n(d: int) -> int:
            return max(1, round(d * depth_mult))

        c1, c2, c3, c4, c5 = ch(64), ch(128), ch(256), ch(512), ch(1024)
        self.no = 4 + num_classes  # box (x, y, w, h) + class scores per location
        # Backbone: strides 2, 4, 8 (P3), 16 (P4), 32 (P5).
        self.stem = Conv(3, c1, 3, 2)
        self.stage1 = nn.Sequential(Conv(c1, c2, 3, 2), C2f(c2, c2, n(3), shortcut=True))
        self.stage2 = nn.Sequential(Conv(c2, c3, 3, 2), C2f(c3, c3, n(6), shortcut=True))
        self.stage3 = nn.Sequential(Conv(c3, c4, 3, 2), C2f(c4, c4, n(6), shortcut=True))
        self.stage4 = nn.Sequential(Conv(c4, c5, 3, 2), C2f(c5, c5, n(3), shortcut=True), SPPF(c5, c5))
        # FPN (top-down) then PAN (bottom-up).
        self.upsample = nn.Upsample(scale_factor=2, mode="nearest")
        self.fpn4 = C2f(c5 + c4, c4, n(3))
        self.fpn3 = C2f(c4 + c3, c3, n(3))
        self.down3 = Conv(c3, c3, 3, 2)
        self.pan4 = C2f(c3 + c4, c4, n(3))
        self.down4 = Conv(c4, c4, 3, 2)
        self.pan5 = C2f(c4 + c5, c5, n(3))
        self.heads = nn.ModuleList(nn.Sequential(Conv(c, c, 3), nn.Conv2d(c, self.no, 1)) for c in (c3, c4, c5))
        self._init_weights()

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_uniform_(m.weight, a=math.sqrt(5))  # torch's default, made explicit
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p3 = self.stage2(self.stage1(self.stem(x)))
        p4 = self.stage3(p3)
        p5 = self.stage4(p4)
        f4 = self.fpn4(torch.cat([self.upsample(p5), p4], dim=1))
        f3 = self.fpn3(torch.cat([self.upsample(f4), p3], dim=1))
        n4 = self.pan4(torch.cat([self.down3(f3), f4], dim=1))
        n5 = self.pan5(torch.cat([self.down4(n4), p5], dim=1))
        outputs = [head(f) for head, f in zip(self.heads, (f3, n4, n5))]
        return torch.cat([torch.flatten(o, 1) for o in outputs], dim=1)


def split_predictions(y: torch.Tensor, no: int, height: int, width: int) -> list[torch.Tensor]:
    """The per-scale maps (``N x no x H/s x W/s`` for s = 8, 16, 32) of YOLO's flat output."""
    shapes = [(height // s, width // s) for s in (8, 16, 32)]
    sizes = [no * h * w for h, w in shapes]
    return [part.reshape(y.shape[0], no, h, w) for part, (h, w) in zip(y.split(sizes, dim=1), shapes)]


def yolo(num_classes: int = 80, width_mult: float = 0.25, depth_mult: float = 1 / 3) -> YOLO:
    """The YOLOv8-style detector at nano scale (module docstring)."""
    return YOLO(num_classes, width_mult, depth_mult)
