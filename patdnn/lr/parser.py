"""LR text → `LrModel` with lark (LALR), and checks that a layer's body has the right fields.

Syntax errors become `LrSyntaxError`: `FILE:LINE:COL: expected one of …, got '…'` plus the line.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError
from lark.lexer import PatternStr

from patdnn.lr.errors import LrSyntaxError, located
from patdnn.lr.syntax import (
    INPUT,
    OPS,
    OPTIONAL_FIELDS,
    PRUNE,
    SCHEDULE,
    SCHEDULE_KEYS,
    BlockCount,
    KernelCount,
    Layer,
    Library,
    LrModel,
    Span,
    Storage,
)
from patdnn.sparsity.scheme import Scheme, SchemeError, parse_scheme

GRAMMAR = Path(__file__).with_name("grammar.lark")
DESCRIPTIONS = {
    "VALUE": "a value (%name)",
    "INT": "an integer",
    "STRING": "a string",
    "KSIZE": "a kernel size (3x3)",
    "RATIO": "a ratio (3.60x)",
    "$END": "end of file",
}


@cache
def lark_parser() -> Lark:
    return Lark(GRAMMAR.read_text(), parser="lalr", propagate_positions=True, maybe_placeholders=True)


def parse_lr(text: str, filename: str = "<lr>") -> LrModel:
    """Parses LR text; raises LrSyntaxError (located, with the offending line) on any mistake."""
    parser = lark_parser()
    try:
        tree = parser.parse(text)
    except UnexpectedInput as e:
        line, column = e.line, e.column
        if isinstance(e, UnexpectedToken) and e.token.type == "$END":  # just after the last character
            body = text.rstrip()
            line, column = body.count("\n") + 1, len(body) - body.rfind("\n")
        raise LrSyntaxError(located(filename, text, line, column, _describe(parser, e, text))) from None
    try:
        values = _Builder().transform(tree)
    except VisitError as e:
        if isinstance(e.orig_exc, _FieldError):
            raise LrSyntaxError(located(filename, text, *e.orig_exc.pos, e.orig_exc.message)) from None
        raise
    model = LrModel(filename=filename, source=text, **values)
    for layer in model.layers:
        _check_layer(model, layer)
    if len(model.sha256) != 64 or set(model.sha256) - set("0123456789abcdef"):
        raise model.error(
            (_header_line(text), 1), f'sha256 "{model.sha256}" must be 64 lower-case hex digits', syntax=True
        )
    return model


def prune_plan(text: str, filename: str = "<lr>") -> dict[str, Scheme]:
    """The pruning plan of an LR file: {layer name: Scheme} from its layers' `prune` lines."""
    model = parse_lr(text, filename)
    plan: dict[str, Scheme] = {}
    for layer in model.layers:
        if PRUNE not in layer.fields:
            continue
        if layer.name is None or layer.name in plan:
            problem = "a `prune` line needs a named layer" if layer.name is None else "a second `prune` line for it"
            raise model.error(layer.field_pos[PRUNE], f"{layer.title}: {problem}", syntax=True)
        plan[layer.name] = layer.fields[PRUNE]
    return plan


def _header_line(text: str) -> int:
    return next((i + 1 for i, line in enumerate(text.splitlines()) if line.lstrip().startswith("model")), 1)


# -- lark errors → one readable line -------------------------------------------------------------


def _describe(parser: Lark, e: UnexpectedInput, text: str) -> str:
    if isinstance(e, UnexpectedToken):
        names = e.expected
        got = "end of file" if e.token.type == "$END" else f"'{e.token.value}'"
    elif isinstance(e, UnexpectedCharacters):
        names = e.allowed or set()
        word = re.match(r"[^\s\[\]{},]+|.", text[e.pos_in_stream :])
        got = f"'{word.group(0)}'" if word else "end of file"
    else:
        names, got = set(), "something else"
    return f"expected one of {', '.join(_terminal_names(parser, names))}, got {got}"


def _terminal_names(parser: Lark, names: set[str]) -> list[str]:
    keywords, others = [], []
    for name in names:
        try:
            pattern = parser.get_terminal(name).pattern
        except KeyError:
            pattern = None
        if isinstance(pattern, PatternStr):
            keywords.append(f"'{pattern.value}'")
        else:
            others.append(DESCRIPTIONS.get(name, name))
    return sorted(keywords) + sorted(others)


# -- tree → syntax tree -----------------------------------------------------------------------------


def _pos(meta: Any) -> tuple[int, int]:
    return (getattr(meta, "line", 0), getattr(meta, "column", 0))


def _string(token: Token) -> str:
    return json.loads(token)


def _field(name: str, convert=lambda c: c[0]):
    """A transformer method turning a field rule into (name, value, position)."""

    @v_args(meta=True)
    def method(self, meta: Any, children: list) -> tuple[str, Any, tuple[int, int]]:
        return name, convert(children), _pos(meta)

    return method


