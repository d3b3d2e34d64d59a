"""``GET /stacks``'s query as Heat's stacks controller reads it (``_index``): the column
filters, the tag filters (``tags``: every tag given, ``tags_any``: one of them, ``not_tags``:
not every one, ``not_tags_any``: none of them; each a comma-separated list), the switches
(``show_deleted``, ``show_nested``, ``show_hidden``, ``with_count``, ``global_tenant``),
the sort and the page; and one page of the stacks it selects. Tags are a JSON column, so a
tag filter (the hidden tags' too) is applied to the ordered ids and tags here, portably across
engines, before the page is cut."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from onestack.common import errors
from onestack.orchestration.models import Stack
from onestack.orchestration.schemas import heat_bool, heat_int

TAG_FILTERS = ("tags", "tags_any", "not_tags", "not_tags_any")
_HIDDEN = "hidden"  # the configured hidden tags: none of them, unless show_hidden

# Heat's filter names (its stack keys and the names it keeps for downward compatibility)
# and the columns they compare; ``status`` may carry the action (``CREATE_COMPLETE``).
_FILTER_NAMES = {
    "id": "id",
    "name": "name",
    "stack_name": "name",
    "status": "status",
    "stack_status": "status",
    "action": "action",
    "stack_action": "action",
    "tenant": "project_id",
    "username": "username",
    "stack_owner": "username",
    "owner_id": "owner_id",
    "parent": "owner_id",
}
_STATUSES = ("COMPLETE", "FAILED", "IN_PROGRESS")
SORT_KEYS = {
    "stack_name": Stack.name,
    "stack_status": Stack.status,
    "creation_time": Stack.created_at,
    "updated_time": Stack.updated_at,
}


@dataclass
class ListQuery:
    filters: dict[str, list[str]] = field(default_factory=dict)  # column -> any of these
    tags: dict[str, list[str]] = field(default_factory=dict)
    limit: int | None = None
    marker: str | None = None
    sort_keys: list[str] = field(default_factory=list)
    sort_dir: str | None = None
    show_deleted: bool = False
    show_nested: bool = False
    show_hidden: bool = False
    with_count: bool = False
    global_tenant: bool = False


def flag(query: Mapping[str, str], name: str) -> bool:
    """A boolean parameter as Heat's param_utils.extract_bool takes it (absent: false)."""
    value = query.get(name)
    return False if value is None else heat_bool(name, value)


def tag_filters(query: Any) -> dict[str, list[str]]:
    """The tag filters of a request's query, as Heat's param_utils.extract_tags splits them."""
    out: dict[str, list[str]] = {}
    for key in TAG_FILTERS:
        value = query.get(key)
        if value is None:
            continue
        out[key] = value.split(",")
        for tag in out[key]:
            if len(tag) > 80:
                raise errors.BadRequest(f'Invalid tag, "{tag}" is longer than 80 characters')
    return out


def _column_filters(query: Any) -> dict[str, list[str]]:
    """Heat's engine api.translate_filters: the names mapped to columns, values merged; a
    status like ``CREATE_FAILED`` split into the status and an action (added to the actions
    asked for, as Heat adds it)."""
    out: dict[str, list[str]] = {}
    for name, column in _FILTER_NAMES.items():
        values = [v for v in query.getlist(name) if v]
        if values:
            out.setdefault(column, []).extend(values)
    if "status" in out:
        statuses: set[str] = set()
        actions: set[str] = set()
        for value in out["status"]:
            for status in _STATUSES:
                at = value.rfind(status)
                if at != -1:
                    statuses.add(value[at:])
                    if at > 1:
                        actions.add(value[: at - 1])
                    break
        out["status"] = sorted(statuses)
        if actions:
            out["action"] = sorted(set(out.get("action", [])) | actions)
    return out


def parse(query: Any) -> ListQuery:
    """A request's query parameters, with Heat's 400s for a value it refuses."""
    sort_dir = query.get("sort_dir")
    if sort_dir is not None and sort_dir not in ("asc", "desc"):
        raise errors.BadRequest("Unknown sort direction, must be 'desc' or 'asc'")
    return ListQuery(
        filters=_column_filters(query),
        tags=tag_filters(query),
        limit=None if query.get("limit") is None else heat_int("limit", query["limit"]),
        marker=query.get("marker"),
        sort_keys=query.getlist("sort_keys"),
        sort_dir=sort_dir,
        show_deleted=flag(query, "show_deleted"),
        show_nested=flag(query, "show_nested"),
        show_hidden=flag(query, "show_hidden"),
        # Heat reads with_count only when it is not empty.
        with_count=bool(query.get("with_count")) and flag(query, "with_count"),
        global_tenant=flag(query, "global_tenant"),
    )


def keeps(tags: list[str] | None, wanted: dict[str, list[str]]) -> bool:
    have = set(tags or [])
    checks = {
        "tags": lambda given: all(t in have for t in given),
        "tags_any": lambda given: any(t in have for t in given),
        "not_tags": lambda given: not all(t in have for t in given),
        "not_tags_any": lambda given: not any(t in have for t in given),
        _HIDDEN: lambda given: not any(t in have for t in given),
    }
    return all(checks[key](given) for key, given in wanted.items())


def ordered(stmt: Select[Any], keys: list[str], sort_dir: str | None) -> Select[Any]:
    """Heat's sort: the known keys (others are dropped), ascending unless told; none known,
    the newest first; the id last, so that equal keys keep one order."""
    columns = [SORT_KEYS[k] for k in keys if k in SORT_KEYS]
    if not columns:
        columns, sort_dir = [Stack.created_at], sort_dir or "desc"
    desc = sort_dir == "desc"
    return stmt.order_by(*[c.desc() if desc else c.asc() for c in columns], Stack.id)


async def page(
    s: AsyncSession, stmt: Select[Stack], q: ListQuery, hidden: list[str]
) -> tuple[list[Stack], int | None]:
    """The rows after the marker (a marker not in the list is ignored, as Heat's list does),
    at most ``limit``; and, when asked, how many the filters select. Without a tag filter,
    one page's rows are read, not the project's: the marker's place from the ids alone."""
    tags = dict(q.tags)
    if hidden and not q.show_hidden:
        tags[_HIDDEN] = hidden
    if tags:
        pairs = (await s.execute(stmt.with_only_columns(Stack.id, Stack.tags))).all()
        ids = [row_id for row_id, row_tags in pairs if keeps(row_tags, tags)]
        start = ids.index(q.marker) + 1 if q.marker in ids else 0
        wanted = ids[start:] if q.limit is None else ids[start : start + q.limit]
        rows = {r.id: r for r in await s.scalars(select(Stack).where(Stack.id.in_(wanted)))}
        return [rows[i] for i in wanted if i in rows], len(ids) if q.with_count else None
    count = None
    if q.with_count:
        count = await s.scalar(
            stmt.with_only_columns(func.count()).order_by(None).select_from(Stack)
        )
    if q.marker:
        ids = list(await s.scalars(stmt.with_only_columns(Stack.id)))
        if q.marker in ids:
            stmt = stmt.offset(ids.index(q.marker) + 1)
    if q.limit is not None:
        stmt = stmt.limit(q.limit)
    return list(await s.scalars(stmt)), count
