"""What every code printer of patdnn.backend shares: the error, C spellings and op dispatch.

* `EmitError` — the module cannot be printed (an op the target does not know, a bad option...);
* `c_ident`, `int_array`, `int32_array`, `float_array` — C identifiers, arrays and their initialisers;
* `layer_name` — the `layer` attribute the frontend puts on ops (the torch module path);
* `lookup` / `dispatch` — the handler of an op in a printer's dispatch table (op class ->
  handler), searched along the op's class hierarchy like functools.singledispatch (a base
  class's handler serves its subclasses), and running it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import numpy as np
from xdsl.ir import Operation
from xdsl.utils.exceptions import DiagnosticException

from patdnn.dialects import pattern
from patdnn.dialects.common import BlobRefAttr

H = TypeVar("H", bound=Callable[..., Any])  # a handler


class EmitError(DiagnosticException):
    """The module cannot be printed for the target (an op it does not know, a bad option...)."""


def lookup(handlers: Mapping[type[Operation], H], op: Operation) -> H | None:
    """The handler of `op`'s class or of its nearest base class in `handlers`; None if none."""
    for cls in type(op).__mro__:
        if cls in handlers:
            return handlers[cls]
    return None


def dispatch(
    handlers: Mapping[type[Operation], Callable[[Any, Operation], Any]], printer: Any, op: Operation, target: str
) -> Any:
    """Runs `op`'s handler in `handlers` on `printer`; an op without one cannot be printed for
    `target` ("as C", "for the OpenCL target")."""
    handler = lookup(handlers, op)
    if handler is None:
        hint = ": lower it first with -p lower-pattern-to-kernel" if isinstance(op, pattern.Conv2dOp) else ""
        raise EmitError(f"'{op.name}' cannot be printed {target}{hint}")
    return handler(printer, op)


def c_ident(text: str) -> str:
    """`text` as a C identifier: other characters become `_`, a leading digit gets a `_` before it."""
    ident = re.sub(r"[^A-Za-z0-9_]", "_", text)
    return ident if ident and not ident[0].isdigit() else f"_{ident}"


def layer_name(op: Operation) -> str | None:
    """The op's `layer` attribute (the torch module it comes from), None when it has none."""
    layer = op.attributes.get("layer")
    return str(layer).strip('"') if layer is not None else None


def int_array(values: np.ndarray) -> str:
    items = [str(int(v)) for v in values]
    rows = [", ".join(items[i : i + 20]) for i in range(0, len(items), 20)]
    return "{\n  " + ",\n  ".join(rows) + "\n}" if rows else "{0}"


def int32_array(symbol: str, values: np.ndarray) -> str:
    """The C definition of `symbol`, a static const int32_t array of `values` (one element when empty)."""
    return f"static const int32_t {symbol}[{max(values.size, 1)}] = {int_array(values)};"


def float_array(values: np.ndarray) -> str:
    items = [np.format_float_scientific(v, unique=True, trim="0") + "f" for v in values.astype(np.float32)]
    rows = [", ".join(items[i : i + 8]) for i in range(0, len(items), 8)]
    return "{\n  " + ",\n  ".join(rows) + "\n}" if rows else "{0}"


def weights_count(weights) -> int:
    """The floats of a weights attribute: a blob reference (`size` bytes) or inline f32 data."""
    if isinstance(weights, BlobRefAttr):
        return weights.size.data // 4
    return len(weights.data.data) // 4
