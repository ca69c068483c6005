"""The frontend's layer graph: a short-lived, Python-level view of a network between the
exported torch graph and the IR, where BatchNorm folding and activation fusion happen."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Layer:
    """One network layer. `inputs`/`output` are tensor ids; `shape` is the output shape."""

    name: str  # the module path (e.g. "layer1.0.conv1"), or the graph node name
    kind: str  # conv, batchnorm, activation, pool, adaptive_avg_pool, add, concat, linear, softmax, reshape,
    #            identity, constant (no inputs; attrs["value"]: its float32 array, of `shape`),
    #            permute, channel_shuffle, slice, mean, layer_norm, scale_shift, prelu (attrs["weight"]: 1 or C
    #            slopes) (the nn ops of those names)
    inputs: list[str]
    output: str
    shape: tuple[int, ...]
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass
class LayerGraph:
    input: str
    input_shape: tuple[int, ...]
    layers: list[Layer]
    output: str

    def users(self, tensor: str) -> list[Layer]:
        return [layer for layer in self.layers if tensor in layer.inputs]

    def producer(self, tensor: str) -> Layer | None:
        return next((layer for layer in self.layers if layer.output == tensor), None)

    def replace_uses(self, old: str, new: str) -> None:
        for layer in self.layers:
            layer.inputs = [new if t == old else t for t in layer.inputs]
        if self.output == old:
            self.output = new


def global_avg_pool(name: str, source: str, output: str, shape: tuple[int, ...]) -> list[Layer]:
    """The layers of a mean over H and W to `shape`: (N, C, 1, 1), or (N, C) (keepdim false: pool,
    then flatten)."""
    if len(shape) == 4:
        return [Layer(name, "adaptive_avg_pool", [source], output, shape)]
    pooled = f"{output}_pooled"
    return [
        Layer(name, "adaptive_avg_pool", [source], pooled, (*shape, 1, 1)),
        Layer(name, "reshape", [pooled], output, shape),
    ]
