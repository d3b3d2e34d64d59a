"""Servers: create, list (summary and detail), show, update, delete."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common import api, errors
from onestack.common.context import RequestContext
from onestack.common.http import empty, json_response, query_bool
from onestack.compute import models, states, views
from onestack.compute.api import checks
from onestack.compute.api.helpers import (
    allowed,
    at_least,
    authorize,
    context,
    href,
    links,
    param,
    service,
    valid_body,
)
from onestack.compute.server_create import ServerCreate
from onestack.compute.server_schemas import ServerUpdate
from onestack.compute.service.create import CreateRequest
from onestack.compute.service.server_lists import SORT_KEYS, ListFilters
from onestack.compute.validation import invalid

MAX_LIMIT = 1000
UPDATED = {  # a ServerUpdate member: the column it changes
    "name": "display_name",
    "description": "display_description",
    "hostname": "hostname",
    "access_ip_v4": "access_ip_v4",
    "access_ip_v6": "access_ip_v6",
}


async def create(request: Request) -> Response:
    created_from = await api.body(request, ServerCreate, context=context(request))
    req, body = created_from.request, created_from.server
    ctx = authorize_create(request, req)
    created = await service(request).creation.create_servers(ctx, req)
    first = created.rows[0]
    if body.get("return_reservation_id"):
        return json_response({"reservation_id": first.reservation_id}, 202)
    server: dict[str, Any] = {
        "id": first.uuid,
        "links": links(request, "servers", first.uuid),
        "OS-DCF:diskConfig": req.disk_config,
        "security_groups": [{"name": n} for n in created.security_groups] or [{"name": "default"}],
        "adminPass": body.get("adminPass") or secrets.token_urlsafe(9),
    }
    return json_response(
        {"server": server}, 202, {"Location": href(request, "servers", first.uuid)}
    )


def authorize_create(request: Request, req: CreateRequest) -> RequestContext:
    """``servers:create``, with the rules Nova adds for what a request asks beyond a plain
    boot (networks named, a host forced)."""
    ctx = authorize(request, "servers:create")
    if isinstance(req.networks, list) and req.networks:
        authorize(request, "servers:create:attach_network")
    if req.forced_host:
        authorize(request, "servers:create:forced_host")
    if req.block_devices:
        authorize(request, "servers:create:attach_volume")
    return ctx


def _time(value: str, field: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise invalid(field, f"{value!r} is not a 'date-time'") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


ADMIN_FILTERS = {
    "host",
    "node",
    "deleted",
    "user_id",
    "vm_state",
    "task_state",
    "project_id",
    "tenant_id",
}


def _filters(request: Request) -> ListFilters:
    q = request.query_params
    ctx = authorize(request, "servers:index")
    all_projects = False
    raw_all = q.get("all_tenants", q.get("all_projects"))
    if raw_all is not None:
        all_projects = bool(query_bool(raw_all))
        if all_projects:
            authorize(request, "servers:index:get_all_tenants")
    admin = allowed(request, "servers:allow_all_filters")
    f = ListFilters(all_projects=all_projects)
    if admin:
        # As Nova (bug 1185290): the project filter counts only with all_tenants; without
        # it the list is the caller's own project whatever project is named.
        if all_projects:
            f.project_id = q.get("project_id") or q.get("tenant_id")
        f.host = q.get("host")
        f.node = q.get("node")
        f.user_id = q.get("user_id")
        f.deleted = bool(query_bool(q.get("deleted"))) if "deleted" in q else False
        f.vm_state = q.getlist("vm_state") or None
        f.task_state = q.getlist("task_state") or None
    elif ctx.is_admin:
        f.project_id = q.get("project_id")
    f.name = q.get("name") or None
    f.status = q.getlist("status") or None
    f.image = q.get("image")
    f.flavor = q.get("flavor")
    f.ip = q.get("ip")
    f.ip6 = q.get("ip6")
    f.reservation_id = q.get("reservation_id")
    f.availability_zone = q.get("availability_zone")
    f.key_name = q.get("key_name")
    f.description = q.get("description")
    if "locked" in q and at_least(request, 73):
        f.locked = query_bool(q.get("locked"))
    if q.get("changes-since"):
        f.changes_since = _time(q["changes-since"], "changes-since")
    if q.get("changes-before"):
        f.changes_before = _time(q["changes-before"], "changes-before")
        if f.changes_since and f.changes_before < f.changes_since:
            raise errors.BadRequest(
                "The value of changes-since must be less than or equal to changes-before."
            )
    for key, attr in (
        ("tags", "tags"),
        ("tags-any", "tags_any"),
        ("not-tags", "not_tags"),
        ("not-tags-any", "not_tags_any"),
    ):
        values = [t for v in q.getlist(key) for t in v.split(",") if t]
        setattr(f, attr, values)
    return f


def _paging(request: Request) -> tuple[list[tuple[str, str]], int, str | None]:
    q = request.query_params
    keys = q.getlist("sort_key")
    dirs = q.getlist("sort_dir")
    sort: list[tuple[str, str]] = []
    for index, key in enumerate(keys):
        if key not in SORT_KEYS:
            raise errors.BadRequest(f"Invalid sort_key {key!r}.")
        direction = dirs[index] if index < len(dirs) else (dirs[-1] if dirs else "desc")
        if direction not in ("asc", "desc"):
            raise errors.BadRequest(f"Invalid sort_dir {direction!r}.")
        sort.append((key, direction))
    limit = min(checks.query_int(q["limit"], "limit"), MAX_LIMIT) if "limit" in q else MAX_LIMIT
    return sort, limit, q.get("marker")


async def _list(request: Request, detail: bool) -> Response:
    f = _filters(request)
    sort, limit, marker = _paging(request)
    if f.status and any(s.upper() not in states.STATUS_TO_VM_STATES for s in f.status):
        found: list[Any] = []
    else:
        ctx = authorize(request, "servers:detail" if detail else "servers:index")
        found = await service(request).servers.listing(ctx, f, sort, limit, marker, detail=detail)
    if detail:
        render = views.Details(request)
        items = [render(s) for s in found]
    else:
        items = [views.summary(request, s) for s in found]
    body: dict[str, Any] = {"servers": items}
    if found and len(found) == limit:
        kept = [(k, v) for k, v in request.query_params.multi_items() if k != "marker"]
        path = "servers/detail" if detail else "servers"
        query = urlencode([*kept, ("marker", found[-1].row.uuid)])
        body["servers_links"] = [{"rel": "next", "href": f"{href(request, path)}?{query}"}]
    return json_response(body)


async def list_servers(request: Request) -> Response:
    return await _list(request, detail=False)


async def list_detail(request: Request) -> Response:
    return await _list(request, detail=True)


async def show(request: Request) -> Response:
    ctx = authorize(request, "servers:show")
    srv = await service(request).servers.get(ctx, param(request, "server_id"))
    return json_response({"server": views.detail(request, srv, show=True)})


async def _owned(request: Request, rule: str) -> tuple[RequestContext, str, models.Instance]:
    """The caller, the server's id and the server, once ``rule`` allows the caller to act on
    it (a server the caller cannot see is a 404 first)."""
    ctx = authorize(request, "servers:show")
    uuid = param(request, "server_id")
    current = await service(request).servers.visible_row(ctx, uuid)
    authorize(request, rule, {"project_id": current.project_id, "user_id": current.user_id})
    return ctx, uuid, current


async def update(request: Request) -> Response:
    ctx, uuid, current = await _owned(request, "servers:update")
    svc = service(request)
    req = await valid_body(request, ServerUpdate)
    sent = req.model_fields_set
    changes: dict[str, Any] = {col: getattr(req, n) for n, col in UPDATED.items() if n in sent}
    if req.disk_config is not None:
        changes["request"] = {**(current.request or {}), "disk_config": req.disk_config}
    srv = await svc.servers.update(ctx, uuid, changes)
    return json_response({"server": views.changed(request, srv)})


async def delete(request: Request) -> Response:
    ctx, uuid, _ = await _owned(request, "servers:delete")
    await service(request).actions.delete(ctx, uuid)
    return empty(204)


routes = [
    Route("/servers", list_servers, methods=["GET"]),
    Route("/servers", create, methods=["POST"]),
    # Nova's old boot-from-volume path: the same create.
    Route("/os-volumes_boot", create, methods=["POST"]),
    Route("/servers/detail", list_detail, methods=["GET"]),
    Route("/servers/{server_id}", show, methods=["GET"]),
    Route("/servers/{server_id}", update, methods=["PUT"]),
    Route("/servers/{server_id}", delete, methods=["DELETE"]),
]
