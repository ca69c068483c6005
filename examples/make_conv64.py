"""Writes examples/conv64.mlir + conv64.weights: a VGG-style 64→64 3x3 layer on 56x56, random
weights pattern-pruned with an 8-pattern library (4 entries, centre kept) and connectivity 3.6x."""

from pathlib import Path

import numpy as np

from patdnn.ir_builder import pattern_conv_module
from patdnn.sparsity.patterns import random_pattern_layer

here = Path(__file__).resolve().parent
rng = np.random.default_rng(0)
weight, ids, library = random_pattern_layer(rng, 64, 64, num_patterns=8, connectivity=3.6)
bias = rng.standard_normal(64).astype(np.float32) * 0.1
module = pattern_conv_module(
    weight, ids, library, (1, 64, 56, 56), bias=bias, activation="relu", blob_path=here / "conv64.weights"
)
(here / "conv64.mlir").write_text(
    "// A 64->64 3x3 pattern-pruned layer (8 patterns, connectivity 3.6x); weights in conv64.weights.\n"
    "// Regenerate with: python3 examples/make_conv64.py\n" + str(module) + "\n"
)
print(f"kept {int((ids >= 0).sum())} of {ids.size} kernels")
