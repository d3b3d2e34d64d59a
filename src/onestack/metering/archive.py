"""Archive policies as values: how long and how finely a metric's measures are kept, and
which aggregation methods are computed (Gnocchi's ``archive_policy``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from onestack.common import errors
from onestack.metering import timeutil
from onestack.metering.series import METHODS

NS = timeutil.NS
DEFAULT_METHODS = ("mean", "min", "max", "sum", "std", "count")
MAX_POINTS = 10_000_000  # points of one granularity: beyond it one metric outweighs a disk


@dataclass(frozen=True)
class Granularity:
    granularity: int  # ns
    points: int

    @property
    def timespan(self) -> int:
        return self.granularity * self.points

    def jsonify(self) -> dict[str, Any]:
        return {
            "granularity": timeutil.format_timespan(self.granularity),
            "points": self.points,
            "timespan": timeutil.format_timespan(self.timespan),
        }


@dataclass(frozen=True)
class Policy:
    name: str
    back_window: int
    definition: tuple[Granularity, ...]  # finest first
    aggregation_methods: tuple[str, ...]  # sorted

    @property
    def max_granularity(self) -> int:
        return max(d.granularity for d in self.definition)

    def granularity(self, ns: int) -> Granularity | None:
        return next((d for d in self.definition if d.granularity == ns), None)

    def jsonify(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "back_window": self.back_window,
            "definition": [d.jsonify() for d in self.definition],
            "aggregation_methods": list(self.aggregation_methods),
        }

    @classmethod
    def from_row(
        cls, name: str, back_window: int, definition: list[dict[str, int]], methods: Sequence[str]
    ) -> Policy:
        items = tuple(Granularity(int(d["granularity"]), int(d["points"])) for d in definition)
        return cls(name, back_window, items, tuple(methods))


def resolve_methods(values: Iterable[Any] | None) -> tuple[str, ...]:
    """Gnocchi's method list: names, ``*`` for all, ``+x``/``-x`` to add to or take from the
    defaults (or from the names given)."""
    if values is None:
        return tuple(sorted(DEFAULT_METHODS))
    entries = list(values)
    bad = [v for v in entries if not isinstance(v, str) or _bare(v) not in METHODS | {"*"}]
    if bad:
        raise errors.BadRequest(f"Invalid input: Invalid value for aggregation_methods: {bad}")
    if "*" in entries:
        chosen = set(METHODS)
    elif all(e[:1] in "+-" for e in entries):
        chosen = set(DEFAULT_METHODS)
    else:
        chosen = {e for e in entries if e[:1] not in "+-"}
    for entry in entries:
        if entry.startswith("+"):
            chosen.add(entry[1:])
        elif entry.startswith("-"):
            chosen.discard(entry[1:])
    return tuple(sorted(chosen))


def _bare(value: str) -> str:
    return value[1:] if value[:1] in "+-" else value


def parse_definition(items: Any) -> tuple[Granularity, ...]:
    """The ``definition`` list: each item two of granularity, points, timespan."""
    if not isinstance(items, list) or not items:
        raise errors.BadRequest("Invalid input: definition must be a non-empty list")
    result: list[Granularity] = []
    for item in items:
        if not isinstance(item, dict) or set(item) - {"granularity", "points", "timespan"}:
            raise errors.BadRequest(f"Invalid input: invalid archive policy item {item!r}")
        result.append(_item(item))
    seen = [d.granularity for d in result]
    if len(set(seen)) != len(seen):
        raise errors.BadRequest("Invalid input: More than one archive policy uses a granularity")
    return tuple(sorted(result, key=lambda d: d.granularity))


def _item(item: dict[str, Any]) -> Granularity:
    gran = _ns(item.get("granularity"))
    span = _ns(item.get("timespan"))
    points = item.get("points")
    if isinstance(points, str) and points.strip().isdigit():
        points = int(points)
    if points is not None and (not isinstance(points, int) or isinstance(points, bool)):
        raise errors.BadRequest("Invalid input: points must be an integer")
    if points is not None and points <= 0:
        raise errors.BadRequest("Invalid input: Number of points should be > 0")
    if gran is None:
        if points is None or span is None:
            raise errors.BadRequest(
                "Invalid input: At least two of granularity/points/timespan must be provided"
            )
        gran = span // points
    if points is None:
        if span is None:
            raise errors.BadRequest("Invalid input: points or timespan is required")
        points = span // gran
        if points <= 0:
            raise errors.BadRequest("Invalid input: Calculated number of points is < 0")
    elif span is not None and span != gran * points:
        raise errors.BadRequest("Invalid input: timespan ≠ granularity × points")  # noqa: RUF001
    if gran < NS // 1000 or gran % (NS // 1000):
        raise errors.BadRequest("Invalid input: Granularity should be a whole microsecond > 0")
    if points > MAX_POINTS:
        raise errors.BadRequest(
            f"Invalid input: Archive policy items may keep at most {MAX_POINTS} points"
        )
    return Granularity(int(gran), int(points))


def _ns(value: Any) -> int | None:
    if value is None:
        return None
    return round(timeutil.parse_timespan(value) * NS)


def _policy(
    name: str,
    back_window: int,
    items: list[tuple[int, int]],
    methods: Sequence[str] = DEFAULT_METHODS,
) -> Policy:
    definition = tuple(Granularity(g * NS, span // g) for g, span in items)
    return Policy(name, back_window, definition, tuple(sorted(methods)))


DAY = 86400
# Gnocchi's defaults (``gnocchi.archive_policy.DEFAULT_ARCHIVE_POLICIES``) and Ceilometer's.
DEFAULT_POLICIES = (
    _policy("bool", 3600, [(1, 365 * DAY)], ("last",)),
    _policy("low", 0, [(300, 30 * DAY)]),
    _policy("medium", 0, [(60, 7 * DAY), (3600, 365 * DAY)]),
    _policy("high", 0, [(1, 3600), (60, 7 * DAY), (3600, 365 * DAY)]),
    _policy("ceilometer-low", 0, [(300, 30 * DAY)]),
    _policy("ceilometer-low-rate", 0, [(300, 30 * DAY)], (*DEFAULT_METHODS, "rate:mean")),
    _policy("ceilometer-high", 0, [(1, 3600), (60, DAY), (3600, 365 * DAY)]),
    _policy(
        "ceilometer-high-rate",
        0,
        [(1, 3600), (60, DAY), (3600, 365 * DAY)],
        (*DEFAULT_METHODS, "rate:mean"),
    ),
)
