"""``limit`` / ``marker`` / ``sort_key`` / ``sort_dir`` on SQLAlchemy selects, keyset style."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import ColumnElement, Select, and_, false, or_
from sqlalchemy.orm import InstrumentedAttribute

from onestack.common import errors


@dataclass(frozen=True, slots=True)
class PageParams:
    limit: int | None
    marker: str | None
    sort: tuple[tuple[str, str], ...]  # (key, "asc"|"desc")


def parse_page_params(
    query: Mapping[str, str],
    allowed_keys: Sequence[str],
    default_sort: tuple[tuple[str, str], ...] = (("created_at", "desc"),),
    max_limit: int = 1000,
) -> PageParams:
    """Read the OpenStack paging parameters, rejecting unknown sort keys with 400."""
    limit: int | None = None
    if "limit" in query:
        try:
            limit = int(query["limit"])
        except ValueError:
            raise errors.BadRequest(f"limit must be an integer, got {query['limit']!r}.") from None
        if limit < 0:
            raise errors.BadRequest("limit must be a non-negative integer.")
        limit = min(limit, max_limit)
    keys = [k for k in query.get("sort_key", "").split(",") if k] if "sort_key" in query else []
    dirs = [d for d in query.get("sort_dir", "").split(",") if d] if "sort_dir" in query else []
    sort: list[tuple[str, str]] = []
    for i, key in enumerate(keys):
        key, _, inline_dir = key.partition(":")
        direction = inline_dir or (dirs[i] if i < len(dirs) else (dirs[0] if dirs else "desc"))
        if key not in allowed_keys:
            raise errors.BadRequest(f"Invalid sort key {key!r}.")
        if direction not in ("asc", "desc"):
            raise errors.BadRequest(f"Invalid sort direction {direction!r}.")
        sort.append((key, direction))
    return PageParams(limit, query.get("marker") or None, tuple(sort) or default_sort)


def _ordering(col: InstrumentedAttribute[Any], direction: str) -> list[Any]:
    """NULL sorts as the lowest value on every engine (PostgreSQL's default is the highest)."""
    if not getattr(col.expression, "nullable", False):
        return [col.asc() if direction == "asc" else col.desc()]
    nulls = col.is_(None)
    return [nulls.desc(), col.asc()] if direction == "asc" else [nulls.asc(), col.desc()]


def apply_page(
    stmt: Select[Any],
    model: Any,
    params: PageParams,
    marker_row: Any | None,
    id_column: str = "id",
) -> Select[Any]:
    """Order by the sort keys plus the id (a total order), then start after ``marker_row``."""
    keys = [*params.sort, (id_column, params.sort[-1][1] if params.sort else "asc")]
    columns: list[tuple[InstrumentedAttribute[Any], str]] = [
        (getattr(model, k), d) for k, d in keys
    ]
    stmt = stmt.order_by(*[o for c, d in columns for o in _ordering(c, d)])
    if marker_row is not None:
        clauses = []
        for i, (col, direction) in enumerate(columns):
            value = getattr(marker_row, col.key)
            equal_before = [c == getattr(marker_row, c.key) for c, _ in columns[:i]]
            beyond: ColumnElement[bool]
            if value is None:  # NULL is the lowest value: only non-NULLs follow it going up
                beyond = col.is_not(None) if direction == "asc" else false()
            else:
                beyond = col > value if direction == "asc" else or_(col < value, col.is_(None))
            clauses.append(and_(*equal_before, beyond))
        stmt = stmt.where(or_(*clauses))
    if params.limit is not None:
        stmt = stmt.limit(params.limit)
    return stmt


def next_link(base_url: str, query: Mapping[str, str], last_id: str) -> str:
    """The ``next`` link: the same query with the marker moved to the last item shown."""
    params = {k: v for k, v in query.items() if k != "marker"}
    params["marker"] = last_id
    return f"{base_url}?{urlencode(params)}"
