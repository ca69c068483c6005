"""Layout patterns recognised in the layer graph (run by patdnn.frontend.fusion.fuse):

* channels-last runs, `permute(0, 2, 3, 1) → layer_norm(last dim) / activation / linear on the rows
  → … → permute(0, 3, 1, 2)` (ConvNeXt's LayerNorm2d and its block), run on the NCHW tensor: a
  `layer_norm` over axis 1, each linear layer a 1x1 convolution; no transposed copies;
* ShuffleNet's channel shuffle, `view(n, g, c/g, ...) → transpose(1, 2) → view(n, c, ...)`,
  becomes one `channel_shuffle` layer (one copy instead of three).

A pattern is only rewritten when its intermediate tensors have one user and are not the output.
"""

from __future__ import annotations

import math

from patdnn.frontend.graph import Layer, LayerGraph

NCHW_TO_NHWC = (0, 2, 3, 1)
NHWC_TO_NCHW = (0, 3, 1, 2)


def tensor_shape(graph: LayerGraph, tensor: str) -> tuple[int, ...]:
    producer = graph.producer(tensor)
    return producer.shape if producer is not None else graph.input_shape


def _only_user(graph: LayerGraph, layer: Layer, kind: str) -> Layer | None:
    """The one user of layer's output, when it is of `kind` and the output is not the model's."""
    users = graph.users(layer.output)
    if layer.output == graph.output or len(users) != 1 or users[0].kind != kind:
        return None
    return users[0]


def _producer(graph: LayerGraph, layer: Layer, kind: str) -> Layer | None:
    """The producer of layer's first input, when it is of `kind` and layer is its only user."""
    producer = graph.producer(layer.inputs[0])
    if producer is None or producer.kind != kind or _only_user(graph, producer, layer.kind) is not layer:
        return None
    return producer


def _replace(graph: LayerGraph, chain: list[Layer], fused: Layer) -> None:
    """`fused` takes the place of the layers of `chain` (first to last) and writes the last's output."""
    graph.layers[graph.layers.index(chain[-1])] = fused
    for layer in chain[:-1]:
        graph.layers.remove(layer)


def _to_nchw(shape: tuple[int, ...]) -> tuple[int, ...]:
    n, h, w, c = shape
    return (n, c, h, w)


def _channels_last_chain(graph: LayerGraph, first: Layer) -> list[list[Layer]] | None:
    """The steps from the permute `first` (NCHW → NHWC) to its inverse permute, each a list of
    layers: a layer_norm over the last dim, an activation, or a linear layer on the rows
    (reshape → linear → reshape); None when the chain holds anything else or branches."""
    steps, current = [], first
    n, h, w, _ = first.shape
    while True:
        users = graph.users(current.output)
        if len(users) != 1 or current.output == graph.output or users[0].inputs[0] != current.output:
            return None
        layer = users[0]
        if layer.kind == "permute":
            return steps + [[layer]] if tuple(layer.attrs["perm"]) == NHWC_TO_NCHW else None
        if (layer.kind == "layer_norm" and tuple(layer.attrs["axes"]) == (3,)) or layer.kind == "activation":
            steps.append([layer])
            current = layer
            continue
        linear = _only_user(graph, layer, "linear")
        back = _only_user(graph, linear, "reshape") if linear is not None else None
        if layer.kind != "reshape" or layer.shape != (n * h * w, current.shape[-1]) or back is None:
            return None
        if back.shape != (n, h, w, linear.shape[-1]):
            return None
        steps.append([layer, linear, back])
        current = back


def fuse_channels_last(graph: LayerGraph) -> None:
    """A run of channels-last layers between permute(0, 2, 3, 1) and permute(0, 3, 1, 2) (ConvNeXt's
    LayerNorm2d, its block's LayerNorm → Linear → GELU → Linear) runs on NCHW: the layer_norm over
    axis 1, each linear layer as the 1x1 convolution it is; the permutes go."""
    for first in [layer for layer in graph.layers if layer.kind == "permute"]:
        if tuple(first.attrs["perm"]) != NCHW_TO_NHWC or len(first.shape) != 4:
            continue
        chain = _channels_last_chain(graph, first)
        if not chain:
            continue
        source = first.inputs[0]
        for step in chain[:-1]:
            if len(step) == 1:  # layer_norm or activation: the same layer on NCHW
                layer = step[0]
                layer.inputs, layer.shape = [source], _to_nchw(layer.shape)
                if layer.kind == "layer_norm":
                    layer.attrs["axes"] = (1,)
            else:
                rows, linear, back = step
                attrs = linear.attrs
                conv = {"weight": attrs["weight"][:, :, None, None], "bias": attrs["bias"], "stride": (1, 1)}
                conv |= {"padding": (0, 0), "groups": 1, "activation": attrs.get("activation", "none")}
                layer = Layer(linear.name, "conv", [source], back.output, _to_nchw(back.shape), conv)
                _replace(graph, [rows, linear, back], layer)
            source = layer.output
        last = chain[-1][0]  # the permute back: its users read the last layer's output
        graph.layers.remove(first)
        graph.layers.remove(last)
        graph.replace_uses(last.output, source)


def fuse_channel_shuffle(graph: LayerGraph) -> None:
    for permute in [layer for layer in graph.layers if layer.kind == "permute"]:
        perm = tuple(permute.attrs["perm"])
        if len(perm) < 3 or perm != (0, 2, 1, *range(3, len(perm))):
            continue
        view, back = _producer(graph, permute, "reshape"), _only_user(graph, permute, "reshape")
        if view is None or back is None:
            continue
        source = tensor_shape(graph, view.inputs[0])
        n, groups, per_group, *rest = view.shape
        if len(source) < 2 or back.shape != source or (n, groups * per_group) != source[:2]:
            continue
        if math.prod(rest) != math.prod(source[2:]):
            continue
        fused = Layer(permute.name, "channel_shuffle", list(view.inputs), back.output, back.shape, {"groups": groups})
        _replace(graph, [view, permute, back], fused)


def fuse_layout(graph: LayerGraph) -> None:
    fuse_channels_last(graph)
    fuse_channel_shuffle(graph)
