"""Neutron's list semantics once for every resource: filters on any attribute (repeated values
mean "any of"), tag filters, sort keys and directions, ``limit``/``marker`` pages both ways.

A ``Kind`` maps API attribute names to columns (or to a clause builder for attributes that are
not a column, such as a port's ``fixed_ips``); ``list_rows`` turns a ``ListQuery`` into SQL.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ColumnElement, Integer, and_, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from onestack.common import errors
from onestack.common.db import UTCDateTime
from onestack.common.http import INT_RANGE, query_bool
from onestack.common.pagination import PageParams, apply_page
from onestack.network import errors as nerr
from onestack.network import models

ClauseBuilder = Callable[[list[str]], ColumnElement[bool]]


@dataclass(frozen=True)
class ListQuery:
    """What a list request asks for, already split out of the query string."""

    filters: dict[str, list[str]] = field(default_factory=dict)
    fields: tuple[str, ...] = ()
    sort: tuple[tuple[str, str], ...] = ()
    limit: int | None = None
    marker: str | None = None
    page_reverse: bool = False
    tags: tuple[str, ...] = ()
    tags_any: tuple[str, ...] = ()
    not_tags: tuple[str, ...] = ()
    not_tags_any: tuple[str, ...] = ()


@dataclass(frozen=True)
class Kind:
    """One resource type as the query engine sees it."""

    model: Any
    tag_type: str | None  # resource type in the tag table, None if not taggable
    columns: dict[str, str]  # API attribute -> column name (filterable and sortable)
    special: dict[str, ClauseBuilder] = field(default_factory=dict)  # filter-only attributes
    ignored: frozenset[str] = frozenset()  # accepted filters that never restrict (e.g. fields)
    # Plain rows instead of ORM objects: the renderer loads what it needs itself. For the
    # long lists (ports), where building ORM objects would cost most of the request.
    core: bool = False

    def column(self, attr: str) -> InstrumentedAttribute[Any]:
        col: InstrumentedAttribute[Any] = getattr(self.model, self.columns[attr])
        return col


STANDARD = {
    "id": "id",
    "description": "description",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "revision_number": "revision_number",
}
OWNED = {**STANDARD, "name": "name", "project_id": "project_id", "tenant_id": "project_id"}


def _convert(col: InstrumentedAttribute[Any], attr: str, value: str) -> Any:
    coltype = col.expression.type
    if isinstance(coltype, Boolean):
        parsed = query_bool(value)
        if parsed is None:
            raise nerr.InvalidInput(reason=f"'{value}' is not a valid boolean for {attr}")
        return parsed
    if isinstance(coltype, Integer):
        try:
            number = int(value)
        except ValueError:
            raise nerr.InvalidInput(reason=f"'{value}' is not an integer for {attr}") from None
        if not -INT_RANGE <= number < INT_RANGE:
            raise nerr.InvalidInput(reason=f"'{value}' is out of range for {attr}")
        return number
    if isinstance(coltype, UTCDateTime):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise nerr.InvalidInput(reason=f"'{value}' is not a valid time for {attr}") from None
    return value


def filter_clause(kind: Kind, attr: str, values: list[str]) -> ColumnElement[bool] | None:
    if attr in kind.special:
        return kind.special[attr](values)
    if attr in kind.ignored:
        return None
    if attr not in kind.columns:
        raise nerr.InvalidFilter(key=attr)
    col = kind.column(attr)
    if getattr(col.expression, "nullable", False) and any(v in ("", "None") for v in values):
        rest = [_convert(col, attr, v) for v in values if v not in ("", "None")]
        return or_(col.is_(None), col.in_(rest)) if rest else col.is_(None)
    converted = [_convert(col, attr, v) for v in values]
    return col == converted[0] if len(converted) == 1 else col.in_(converted)


def _tag_clause(kind: Kind, q: ListQuery) -> list[ColumnElement[bool]]:
    if not (q.tags or q.tags_any or q.not_tags or q.not_tags_any):
        return []
    if kind.tag_type is None:
        return []
    ident = kind.model.id

    def having(tag: str) -> ColumnElement[bool]:
        clause: ColumnElement[bool] = ident.in_(
            select(models.Tag.resource_id).where(models.Tag.tag == tag)
        )
        return clause

    def having_any(tags: Sequence[str]) -> ColumnElement[bool]:
        clause: ColumnElement[bool] = ident.in_(
            select(models.Tag.resource_id).where(models.Tag.tag.in_(tags))
        )
        return clause

    clauses: list[ColumnElement[bool]] = []
    if q.tags:
        clauses.append(and_(*[having(t) for t in q.tags]))
    if q.tags_any:
        clauses.append(having_any(q.tags_any))
    if q.not_tags:
        clauses.append(not_(and_(*[having(t) for t in q.not_tags])))
    if q.not_tags_any:
        clauses.append(not_(having_any(q.not_tags_any)))
    return clauses


@dataclass
class Page:
    rows: list[Any]
    has_more: bool  # rows beyond this page in the direction of travel
    reverse: bool


async def list_rows(
    session: AsyncSession,
    kind: Kind,
    q: ListQuery,
    visible: ColumnElement[bool] | None = None,
    extra: Sequence[ColumnElement[bool]] = (),
    options: Sequence[Any] = (),
) -> Page:
    """One page of ``kind`` rows that ``visible`` lets the caller see, filtered and sorted."""
    stmt = select(*kind.model.__table__.columns) if kind.core else select(kind.model)
    conditions: list[ColumnElement[bool]] = list(extra)
    if visible is not None:
        conditions.append(visible)
    for attr, values in q.filters.items():
        clause = filter_clause(kind, attr, values)
        if clause is not None:
            conditions.append(clause)
    conditions += _tag_clause(kind, q)
    if conditions:
        stmt = stmt.where(and_(*conditions))
    if options:
        stmt = stmt.options(*options)
    sort: list[tuple[str, str]] = []
    for attr, direction in q.sort:
        if attr not in kind.columns:
            raise nerr.InvalidSortKey(key=attr)
        if direction not in ("asc", "desc"):
            raise errors.BadRequest(f"{direction} is an invalid value for sort_dir.")
        if q.page_reverse:
            direction = "desc" if direction == "asc" else "asc"
        sort.append((kind.columns[attr], direction))
    if not sort:
        sort = [("id", "desc" if q.page_reverse else "asc")]
    limit = q.limit + 1 if q.limit else None
    marker_row = None
    if q.marker:
        marker_row = await session.get(kind.model, q.marker)
        if marker_row is None:
            raise errors.NotFound(f"Marker {q.marker} could not be found.")
    stmt = apply_page(stmt, kind.model, PageParams(limit, None, tuple(sort)), marker_row)
    if kind.core:
        rows: list[Any] = list((await session.execute(stmt)).all())
    else:
        rows = list((await session.scalars(stmt)).unique().all())
    has_more = bool(q.limit) and len(rows) > (q.limit or 0)
    if has_more:
        rows = rows[: q.limit]
    if q.page_reverse:
        rows.reverse()
    return Page(rows, has_more, q.page_reverse)
