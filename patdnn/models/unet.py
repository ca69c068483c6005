"""UNet (Ronneberger et al., 'same' padding as in the common PyTorch ports): an encoder of
DoubleConvs (3x3 conv, BN, ReLU, twice) and 2x2 max pools, a decoder that upsamples (a 2x2
stride-2 transposed conv, or bilinear x2 with ``bilinear=True``), concatenates the encoder's skip
tensor and applies a DoubleConv, and a 1x1 conv to ``num_classes`` score maps at the input's
size. ``base_channels`` (64) and ``depth`` (4 poolings) give smaller variants; the input height and
width should be multiples of ``2**depth`` (other sizes are zero-padded after each upsampling).
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["DoubleConv", "Down", "UNet", "Up", "unet"]


class DoubleConv(nn.Sequential):
    def __init__(self, c_in: int, c_out: int, c_mid: int | None = None) -> None:
        c_mid = c_mid or c_out
        super().__init__(
            nn.Conv2d(c_in, c_mid, 3, padding=1, bias=False),
            nn.BatchNorm2d(c_mid),
            nn.ReLU(inplace=True),
            nn.Conv2d(c_mid, c_out, 3, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True),
        )


class Down(nn.Sequential):
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__(nn.MaxPool2d(2), DoubleConv(c_in, c_out))


class Up(nn.Module):
    """Upsample ``x`` x2, concatenate ``[skip, x]``, DoubleConv."""

    def __init__(self, c_in: int, c_out: int, bilinear: bool) -> None:
        super().__init__()
        if bilinear:
            self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)
            self.conv = DoubleConv(c_in, c_out, c_in // 2)
        else:
            self.up = nn.ConvTranspose2d(c_in, c_in // 2, kernel_size=2, stride=2)
            self.conv = DoubleConv(c_in, c_out)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = self.up(x)
        dy, dx = skip.shape[2] - x.shape[2], skip.shape[3] - x.shape[3]
        if dy or dx:  # odd sizes: pad the upsampled tensor to the skip's (decided at trace time)
            x = nn.functional.pad(x, [dx // 2, dx - dx // 2, dy // 2, dy - dy // 2])
        return self.conv(torch.cat([skip, x], dim=1))


class UNet(nn.Module):
    def __init__(
        self,
        in_channels: int = 3,
        num_classes: int = 2,
        base_channels: int = 64,
        depth: int = 4,
        bilinear: bool = False,
    ) -> None:
        super().__init__()
        widths = [base_channels * 2**i for i in range(depth + 1)]
        factor = 2 if bilinear else 1  # bilinear: the bottom's channels halve in DoubleConv, not the upsampler
        self.inc = DoubleConv(in_channels, widths[0])
        self.downs = nn.ModuleList(
            Down(widths[i], widths[i + 1] // (factor if i + 1 == depth else 1)) for i in range(depth)
        )
        self.ups = nn.ModuleList(
            Up(widths[i + 1], widths[i] // (factor if i > 0 else 1), bilinear) for i in reversed(range(depth))
        )
        self.outc = nn.Conv2d(widths[0], num_classes, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = [self.inc(x)]
        for down in self.downs:
            skips.append(down(skips[-1]))
        x = skips.pop()
        for up in self.ups:
            x = up(x, skips.pop())
        return self.outc(x)


def unet(
    num_classes: int = 2, in_channels: int = 3, base_channels: int = 64, depth: int = 4, bilinear: bool = False
) -> UNet:
    """The original UNet's widths (64..1024) with transposed-conv upsampling: 31,037,698 parameters
    at 2 classes (``bilinear=True``: 17,263,042)."""
    return UNet(in_channels, num_classes, base_channels, depth, bilinear)
