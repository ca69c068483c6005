"""The simple body fields (stride, kernel, groups, activation, …) ↔ IR properties, both ways.

Each entry: field name -> (LR value → IR attribute, IR attribute → LR value). The property has
the field's name in both the pattern and the nn dialect.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from xdsl.dialects.builtin import DenseArrayBase, IntegerAttr, i64
from xdsl.ir import Attribute

from patdnn.dialects.common import activation_attr
from patdnn.dialects.nn import PoolKind, PoolKindAttr


def _pair_attr(value: tuple[int, int]) -> Attribute:
    return DenseArrayBase.from_list(i64, list(value))


def _pair_value(attr: Attribute) -> tuple[int, ...]:
    return tuple(attr.get_values())  # type: ignore[attr-defined]


SIMPLE_FIELDS: dict[str, tuple[Callable[[Any], Attribute], Callable[[Attribute], Any]]] = {
    "stride": (_pair_attr, _pair_value),
    "padding": (_pair_attr, _pair_value),
    "kernel": (_pair_attr, _pair_value),
    "groups": (lambda v: IntegerAttr(v, i64), lambda a: a.value.data),
    "activation": (activation_attr, lambda a: a.text()),
    "kind": (lambda v: PoolKindAttr(PoolKind(v)), lambda a: a.data.value),
}
