"""Weight initialisation shared by the model definitions (torchvision's scheme)."""

from __future__ import annotations

from torch import nn


def init_weights(model: nn.Module) -> None:
    """Initialise ``model`` in place like torchvision's classification models.

    * ``nn.Conv2d``: kaiming normal, ``mode="fan_out"``, ReLU gain; bias zero.
    * ``nn.BatchNorm2d`` / ``nn.GroupNorm``: weight 1, bias 0.
    * ``nn.Linear``: normal(0, 0.01); bias zero.
    """
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0, 0.01)
            nn.init.zeros_(m.bias)
