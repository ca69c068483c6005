"""A pattern library from a real pretrained network: torchvision's ImageNet MobileNet-V2."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from patdnn.data import WeightsMissingError, pretrained_mobilenet_v2
from patdnn.models import mobilenet_v2
from patdnn.sparsity.layers import depthwise_convs, pattern_convs
from patdnn.sparsity.patterns import extract_library, natural_patterns


def _library_coverage(model: torch.nn.Module) -> float:
    """The share of the model's 3x3 kernels whose natural pattern is in its top-8 library."""
    library = extract_library(model, 8, include_depthwise=True).reshape(8, 9)
    convs = {**pattern_convs(model), **depthwise_convs(model)}
    natural = np.concatenate([natural_patterns(c.weight.detach().numpy()).reshape(-1, 9) for c in convs.values()])
    return float((natural[:, None, :] == library[None]).all(axis=2).any(axis=1).mean())


def test_pretrained_kernels_concentrate_on_few_patterns():
    """Trained 3x3 kernels are not random: 8 of the 56 candidates cover over half of MobileNet-V2's
    7,232 kernels, against about 8/56 for the untrained network."""
    try:
        pretrained = pretrained_mobilenet_v2()
    except WeightsMissingError as e:
        pytest.skip(str(e))
    torch.manual_seed(0)
    assert _library_coverage(pretrained) > 0.5
    assert _library_coverage(mobilenet_v2()) < 0.25
