"""Server groups (``os-server-groups``): ``policies`` before 2.64, ``policy`` and ``rules``
from it."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.http import empty, json_response
from onestack.compute import schemas
from onestack.compute.api import checks
from onestack.compute.api.helpers import (
    allowed,
    at_least,
    authorize,
    param,
    service,
    valid_body,
    versioned,
)
from onestack.compute.service.groups import Group


def view(request: Request, g: Group) -> dict[str, Any]:
    out: dict[str, Any] = {"id": g.uuid, "name": g.name}
    if at_least(request, 64):
        out["policy"] = g.policy
        out["rules"] = dict(g.rules)
    else:
        out["policies"] = [g.policy]
        out["metadata"] = {}
    out["members"] = list(g.members)
    if at_least(request, 13):
        out["project_id"] = g.project_id
        out["user_id"] = g.user_id
    return out


async def list_groups(request: Request) -> Response:
    ctx = authorize(request, "os-server-groups:index")
    q = request.query_params
    all_projects = False
    if "all_projects" in q and checks.query_bool(q["all_projects"] or "true", "all_projects"):
        all_projects = allowed(request, "os-server-groups:index:all_projects", {})
    limit = checks.query_int(q["limit"], "limit", 0) if "limit" in q else None
    offset = checks.query_int(q["offset"], "offset", 0) if "offset" in q else 0
    groups = await service(request).groups.list(
        ctx, all_projects=all_projects, limit=limit, offset=offset
    )
    return json_response({"server_groups": [view(request, g) for g in groups]})


async def show_group(request: Request) -> Response:
    ctx = authorize(request, "os-server-groups:show")
    g = await service(request).groups.show(ctx, param(request, "group_id"))
    return json_response({"server_group": view(request, g)})


async def create_group(request: Request) -> Response:
    ctx = authorize(request, "os-server-groups:create")
    model = versioned(
        request,
        (64, schemas.ServerGroupCreateV264),
        (15, schemas.ServerGroupCreateV215),
        (0, schemas.ServerGroupCreate),
    )
    body = await valid_body(request, model)
    g = await service(request).groups.create(ctx, body.name, body.policy, body.rules)
    return json_response({"server_group": view(request, g)})


async def delete_group(request: Request) -> Response:
    ctx = authorize(request, "os-server-groups:delete")
    await service(request).groups.delete(ctx, param(request, "group_id"))
    return empty(204)


routes: list[Route] = [
    Route("/os-server-groups", list_groups, methods=["GET"]),
    Route("/os-server-groups", create_group, methods=["POST"]),
    Route("/os-server-groups/{group_id}", show_group, methods=["GET"]),
    Route("/os-server-groups/{group_id}", delete_group, methods=["DELETE"]),
]
