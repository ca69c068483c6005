"""Graph-level simplifications done at import, before any IR exists:

* BatchNorm folded into the convolution that feeds it (eval-mode statistics):
  w' = w * γ/√(σ²+ε) per filter, b' = (b − μ) * γ/√(σ²+ε) + β — zeros stay zeros, so a pattern-pruned
  conv keeps its patterns;
* ReLU/ReLU6 fused into the conv, linear or add that feeds it;
* reshapes that change nothing dropped.
A producer is only fused with its consumer when the consumer is its single user.
"""

from __future__ import annotations

import numpy as np

from patdnn.frontend.errors import UnsupportedLayerError
from patdnn.frontend.graph import Layer, LayerGraph

_FUSES_ACTIVATION = ("conv", "linear", "add")


def _single_user_producer(graph: LayerGraph, layer: Layer, kinds: tuple[str, ...]) -> Layer | None:
    producer = graph.producer(layer.inputs[0])
    if producer is None or producer.kind not in kinds or len(graph.users(producer.output)) != 1:
        return None
    if producer.output == graph.output:
        return None
    return producer


def _remove(graph: LayerGraph, layer: Layer, replacement: str) -> None:
    graph.layers.remove(layer)
    graph.replace_uses(layer.output, replacement)


def fold_batchnorm(graph: LayerGraph) -> None:
    for bn in [layer for layer in graph.layers if layer.kind == "batchnorm"]:
        conv = _single_user_producer(graph, bn, ("conv",))
        if conv is None or conv.attrs["activation"] != "none":
            raise UnsupportedLayerError(
                bn.name, "BatchNorm2d", "only a BatchNorm right after a convolution is supported"
            )
        a = bn.attrs
        scale = (a["weight"] / np.sqrt(a["var"] + a["eps"])).astype(np.float32)
        bias = conv.attrs["bias"] if conv.attrs["bias"] is not None else np.zeros_like(scale)
        conv.attrs["weight"] = (conv.attrs["weight"] * scale[:, None, None, None]).astype(np.float32)
        conv.attrs["bias"] = ((bias - a["mean"]) * scale + a["bias"]).astype(np.float32)
        _remove(graph, bn, conv.output)


def fuse_activations(graph: LayerGraph) -> None:
    for act in [layer for layer in graph.layers if layer.kind == "activation"]:
        producer = _single_user_producer(graph, act, _FUSES_ACTIVATION)
        if producer is None or producer.attrs["activation"] != "none":
            continue
        producer.attrs["activation"] = act.attrs["activation"]
        _remove(graph, act, producer.output)


def drop_noop_reshapes(graph: LayerGraph) -> None:
    for layer in [layer for layer in graph.layers if layer.kind == "reshape"]:
        source = graph.producer(layer.inputs[0])
        source_shape = source.shape if source is not None else graph.input_shape
        if source_shape == layer.shape and layer.output != graph.output:
            _remove(graph, layer, layer.inputs[0])


def fuse(graph: LayerGraph) -> None:
    fold_batchnorm(graph)
    fuse_activations(graph)
    drop_noop_reshapes(graph)
