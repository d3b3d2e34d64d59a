"""Gnocchi's search language, in its two forms, compiled to a predicate over a resource's
JSON view: ``{"and": [{"=": {"project_id": "p"}}, {">=": {"started_at": "2024-01-01"}}]}``
and the string form ``project_id=p and started_at>="2024-01-01"``."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from onestack.common import errors
from onestack.metering import timeutil

Predicate = Callable[[Mapping[str, Any]], bool]

COMPARE = {
    "=": "eq", "==": "eq", "eq": "eq",
    "<": "lt", "lt": "lt",
    ">": "gt", "gt": "gt",
    "<=": "le", "≤": "le", "le": "le",
    ">=": "ge", "≥": "ge", "ge": "ge",
    "!=": "ne", "≠": "ne", "ne": "ne",
    "in": "in", "like": "like",
}  # fmt: skip
LOGIC = {"and": "and", "∧": "and", "or": "or", "∨": "or", "not": "not"}  # noqa: RUF001
DATETIME_FIELDS = {"started_at", "ended_at", "revision_start", "revision_end"}


class InvalidFilter(errors.BadRequest):
    template = "Invalid input: {reason}"


def compile_filter(query: Any, fields: Mapping[str, str], type_name: str = "generic") -> Predicate:
    """A predicate for ``query`` (dict form); ``fields`` maps each attribute a resource of
    the type has to its kind (``string``, ``number``, ``datetime``, ``bool``, ``uuid``)."""
    if not isinstance(query, dict) or len(query) != 1:
        raise InvalidFilter(reason=f"Invalid filter {query!r}: one operator per clause")
    op, arg = next(iter(query.items()))
    lowered = op.lower() if isinstance(op, str) else op
    if lowered in LOGIC:
        return _logic(LOGIC[lowered], arg, fields, type_name)
    if lowered not in COMPARE:
        raise InvalidFilter(reason=f"Unknown operator {op!r}")
    if not isinstance(arg, dict) or len(arg) != 1:
        raise InvalidFilter(reason=f"Operator {op!r} takes one attribute and its value")
    field, value = next(iter(arg.items()))
    if field not in fields:
        raise InvalidFilter(reason=f"Resource type {type_name} has no {field} attribute")
    return _compare(COMPARE[lowered], field, _coerce(fields[field], value, COMPARE[lowered]))


def _logic(kind: str, arg: Any, fields: Mapping[str, str], type_name: str) -> Predicate:
    if kind == "not":
        inner = compile_filter(arg, fields, type_name)
        return lambda r: not inner(r)
    if not isinstance(arg, list) or not arg:
        raise InvalidFilter(reason=f"Operator {kind!r} takes a non-empty list")
    parts = [compile_filter(a, fields, type_name) for a in arg]
    if kind == "and":
        return lambda r: all(p(r) for p in parts)
    return lambda r: any(p(r) for p in parts)


def _coerce(kind: str, value: Any, op: str) -> Any:
    if op == "in":
        if not isinstance(value, list):
            raise InvalidFilter(reason="Operator 'in' takes a list")
        return [_coerce(kind, v, "eq") for v in value]
    if value is None:
        return None
    if kind == "datetime":
        return timeutil.parse_timestamp(value)
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise InvalidFilter(reason=f"{value!r} is not a number")
        try:
            return float(value)
        except ValueError:
            raise InvalidFilter(reason=f"{value!r} is not a number") from None
    if kind == "bool":
        if isinstance(value, bool):
            return value
        return str(value).lower() in ("true", "1", "yes")
    return value if op == "like" else str(value)


def _value(kind_dt: bool, raw: Any) -> Any:
    if raw is None or not kind_dt:
        return raw
    return timeutil.parse_timestamp(raw)


def _compare(op: str, field: str, wanted: Any) -> Predicate:
    dt = field in DATETIME_FIELDS or (isinstance(wanted, int) and not isinstance(wanted, bool))

    def get(r: Mapping[str, Any]) -> Any:
        value = r.get(field)
        if dt and isinstance(value, str):
            return _value(True, value)
        if isinstance(wanted, float) and isinstance(value, int | float):
            return float(value)
        if isinstance(wanted, str) and value is not None and not isinstance(value, str):
            return str(value)
        return value

    if op == "in":
        return lambda r: get(r) in wanted
    if op == "like":
        pattern = re.compile(
            "^"
            + "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in str(wanted))
            + "$",
            re.DOTALL,
        )
        return lambda r: isinstance(r.get(field), str) and bool(pattern.match(r[field]))
    if op == "eq":
        return lambda r: get(r) == wanted
    if op == "ne":
        return lambda r: get(r) != wanted

    def ordered(r: Mapping[str, Any]) -> bool:
        value = get(r)
        if value is None or wanted is None:
            return False
        try:
            if op == "lt":
                return bool(value < wanted)
            if op == "le":
                return bool(value <= wanted)
            if op == "gt":
                return bool(value > wanted)
            return bool(value >= wanted)
        except TypeError:
            return False

    return ordered


# --- the string form --------------------------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:(?P<lp>\()|(?P<rp>\))|(?P<lb>\[)|(?P<rb>\])|(?P<comma>,)
    |(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    |(?P<op>==|!=|>=|<=|≠|≥|≤|=|<|>|∧|∨)  # noqa: RUF001
    |(?P<word>[^\s()\[\],=!<>≠≥≤∧∨"']+))""",  # noqa: RUF001
    re.VERBOSE,
)
_WORD_OPS = {"eq", "ne", "lt", "gt", "le", "ge", "in", "like"}


