"""Standard CNN architectures in plain torch, with torchvision's module trees and state_dict keys.

``get_model("resnet18")`` etc.; ``MODELS`` maps every registered name to its constructor.
Classifiers (VGG, ResNet, MobileNet-V2/V3, EfficientNet-B0, ShuffleNet-V2, ConvNeXt-Tiny) return
N x num_classes logits; ``yolo`` one flat tensor of its three detection heads, ``unet`` and
``deeplab-v3`` N x num_classes x H x W score maps. Each constructor takes size arguments
(``width_mult``, ``widths``/``depths``, ``base_channels``, ...) for small variants; the defaults
are the published sizes (docs/models.md).
Models are returned in training mode with torchvision's random initialisation; call
``.eval()`` before inference or conversion.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import nn

from .convnext import ConvNeXt, convnext_tiny
from .deeplab import DeepLabV3, deeplab_v3
from .efficientnet import EfficientNet, efficientnet_b0
from .mobilenet import MobileNetV2, mobilenet_v2
from .mobilenet_v3 import MobileNetV3, mobilenet_v3_large, mobilenet_v3_small
from .resnet import ResNet, ResNetCifar, resnet18, resnet20_cifar, resnet50
from .shufflenet import ShuffleNetV2, shufflenet_v2
from .unet import UNet, unet
from .vgg import VGG, VGGCifar, vgg16, vgg16_cifar
from .yolo import YOLO, yolo

__all__ = [
    "MODELS",
    "ConvNeXt",
    "DeepLabV3",
    "EfficientNet",
    "MobileNetV2",
    "MobileNetV3",
    "ResNet",
    "ResNetCifar",
    "ShuffleNetV2",
    "UNet",
    "VGG",
    "VGGCifar",
    "YOLO",
    "convnext_tiny",
    "deeplab_v3",
    "efficientnet_b0",
    "get_model",
    "mobilenet_v2",
    "mobilenet_v3_large",
    "mobilenet_v3_small",
    "resnet18",
    "resnet20_cifar",
    "resnet50",
    "shufflenet_v2",
    "unet",
    "vgg16",
    "vgg16_cifar",
    "yolo",
]

MODELS: dict[str, Callable[..., nn.Module]] = {
    "vgg16": vgg16,
    "vgg16-cifar": vgg16_cifar,
    "resnet18": resnet18,
    "resnet50": resnet50,
    "resnet20-cifar": resnet20_cifar,
    "mobilenet-v2": mobilenet_v2,
    "mobilenet-v3-small": mobilenet_v3_small,
    "mobilenet-v3-large": mobilenet_v3_large,
    "efficientnet-b0": efficientnet_b0,
    "shufflenet-v2": shufflenet_v2,
    "convnext-tiny": convnext_tiny,
    "yolo": yolo,
    "unet": unet,
    "deeplab-v3": deeplab_v3,
}


def get_model(name: str, **kwargs: Any) -> nn.Module:
    """Build the registered model ``name`` (kwargs go to its constructor, e.g. ``num_classes``)."""
    try:
        factory = MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; valid names: {', '.join(sorted(MODELS))}") from None
    return factory(**kwargs)


def randomize_batchnorm(model: nn.Module, bias: float = 0.2) -> nn.Module:
    """Gives every BatchNorm non-trivial eval statistics and affine parameters, and every LayerNorm
    non-trivial affine parameters (in place).

    Freshly initialised norms are the identity; tests and examples of BN folding need real ones."""
    import torch

    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
            if isinstance(m, (nn.BatchNorm2d, nn.LayerNorm)) and m.weight is not None:
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-bias, bias)
    return model
