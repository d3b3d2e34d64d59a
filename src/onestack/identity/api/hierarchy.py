"""A project's place in its hierarchy, as ``GET /v3/projects/{id}`` adds it on request:
``parents_as_list``/``subtree_as_list`` (the projects, wrapped as Keystone wraps them) or
``parents_as_ids``/``subtree_as_ids`` (nested dictionaries of ids). As Keystone, only the
projects the caller has a role on are shown."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from onestack.common import errors
from onestack.common.auth import get_context
from onestack.common.http import query_bool
from onestack.identity.api.helpers import service, views


def _flag(request: Request, name: str) -> bool:
    if name not in request.query_params:
        return False
    value = request.query_params[name]
    return value == "" or bool(query_bool(value))


async def expand(request: Request, body: dict[str, Any], project_id: str) -> dict[str, Any]:
    parents_list, parents_ids = _flag(request, "parents_as_list"), _flag(request, "parents_as_ids")
    subtree_list, subtree_ids = _flag(request, "subtree_as_list"), _flag(request, "subtree_as_ids")
    if parents_list and parents_ids:
        raise errors.ValidationError(
            field="parents_as_list", reason="cannot be used with parents_as_ids"
        )
    if subtree_list and subtree_ids:
        raise errors.ValidationError(
            field="subtree_as_list", reason="cannot be used with subtree_as_ids"
        )
    if not (parents_list or parents_ids or subtree_list or subtree_ids):
        return body
    svc = service(request)
    ctx = get_context(request)
    mine = set(await svc.assignments.targets_of_user(ctx.user_id, "project"))
    if parents_list or parents_ids:
        ids = [p for p in await svc.resources.ancestors(project_id) if p in mine]
        if parents_list:
            body["parents"] = await _wrapped(request, ids)
        else:
            body["parents"] = _reverse(ids)
    if subtree_list or subtree_ids:
        ids = [p for p in await svc.resources.subtree(project_id) if p in mine]
        if subtree_list:
            body["subtree"] = await _wrapped(request, ids)
        else:
            body["subtree"] = await _tree(request, project_id, set(ids))
    return body


def _reverse(ids: list[str]) -> dict[str, Any] | None:
    """Keystone's parents_as_ids: the parent maps to its parent, and so on up to None."""
    out: dict[str, Any] | None = None
    for pid in reversed(ids):
        out = {pid: out}
    return out


async def _wrapped(request: Request, ids: list[str]) -> list[dict[str, Any]]:
    svc, v = service(request), views(request)
    out = []
    for pid in ids:
        project, tags = await svc.resources.get_project(pid)
        out.append({"project": v.project(project, tags)})
    return out


async def _tree(request: Request, root: str, keep: set[str]) -> dict[str, Any] | None:
    """Keystone's subtree_as_ids: each child maps to its own children, a leaf to None."""
    svc = service(request)
    children: dict[str, list[str]] = {}
    for pid in keep:
        project, _tags = await svc.resources.get_project(pid)
        children.setdefault(project.parent_id or "", []).append(pid)

    def build(node: str) -> dict[str, Any] | None:
        kids = sorted(children.get(node, []))
        return {k: build(k) for k in kids} or None

    return build(root)
