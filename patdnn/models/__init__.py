"""Standard CNN architectures in plain torch, with torchvision's module trees and state_dict keys.

``get_model("resnet18")`` etc.; ``MODELS`` maps every registered name to its constructor.
Models are returned in training mode with torchvision's random initialisation; call
``.eval()`` before inference or conversion.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import nn

from .mobilenet import MobileNetV2, mobilenet_v2
from .resnet import ResNet, ResNetCifar, resnet18, resnet20_cifar, resnet50
from .vgg import VGG, VGGCifar, vgg16, vgg16_cifar

__all__ = [
    "MODELS",
    "MobileNetV2",
    "ResNet",
    "ResNetCifar",
    "VGG",
    "VGGCifar",
    "get_model",
    "mobilenet_v2",
    "resnet18",
    "resnet20_cifar",
    "resnet50",
    "vgg16",
    "vgg16_cifar",
]

MODELS: dict[str, Callable[..., nn.Module]] = {
    "vgg16": vgg16,
    "vgg16-cifar": vgg16_cifar,
    "resnet18": resnet18,
    "resnet50": resnet50,
    "resnet20-cifar": resnet20_cifar,
    "mobilenet-v2": mobilenet_v2,
}


def get_model(name: str, **kwargs: Any) -> nn.Module:
    """Build the registered model ``name`` (kwargs go to its constructor, e.g. ``num_classes``)."""
    try:
        factory = MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; valid names: {', '.join(sorted(MODELS))}") from None
    return factory(**kwargs)


def randomize_batchnorm(model: nn.Module, bias: float = 0.2) -> nn.Module:
    """Gives every BatchNorm non-trivial eval statistics and affine parameters (in place).

    Freshly initialised BNs are the identity; tests and examples of BN folding need real ones."""
    import torch

    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-bias, bias)
    return model