class _Builder(Transformer):
    """Leaves become Python values; every field becomes (name, value, position)."""

    def INT(self, token: Token) -> int:
        return int(token)

    def STRING(self, token: Token) -> str:
        return _string(token)

    def start(self, children: list) -> dict[str, Any]:
        header, *layers = children
        return header | {"layers": layers}

    def header(self, children: list) -> dict[str, Any]:
        name, input_shape, output_shape, weights_file, sha = children
        return {
            "name": name,
            "input_shape": input_shape,
            "output_shape": output_shape,
            "weights_file": weights_file,
            "sha256": sha,
        }

    def shape(self, children: list) -> tuple[int, ...]:
        return tuple(c for c in children if c is not None)

    def operands(self, children: list) -> tuple[str, ...]:
        return tuple(str(c) for c in children)

    def op_name(self, children: list) -> str:
        return str(children[0])

    act_name = pool_kind = storage_kind = sched_key = prune_kind = prune_structure = op_name

    def pair(self, children: list) -> tuple[int, int]:
        return tuple(children)

    @v_args(meta=True)
    def layer(self, meta: Any, children: list) -> Layer:
        name, op, inputs, output, shape, (fields, positions) = children
        return Layer(op, inputs or (), str(output), shape, fields, name, _pos(meta), positions)

    @v_args(meta=True)
    def body(self, meta: Any, children: list) -> tuple[dict, dict]:
        fields: dict[str, Any] = {}
        positions: dict[str, tuple[int, int]] = {"}": (meta.end_line, meta.end_column - 1)}
        for name, value, pos in children:
            if name in fields:
                raise _FieldError(pos, f"`{name}` is given twice")
            fields[name], positions[name] = value, pos
        return fields, positions

    stride, padding, kernel = _field("stride"), _field("padding"), _field("kernel")
    groups, activation, kind = _field("groups"), _field("activation"), _field("kind")
    library = _field("library", lambda c: Library(int(str(c[0]).split("x")[0]), tuple(c[1:-1]), c[-1] is not None))
    kernels = _field("kernels", lambda c: KernelCount(c[0], c[1], float(str(c[2])[:-1])))
    storage = _field("storage", lambda c: Storage(c[0], *c[1:]))
    schedule = _field(SCHEDULE, lambda c: c)
    block = _field("block", lambda c: BlockCount(*(int(v) for v in str(c[0]).split("x")), c[1], c[2]))

    @v_args(meta=True)
    def prune(self, meta: Any, children: list) -> tuple[str, Any, tuple[int, int]]:
        text = " ".join(str(c) for c in children if c is not None)
        try:
            return PRUNE, parse_scheme(text), _pos(meta)
        except SchemeError as e:
            raise _FieldError(_pos(meta), f"prune: {e}") from None

    def off_centre(self, children: list) -> bool:
        return True

    def span(self, children: list) -> Span:
        return Span(*children)

    def bias_span(self, children: list) -> Span:
        return children[0]

    ids_span = columns_span = offsets_span = bias_span

    @v_args(meta=True)
    def sched_pair(self, meta: Any, children: list) -> tuple[str, int | str, tuple[int, int]]:
        return children[0], children[1], _pos(meta)


class _FieldError(Exception):
    def __init__(self, pos: tuple[int, int], message: str):
        self.pos, self.message = pos, message


def _check_layer(model: LrModel, layer: Layer) -> None:
    """The body has exactly the fields its op needs (schedule optional), with sensible values."""
    spec = OPS[layer.op]
    for name, pos in layer.field_pos.items():
        if name not in spec.fields and name not in (*OPTIONAL_FIELDS, "}"):
            allowed = ", ".join(f"`{f}`" for f in (*spec.fields, *OPTIONAL_FIELDS))
            raise model.error(pos, f"`{name}` is not a field of {layer.op} (it takes {allowed})", syntax=True)
    missing = [f for f in spec.fields if f not in layer.fields]
    if missing:
        raise model.error(layer.field_pos["}"], f"{layer.title}: {layer.op} needs `{missing[0]}`", syntax=True)
    if spec.arity is not None and len(layer.inputs) != spec.arity:
        raise model.error(
            layer.pos, f"{layer.title}: {layer.op} takes {spec.arity} input(s), got {len(layer.inputs)}", syntax=True
        )
    storage = layer.fields.get("storage")
    if storage is not None:
        if storage.kind != spec.storage:
            raise model.error(
                layer.field_pos["storage"],
                f"{layer.op} stores its data as `{spec.storage}`, got `{storage.kind}`",
                syntax=True,
            )
        for part, owner in (("ids", "fkw"), ("columns", "block"), ("offsets", "block")):
            if (getattr(storage, part) is not None) != (spec.storage == owner):
                what = "needs" if spec.storage == owner else "takes no"
                raise model.error(layer.field_pos["storage"], f"`storage {storage.kind}` {what} `{part}`", syntax=True)
    if SCHEDULE in layer.fields:
        layer.fields[SCHEDULE] = _schedule(model, layer.fields[SCHEDULE])
    if INPUT == layer.output:
        raise model.error(layer.pos, f"{layer.title} writes the model input {INPUT}", syntax=True)


def _schedule(model: LrModel, pairs: list) -> dict[str, int | str]:
    result: dict[str, int | str] = {}
    for key, value, pos in pairs:
        expected = SCHEDULE_KEYS[key]
        if key in result:
            raise model.error(pos, f"schedule key `{key}` is given twice", syntax=True)
        if not isinstance(value, expected):
            raise model.error(
                pos,
                f"schedule `{key}` takes {'an integer' if expected is int else 'a string'}, got {json.dumps(value)}",
                syntax=True,
            )
        result[key] = value
    return result
