"""Writes examples/resnet20_cifar.lr + resnet20_cifar.lr.weights: ResNet-20 (CIFAR) in eval mode
with randomised BatchNorm statistics (so folding is non-trivial), its 3x3 convolutions
pattern-pruned with an 8-pattern library (the most frequent natural patterns among the 56
candidates) and connectivity 3.6x; the 3-channel stem conv stays dense (as in PatDNN). The
frontend recognises the zero-patterned convs by itself (each layer's library is listed in the
order the frontend recovers it: most used pattern first).

    python3 examples/make_resnet20_lr.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import torch

from patdnn.frontend import import_module
from patdnn.lr import print_lr
from patdnn.models import get_model, randomize_batchnorm
from patdnn.sparsity.patterns import (
    apply_patterns,
    candidate_patterns,
    connectivity_projection,
    natural_patterns,
    pattern_projection,
)

HERE = Path(__file__).resolve().parent
NUM_PATTERNS, CONNECTIVITY = 8, 3.6


def pruned_resnet20(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    model = randomize_batchnorm(get_model("resnet20-cifar").eval(), bias=0.1)
    # The library: the 8 candidates that are most often the natural pattern of a 3x3 kernel.
    convs = [
        m for m in model.modules() if isinstance(m, torch.nn.Conv2d) and m.kernel_size == (3, 3) and m.in_channels > 3
    ]  # the 3-channel stem stays dense
    candidates = candidate_patterns()
    counts = np.zeros(len(candidates), np.int64)
    for conv in convs:
        natural = natural_patterns(conv.weight.detach().numpy()).reshape(-1, 9)
        match = (natural[:, None, :] == candidates.reshape(1, -1, 9)).all(axis=2)
        counts += match.sum(axis=0)
    library = candidates[np.argsort(-counts, kind="stable")[:NUM_PATTERNS]]
    with torch.no_grad():
        for conv in convs:
            w = conv.weight.detach().numpy()
            ids = connectivity_projection(w, pattern_projection(w, library), library, CONNECTIVITY)
            conv.weight.copy_(torch.from_numpy(apply_patterns(w, ids, library)))
    return model


def main() -> None:
    model = pruned_resnet20()
    with tempfile.TemporaryDirectory() as tmp:
        module = import_module(model, torch.randn(1, 3, 32, 32), weights_path=Path(tmp) / "model.weights")
        out = print_lr(module, tmp, HERE / "resnet20_cifar.lr")
    blob = out.parent / (out.name + ".weights")
    text = out.read_text()
    print(
        f"{out}: {text.count('pattern_conv2d')} pattern convs, {text.count(chr(10) + 'layer ')} layers; "
        f"{blob.name}: {blob.stat().st_size} bytes"
    )


if __name__ == "__main__":
    main()