def parse_string(text: str) -> dict[str, Any]:
    """The string form as the dict form; 400 for what does not parse."""
    tokens = _tokenize(text)
    parser = _StringParser(tokens)
    result = parser.expr()
    if parser.pos != len(tokens):
        raise InvalidFilter(reason=f"Unable to parse the filter {text!r}")
    return result


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise InvalidFilter(reason=f"Unable to parse the filter {text!r}")
        kind = m.lastgroup or ""
        tokens.append((kind, m.group(kind)))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return tokens


class _StringParser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise InvalidFilter(reason="Unexpected end of the filter")
        self.pos += 1
        return token

    def expr(self) -> dict[str, Any]:
        left = self.term()
        parts = [left]
        while (t := self.peek()) and t[1].lower() in ("or", "∨"):  # noqa: RUF001
            self.take()
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else {"or": parts}

    def term(self) -> dict[str, Any]:
        parts = [self.factor()]
        while (t := self.peek()) and t[1].lower() in ("and", "∧"):
            self.take()
            parts.append(self.factor())
        return parts[0] if len(parts) == 1 else {"and": parts}

    def factor(self) -> dict[str, Any]:
        kind, text = self.take()
        if kind == "word" and text.lower() == "not":
            return {"not": self.factor()}
        if kind == "lp":
            inner = self.expr()
            if self.take()[0] != "rp":
                raise InvalidFilter(reason="Unbalanced parentheses in the filter")
            return inner
        if kind != "word":
            raise InvalidFilter(reason=f"Unexpected {text!r} in the filter")
        op_kind, op = self.take()
        if op_kind != "op" and not (op_kind == "word" and op.lower() in _WORD_OPS):
            raise InvalidFilter(reason=f"Unknown operator {op!r}")
        value = self.list_value() if op.lower() == "in" else self.value()
        return {op.lower() if op_kind == "word" else op: {text: value}}

    def list_value(self) -> list[Any]:
        if self.take()[0] != "lb":
            raise InvalidFilter(reason="Operator 'in' takes a list: [a, b]")
        values: list[Any] = []
        while True:
            values.append(self.value())
            kind, _ = self.take()
            if kind == "rb":
                return values
            if kind != "comma":
                raise InvalidFilter(reason="Malformed list in the filter")

    def value(self) -> Any:
        kind, text = self.take()
        if kind == "str":
            return re.sub(r"\\(.)", r"\1", text[1:-1])
        if kind != "word":
            raise InvalidFilter(reason=f"Unexpected {text!r} in the filter")
        if text == "null":
            return None
        if text in ("true", "false"):
            return text == "true"
        try:
            return int(text)
        except ValueError:
            pass
        try:
            return float(text)
        except ValueError:
            return text
