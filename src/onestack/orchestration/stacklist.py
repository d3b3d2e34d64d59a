"""One page of ``GET /stacks``: Heat's tag filters (``tags``: every tag given,
``tags_any``: one of them, ``not_tags``: not every one, ``not_tags_any``: none of them; each a
comma-separated list) and the marker and limit. Tags are a JSON column, so a tag filter is
applied to the ordered rows here, portably across engines, before the page is cut."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from onestack.common import errors
from onestack.orchestration.models import Stack

TAG_FILTERS = ("tags", "tags_any", "not_tags", "not_tags_any")


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


def keeps(tags: list[str] | None, wanted: dict[str, list[str]]) -> bool:
    have = set(tags or [])
    checks = {
        "tags": lambda given: all(t in have for t in given),
        "tags_any": lambda given: any(t in have for t in given),
        "not_tags": lambda given: not all(t in have for t in given),
        "not_tags_any": lambda given: not any(t in have for t in given),
    }
    return all(checks[key](given) for key, given in wanted.items())


async def page(
    s: AsyncSession,
    stmt: Select[Stack],
    marker: str | None,
    limit: int | None,
    tags: dict[str, list[str]],
) -> list[Stack]:
    """The rows after ``marker`` (a marker not in the list is ignored, as Heat's list does),
    at most ``limit``. Without a tag filter, one page's rows are read, not the project's: the
    marker's place from the ids alone."""
    if tags:
        rows = [row for row in await s.scalars(stmt) if keeps(row.tags, tags)]
        ids = [row.id for row in rows]
        start = ids.index(marker) + 1 if marker in ids else 0
        return rows[start : start + limit] if limit else rows[start:]
    if marker:
        ids = list(await s.scalars(stmt.with_only_columns(Stack.id)))
        if marker in ids:
            stmt = stmt.offset(ids.index(marker) + 1)
    if limit:
        stmt = stmt.limit(limit)
    return list(await s.scalars(stmt))
