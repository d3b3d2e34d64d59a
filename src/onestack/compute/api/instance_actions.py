"""``os-instance-actions``: the actions taken on a server and their events, as Nova shows them
per microversion."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.http import json_response
from onestack.compute import models, views
from onestack.compute.api import checks
from onestack.compute.api.helpers import allowed, at_least, authorize, param, service


def action_view(request: Request, a: models.InstanceAction) -> dict[str, Any]:
    out: dict[str, Any] = {
        "action": a.action,
        "instance_uuid": a.instance_uuid,
        "message": a.message,
        "project_id": a.project_id,
        "request_id": a.request_id,
        "start_time": views.usg(a.start_time),
        "user_id": a.user_id,
    }
    if at_least(request, 58):
        out["updated_at"] = views.usg(a.updated_at)
    return out


def event_view(
    request: Request, e: models.InstanceActionEvent, project_id: str, target: dict[str, str]
) -> dict[str, Any]:
    """An event; its traceback and host for those the events policy lets see them."""
    show_events = allowed(request, "os-instance-actions:events", target)
    item: dict[str, Any] = {
        "event": e.event,
        "start_time": views.usg(e.start_time),
        "finish_time": views.usg(e.finish_time),
        "result": e.result,
    }
    if show_events:
        item["traceback"] = e.traceback
    if at_least(request, 62):
        item["hostId"] = views.host_id(project_id, e.host)
        if show_events:
            item["host"] = e.host or ""
    if at_least(request, 84) and allowed(request, "os-instance-actions:events:details", target):
        item["details"] = e.details
    return item


async def _server(request: Request) -> models.Instance:
    """The server named in the path, once the caller may list its actions."""
    ctx = authorize(request, "os-instance-actions:list")
    uuid = param(request, "server_id")
    actions = service(request).instance_actions
    row = await actions.server(ctx, uuid, deleted_ok=at_least(request, 21))
    authorize(request, "os-instance-actions:list", {"project_id": row.project_id})
    return row


async def list_actions(request: Request) -> Response:
    row = await _server(request)
    q = request.query_params
    marker = limit = None
    if at_least(request, 58):
        marker = q.get("marker") or None
        limit = checks.query_int(q["limit"], "limit") if q.get("limit") else None
    found = await service(request).instance_actions.listing(row.uuid, marker=marker, limit=limit)
    return json_response({"instanceActions": [action_view(request, a) for a in found]})


async def show_action(request: Request) -> Response:
    row = await _server(request)
    target = {"project_id": row.project_id}
    authorize(request, "os-instance-actions:show", target)
    actions = service(request).instance_actions
    action, events = await actions.show(row.uuid, param(request, "request_id"))
    out = action_view(request, action)
    if allowed(request, "os-instance-actions:events", target) or at_least(request, 51):
        out["events"] = [event_view(request, e, row.project_id, target) for e in events]
    return json_response({"instanceAction": out})


routes = [
    Route("/servers/{server_id}/os-instance-actions", list_actions, methods=["GET"]),
    Route("/servers/{server_id}/os-instance-actions/{request_id}", show_action, methods=["GET"]),
]
