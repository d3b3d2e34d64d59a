"""Paging a list the API answers whole: Keystone v3 pages none of users, projects, groups
and roles with a marker, so the dashboard sorts the answer by name and shows one page of
``page_size`` rows after the ``?marker=`` one, with the same pager as the other lists (only
the rows shown are rendered: the page's cost is one API call, whatever the list's length)."""

from __future__ import annotations

from typing import Any

from onestack.dashboard.web import Ctx


def by_name(
    ctx: Ctx, found: dict[str, Any], key: str, path: str, **filters: str
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The page of ``found[key]`` the request asks for, and the list template's pager values
    (``next_url``, ``paged``, ``first_url``, ``truncated``). A marker that names no item
    (deleted meanwhile) starts again from the first page."""
    items = sorted(found[key], key=lambda i: (str(i.get("name", "")), str(i["id"])))
    marker = ctx.request.query_params.get("marker", "")
    start = next((n + 1 for n, i in enumerate(items) if i["id"] == marker), 0) if marker else 0
    shown = items[start : start + ctx.page_size]
    more = start + len(shown) < len(items)
    return shown, {
        "next_url": ctx.url(path, marker=str(shown[-1]["id"]), **filters) if more else "",
        "paged": start > 0,
        "first_url": ctx.url(path, **filters),
        # Keystone's list_limit cut the answer: the filter finds the others.
        "truncated": bool(found.get("truncated")),
    }
