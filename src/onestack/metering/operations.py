"""The aggregates operations language (Gnocchi's ``rest/aggregates/operations.py``):
``(aggregate mean (metric ID mean))``, ``(* 2 (metric ID max))``, ``(rolling sum 3 ...)``,
``(resample mean 3600 ...)``, ``(abs ...)``, evaluated over a grid of timestamps x series."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from onestack.common import errors
from onestack.metering import series, timeutil

Node = Any
Grid = Any  # ndarray [timestamps, series]

_NAN_AGG: dict[str, Callable[..., Any]] = {
    "mean": np.nanmean, "median": np.nanmedian, "std": np.nanstd, "min": np.nanmin,
    "max": np.nanmax, "sum": np.nansum, "var": np.nanvar,
    "count": lambda v, axis: np.count_nonzero(~np.isnan(v), axis=axis).astype(np.float64),
}  # fmt: skip
AGG_MAP = {**_NAN_AGG, **{f"rate:{k}": v for k, v in _NAN_AGG.items()}}
RESAMPLE_METHODS = frozenset(
    [k for k in _NAN_AGG if k != "var"] + ["last", "first"] + list(series.PERCENTILES)
)
BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "=": np.equal, "==": np.equal, "eq": np.equal, "<": np.less, "lt": np.less,
    ">": np.greater, "gt": np.greater, "<=": np.less_equal, "≤": np.less_equal,
    "le": np.less_equal, ">=": np.greater_equal, "≥": np.greater_equal,
    "ge": np.greater_equal, "!=": np.not_equal, "≠": np.not_equal, "ne": np.not_equal,
    "%": np.mod, "mod": np.mod, "+": np.add, "add": np.add, "-": np.subtract,
    "sub": np.subtract, "*": np.multiply, "×": np.multiply, "mul": np.multiply,  # noqa: RUF001
    "/": np.true_divide, "÷": np.true_divide, "div": np.true_divide, "**": np.power,
    "^": np.power, "pow": np.power,
    "clip_min": lambda a, v: np.clip(a, v, None), "clip_max": lambda a, v: np.clip(a, None, v),
    "max": np.fmax, "min": np.fmin,
}  # fmt: skip
UNARY: dict[str, Callable[[Any], Any]] = {
    "abs": np.absolute, "absolute": np.absolute, "neg": np.negative,
    "negative": np.negative, "cos": np.cos, "sin": np.sin, "tan": np.tan,
    "floor": np.floor, "ceil": np.ceil,
}  # fmt: skip
UNARY_WITH_TIMES = ("rateofchange", "rateofchangesec")
_TOKEN = re.compile(r'\s*(\(|\)|"[^"]*"|[^\s()"]+)')


class InvalidOperations(errors.BadRequest):
    def __init__(self, reason: str, detail: Any = None) -> None:
        super().__init__(f"Invalid operations: {reason}")
        self.description: Any = {"cause": "Invalid operations", "reason": reason, "detail": detail}


def parse(text: Any) -> Node:
    """The operations as nested lists (a JSON list is taken as it is)."""
    if isinstance(text, list):
        return _check(text)
    if not isinstance(text, str):
        raise InvalidOperations("operations must be a string or a list", text)
    tokens = [m.group(1) for m in _TOKEN.finditer(text)]
    if "".join(tokens) != re.sub(r"\s+", "", text) or not tokens:
        raise InvalidOperations("Fail to parse the operations string", text)
    stack: list[list[Any]] = [[]]
    for tok in tokens:
        if tok == "(":
            stack.append([])
        elif tok == ")":
            if len(stack) == 1:
                raise InvalidOperations("Fail to parse the operations string", text)
            done = stack.pop()
            stack[-1].append(done)
        else:
            stack[-1].append(tok.strip('"'))
    if len(stack) != 1 or len(stack[0]) != 1 or not isinstance(stack[0][0], list):
        raise InvalidOperations("Fail to parse the operations string", text)
    return _check(stack[0][0])


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _check(node: Any) -> Node:
    """Validate the tree as Gnocchi's schema does; numbers become floats."""
    if not isinstance(node, list):
        number = _number(node)
        if number is None:
            raise InvalidOperations(f"{node!r} is not an operation nor a number", node)
        return number
    if not node or not isinstance(node[0], str):
        raise InvalidOperations("an operation starts with its name", node)
    head, args = node[0], node[1:]
    if head == "metric":
        return _check_metric(node)
    if head in ("aggregate", "rolling", "resample"):
        return _check_aggregation(head, args, node)
    if head in UNARY or head in UNARY_WITH_TIMES:
        if len(args) != 1:
            raise InvalidOperations(f"{head} takes one operand", node)
        return [head, _check(args[0])]
    if head == "clip" and len(args) == 3:
        return [head, *(_check(a) for a in args)]
    if head in BINARY:
        if len(args) != 2:
            raise InvalidOperations(f"{head} takes two operands", node)
        return [head, _check(args[0]), _check(args[1])]
    raise InvalidOperations(f"unknown operation {head!r}", node)


def _check_metric(node: list[Any]) -> Node:
    args = node[1:]
    if args and all(isinstance(a, list) for a in args):
        pairs = args
    elif len(args) == 2:
        pairs = [args]
    else:
        raise InvalidOperations("(metric ID AGGREGATION) or (metric (ID AGG) ...)", node)
    for pair in pairs:
        if len(pair) != 2 or not all(isinstance(p, str) for p in pair):
            raise InvalidOperations("a metric reference is (ID AGGREGATION)", node)
        if pair[1] not in series.METHODS:
            raise InvalidOperations(f"unknown aggregation method {pair[1]!r}", node)
    return node


