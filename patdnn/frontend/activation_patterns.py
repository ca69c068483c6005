"""Activations that core-ATen decomposition spells as several ops, put back as one op before
import, so that they become one `activation` layer (and fuse into the conv / linear / add that
feeds them):

* SiLU: `x * sigmoid(x)` (aten.silu decomposes to it) → aten.silu(x);
* hardsigmoid: `clamp(clamp(x + 3, 0), max=6) / 6` → aten.hardsigmoid(x);
* hardswish: `x * clamp(clamp(x + 3, 0), max=6) / 6` → aten.hardswish(x);
* PReLU: `where(x > 0, x, w * x)` → aten.prelu(x, w) (an `nn.prelu` layer; it does not fuse).

The intermediate results must have no other user. PyTorch evaluates the decomposed forms in
the order patdnn's runtime evaluates the fused kinds (x * t / 6, t / 6), so the bits agree.
"""

from __future__ import annotations

import torch

aten = torch.ops.aten


def _single_use(node: object, target: object) -> torch.fx.Node | None:
    """`node` if it is a call of `target` whose one user reads it."""
    if isinstance(node, torch.fx.Node) and node.target is target and len(node.users) == 1:
        return node
    return None


def _relu6_of_plus3(node: object) -> torch.fx.Node | None:
    """x when `node` is clamp(clamp(x + 3, 0), max=6) (each step read only by the next)."""
    upper = _single_use(node, aten.clamp.default)
    if upper is None or list(upper.args[1:3]) != [None, 6] or upper.kwargs:
        return None
    lower = _single_use(upper.args[0], aten.clamp.default)
    if lower is None or list(lower.args[1:]) != [0] or lower.kwargs:
        return None
    plus = _single_use(lower.args[0], aten.add.Tensor)
    if plus is None or plus.args[1] != 3 or plus.kwargs.get("alpha", 1) != 1:
        return None
    return plus.args[0] if isinstance(plus.args[0], torch.fx.Node) else None


def _prelu_of(node: torch.fx.Node) -> tuple[object, ...] | None:
    """(x, w) when `node` is where(x > 0, x, w * x) (either product order)."""
    if node.target is not aten.where.self or node.kwargs:
        return None
    gt, x, product = node.args[:3]
    gt, product = _single_use(gt, aten.gt.Scalar), _single_use(product, aten.mul.Tensor)
    if gt is None or product is None or gt.args[0] is not x or gt.args[1] != 0:
        return None
    a, b = product.args[:2]
    return (x, b) if a is x else (x, a) if b is x else None


def _match(node: torch.fx.Node) -> tuple[object, tuple[object, ...]] | None:
    """(the single-op target, its arguments) when `node` ends a decomposed activation."""
    prelu = _prelu_of(node)
    if prelu is not None:
        return aten.prelu.default, prelu
    if node.target is aten.mul.Tensor:
        a, b = node.args[:2]
        for x, s in ((a, b), (b, a)):
            sig = _single_use(s, aten.sigmoid.default)
            if sig is not None and sig.args[0] is x:
                return aten.silu.default, (x,)
    if node.target is aten.div.Tensor and node.args[1] == 6:
        x = _relu6_of_plus3(node.args[0])
        if x is not None:
            return aten.hardsigmoid.default, (x,)
        product = _single_use(node.args[0], aten.mul.Tensor)
        if product is not None:
            a, b = product.args[:2]
            for x, t in ((a, b), (b, a)):
                if isinstance(x, torch.fx.Node) and _relu6_of_plus3(t) is x:
                    return aten.hardswish.default, (x,)
    return None


def recognise_activations(graph: torch.fx.Graph) -> None:
    """Replaces each decomposed SiLU / hardsigmoid / hardswish / PReLU in `graph` by its single op."""
    for node in list(graph.nodes):
        if node.op != "call_function" or node.graph is not graph:
            continue
        found = _match(node)
        if found is None:
            continue
        target, args = found
        with graph.inserting_before(node):
            single = graph.call_function(target, args)
        single.meta = dict(node.meta)
        node.replace_all_uses_with(single)
        _erase_dead(graph, node)


def _erase_dead(graph: torch.fx.Graph, node: torch.fx.Node) -> None:
    """Erases `node` and the ops that fed only it."""
    pending = [node]
    while pending:
        dead = pending.pop()
        if dead.users or dead.op != "call_function":
            continue
        inputs = [a for a in dead.all_input_nodes]
        graph.erase_node(dead)
        pending += inputs
