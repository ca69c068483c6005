"""Graph-level simplifications done at import, before any IR exists:

* BatchNorm folded into the convolution that feeds it (eval-mode statistics):
  w' = w * γ/√(σ²+ε) per filter, b' = (b − μ) * γ/√(σ²+ε) + β — zeros stay zeros, so a pattern-pruned
  conv keeps its patterns; else into the unpadded conv or linear layer it feeds (per input
  channel); else a per-channel `scale_shift` layer;
* layout patterns (patdnn.frontend.layout_fusion): LayerNorm2d, channel shuffle;
* activations (any kind) fused into the conv, linear, add or binary op that feeds it;
* reshapes that change nothing dropped.
A producer is only fused with its consumer when the consumer is its single user.
"""

from __future__ import annotations

import numpy as np

from patdnn.frontend.graph import Layer, LayerGraph
from patdnn.frontend.layout_fusion import fuse_layout

_FUSES_ACTIVATION = ("conv", "conv_transpose", "linear", "add", "binary", "scale_shift")


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
    """Each BatchNorm, y = x * scale + shift per channel, goes into the conv feeding it; else into
    the conv (padding 0: exact; a padded border would see shifted zeros) or linear layer it
    feeds; else it stays a `scale_shift` layer (BN → ReLU → conv, BN after a pool or an add)."""
    for bn in [layer for layer in graph.layers if layer.kind == "batchnorm"]:
        a = bn.attrs
        scale = (a["weight"] / np.sqrt(a["var"] + a["eps"])).astype(np.float32)
        shift = (a["bias"] - a["mean"] * scale).astype(np.float32)
        conv = _single_user_producer(graph, bn, ("conv",))
        if conv is not None and conv.attrs["activation"] == "none":
            bias = conv.attrs["bias"] if conv.attrs["bias"] is not None else np.zeros_like(scale)
            conv.attrs["weight"] = (conv.attrs["weight"] * scale[:, None, None, None]).astype(np.float32)
            conv.attrs["bias"] = ((bias - a["mean"]) * scale + a["bias"]).astype(np.float32)
            _remove(graph, bn, conv.output)
        elif _fold_into_consumer(graph, bn, scale, shift):
            _remove(graph, bn, bn.inputs[0])
        else:
            bn.kind, bn.attrs = "scale_shift", {"weight": scale, "bias": shift, "activation": "none"}


def _fold_into_consumer(graph: LayerGraph, bn: Layer, scale: np.ndarray, shift: np.ndarray) -> bool:
    """Folds x * scale + shift (per input channel) into the weights of bn's one user, an unpadded
    conv or a linear layer on a 2-d tensor; False when there is no such user."""
    users = graph.users(bn.output)
    if len(users) != 1 or bn.output == graph.output or users[0].inputs[0] != bn.output:
        return False
    layer, a = users[0], users[0].attrs
    if layer.kind == "conv" and not any(a["padding"]):
        cout, per_group = a["weight"].shape[:2]
        rows = np.arange(cout) // (cout // a["groups"])  # the group of each filter
        s = scale.reshape(a["groups"], per_group)[rows][:, :, None, None]
        t = shift.reshape(a["groups"], per_group)[rows][:, :, None, None]
        folded, extra = a["weight"] * s, (a["weight"] * t).sum(axis=(1, 2, 3))
    elif layer.kind == "linear" and len(bn.shape) == 2:
        folded, extra = a["weight"] * scale[None, :], a["weight"] @ shift
    else:
        return False
    bias = a["bias"] if a["bias"] is not None else np.zeros(len(extra), np.float32)
    a["weight"], a["bias"] = folded.astype(np.float32), (bias + extra).astype(np.float32)
    return True


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
    fuse_layout(graph)
    fuse_activations(graph)
    drop_noop_reshapes(graph)