def _check_aggregation(head: str, args: list[Any], node: list[Any]) -> Node:
    size = 2 if head == "aggregate" else 3
    if len(args) != size or not isinstance(args[0], str):
        raise InvalidOperations(f"malformed {head}", node)
    method = args[0]
    allowed = RESAMPLE_METHODS if head == "resample" else AGG_MAP
    if method not in allowed:
        raise InvalidOperations(f"unknown {head} method {method!r}", node)
    if head == "rolling":
        window = _number(args[1])
        if window is None or window < 1 or window != int(window):
            raise InvalidOperations("a rolling window is a positive integer", node)
        return [head, method, int(window), _check(args[2])]
    if head == "resample":
        try:
            span = round(timeutil.parse_timespan(args[1]) * timeutil.NS)
        except errors.BadRequest:
            raise InvalidOperations(f"invalid resample granularity {args[1]!r}", node) from None
        return [head, method, span, _check(args[2])]
    return [head, method, _check(args[1])]


def references(node: Node) -> list[tuple[str, str]]:
    """The (metric, aggregation) pairs a tree reads, first use first (a dict keeps the order
    and makes 1,000 metrics one pass, not a million comparisons)."""
    found: dict[tuple[str, str], None] = {}
    _collect(node, found)
    return list(found)


def _collect(node: Node, found: dict[tuple[str, str], None]) -> None:
    if not isinstance(node, list):
        return
    if node[0] == "metric":
        for pair in metric_pairs(node):
            found.setdefault(pair)
        return
    for sub in node[1:]:
        _collect(sub, found)


def metric_pairs(node: Node) -> list[tuple[str, str]]:
    """The (metric, aggregation) pairs of one ``metric`` node."""
    items = node[1:] if isinstance(node[1], list) else [node[1:]]
    return [(item[0], item[1]) for item in items]


def evaluate(
    node: Node, gran: int, times: Any, grid: Grid, refs: list[tuple[str, str]]
) -> tuple[int, Any, Any, bool]:
    """(granularity, timestamps, values [T, n] or a number, aggregated?)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return _eval(node, gran, times, grid, refs, False)


def _eval(
    node: Node, gran: int, times: Any, grid: Grid, refs: list[tuple[str, str]], agg: bool
) -> tuple[int, Any, Any, bool]:
    if not isinstance(node, list):
        return gran, times, node, agg
    head = node[0]
    if head == "metric":
        pairs = set(metric_pairs(node))
        cols = [i for i, r in enumerate(refs) if r in pairs]
        return gran, times, grid[:, cols], agg
    if head in ("aggregate", "rolling", "resample"):
        g, t, v, agg = _eval(node[-1], gran, times, grid, refs, agg)
        return _aggregation(head, node, g, t, v, agg)
    if head in UNARY:
        g, t, v, agg = _eval(node[1], gran, times, grid, refs, agg)
        return g, t, UNARY[head](v), agg
    if head in UNARY_WITH_TIMES:
        g, t, v, agg = _eval(node[1], gran, times, grid, refs, agg)
        diff = np.diff(v, axis=0)
        if head == "rateofchangesec":
            seconds = np.diff(t).astype(np.float64) / timeutil.NS
            diff = diff / seconds[:, None]
        return g, t[1:], diff, agg
    operands = [_eval(n, gran, times, grid, refs, agg) for n in node[1:]]
    arrays = [o for o in operands if isinstance(o[2], np.ndarray)]
    base = arrays[0] if arrays else operands[0]
    for other in arrays[1:]:
        if not np.array_equal(other[1], base[1]) or other[2].shape != base[2].shape:
            raise errors.BadRequest(
                "Invalid input: Can't compute timeseries with different granularity or length"
            )
    values = [o[2] for o in operands]
    if head == "clip":
        result = np.clip(values[0], values[1], values[2])
    else:
        result = BINARY[head](values[0], values[1])
    return base[0], base[1], result, any(o[3] for o in operands) or len(arrays) > 1


def _aggregation(
    head: str, node: Node, g: int, t: Any, v: Any, agg: bool
) -> tuple[int, Any, Any, bool]:
    method = node[1]
    if head == "aggregate":
        out = np.asarray(AGG_MAP[method](v, axis=1), dtype=np.float64)[:, None]
        if method.startswith("rate:"):
            return g, t[1:], np.diff(out, axis=0), True
        return g, t, out, True
    if head == "rolling":
        window = int(node[2])
        if window > len(v):
            raise errors.BadRequest(
                f"Invalid input: Rolling window '{window}' is greater than serie length '{len(v)}'"
            )
        views = np.lib.stride_tricks.sliding_window_view(v, window, axis=0)
        out = np.asarray(AGG_MAP[method](views, axis=-1), dtype=np.float64)
        t = t[window - 1 :]
        if method.startswith("rate:"):
            return g, t[1:], np.diff(out, axis=0), agg
        return g, t, out, agg
    span = int(node[2])
    columns = []
    new_t: Any = series.EMPTY_TS
    for col in v.T:
        keep = ~np.isnan(col)
        new_t, values = series.aggregate(t[keep], col[keep], span, method)
        columns.append((new_t, values))
    all_t = np.unique(np.concatenate([c[0] for c in columns])) if columns else series.EMPTY_TS
    out = np.full((all_t.size, len(columns)), np.nan)
    for i, (ct, cv) in enumerate(columns):
        out[np.searchsorted(all_t, ct), i] = cv
    return span, all_t, out, agg
