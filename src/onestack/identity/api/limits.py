"""Unified limits: /v3/registered_limits, /v3/limits and /v3/limits/model."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common import errors
from onestack.common.http import empty, json_response, read_json, validate
from onestack.identity import models, schemas
from onestack.identity.api.helpers import (
    authorize,
    filters,
    param,
    require_body_key,
    service,
    valid_body,
    views,
)
from onestack.identity.api.views import Views
from onestack.identity.service.limits import LIMIT_FILTERS, MODEL, REGISTERED_FILTERS


def render_registered(v: Views, r: models.RegisteredLimit) -> dict[str, Any]:
    return {
        "id": r.id,
        "service_id": r.service_id,
        "region_id": r.region_id,
        "resource_name": r.resource_name,
        "default_limit": r.default_limit,
        "description": r.description,
        "links": v.link(f"registered_limits/{r.id}"),
    }


def render_limit(v: Views, lim: models.Limit) -> dict[str, Any]:
    return {
        "id": lim.id,
        "project_id": lim.project_id,
        "domain_id": lim.domain_id,
        "service_id": lim.service_id,
        "region_id": lim.region_id,
        "resource_name": lim.resource_name,
        "resource_limit": lim.resource_limit,
        "description": lim.description,
        "links": v.link(f"limits/{lim.id}"),
    }


def _items(data: Any, key: str, model: type[BaseModel]) -> list[dict[str, Any]]:
    raw = require_body_key(data, key)
    if not isinstance(raw, list) or not raw:
        raise errors.ValidationError(field=key, reason="must be a non-empty list")
    return [validate(model, item).model_dump(exclude_unset=True) for item in raw]


# --- registered limits ---------------------------------------------------------------------
async def list_registered(request: Request) -> Response:
    authorize(request, "identity:list_registered_limits")
    rows = await service(request).limits.list_registered(filters(request, *REGISTERED_FILTERS))
    v = views(request)
    items = [render_registered(v, r) for r in rows]
    return json_response(v.collection("registered_limits", items, "registered_limits"))


async def create_registered(request: Request) -> Response:
    authorize(request, "identity:create_registered_limits")
    items = _items(await read_json(request), "registered_limits", schemas.RegisteredLimitCreate)
    rows = await service(request).limits.create_registered(items)
    v = views(request)
    return json_response({"registered_limits": [render_registered(v, r) for r in rows]}, 201)


async def show_registered(request: Request) -> Response:
    authorize(request, "identity:get_registered_limit")
    row = await service(request).limits.get_registered(param(request, "registered_limit_id"))
    return json_response({"registered_limit": render_registered(views(request), row)})


async def update_registered(request: Request) -> Response:
    authorize(request, "identity:update_registered_limit")
    body = await valid_body(request, schemas.RegisteredLimitUpdate, "registered_limit")
    changes = body.model_dump(exclude_unset=True)
    limits = service(request).limits
    row = await limits.update_registered(param(request, "registered_limit_id"), changes)
    return json_response({"registered_limit": render_registered(views(request), row)})


async def delete_registered(request: Request) -> Response:
    authorize(request, "identity:delete_registered_limit")
    await service(request).limits.delete_registered(param(request, "registered_limit_id"))
    return empty()


# --- limits --------------------------------------------------------------------------------
async def limit_model(request: Request) -> Response:
    authorize(request, "identity:get_limit_model")
    return json_response({"model": dict(MODEL)})


async def list_limits(request: Request) -> Response:
    ctx = authorize(request, "identity:list_limits")
    wanted = filters(request, *LIMIT_FILTERS)
    svc = service(request)
    superuser = ctx.system_scope or "admin" in ctx.roles or "service" in ctx.roles
    if not superuser:  # as Keystone: a caller sees its own project's (or domain's) limits
        if ctx.domain_id:
            projects = await svc.resources.list_projects({"domain_id": ctx.domain_id})
            wanted["project_ids"] = [p.id for p, _ in projects]
            wanted["own_domain"] = ctx.domain_id
        else:
            wanted["project_id"] = ctx.project_id or ""
    rows = await svc.limits.list_limits(wanted)
    v = views(request)
    return json_response(v.collection("limits", [render_limit(v, r) for r in rows], "limits"))


async def create_limits(request: Request) -> Response:
    authorize(request, "identity:create_limits")
    items = _items(await read_json(request), "limits", schemas.LimitCreate)
    rows = await service(request).limits.create_limits(items)
    v = views(request)
    return json_response({"limits": [render_limit(v, r) for r in rows]}, 201)


async def show_limit(request: Request) -> Response:
    svc = service(request)
    row = await svc.limits.get_limit(param(request, "limit_id"))
    target: dict[str, Any] = {"project_id": row.project_id, "domain": {"id": row.domain_id}}
    if row.project_id:
        project, _ = await svc.resources.get_project(row.project_id)
        target["project"] = {"domain_id": project.domain_id}
    authorize(request, "identity:get_limit", {"target": {"limit": target}})
    return json_response({"limit": render_limit(views(request), row)})


async def update_limit(request: Request) -> Response:
    authorize(request, "identity:update_limit")
    body = await valid_body(request, schemas.LimitUpdate, "limit")
    changes = body.model_dump(exclude_unset=True)
    row = await service(request).limits.update_limit(param(request, "limit_id"), changes)
    return json_response({"limit": render_limit(views(request), row)})


async def delete_limit(request: Request) -> Response:
    authorize(request, "identity:delete_limit")
    await service(request).limits.delete_limit(param(request, "limit_id"))
    return empty()


REGISTERED = "/v3/registered_limits/{registered_limit_id}"
routes = [
    Route("/v3/registered_limits", list_registered, methods=["GET"]),
    Route("/v3/registered_limits", create_registered, methods=["POST"]),
    Route(REGISTERED, show_registered, methods=["GET"]),
    Route(REGISTERED, update_registered, methods=["PATCH"]),
    Route(REGISTERED, delete_registered, methods=["DELETE"]),
    Route("/v3/limits/model", limit_model, methods=["GET"]),
    Route("/v3/limits", list_limits, methods=["GET"]),
    Route("/v3/limits", create_limits, methods=["POST"]),
    Route("/v3/limits/{limit_id}", show_limit, methods=["GET"]),
    Route("/v3/limits/{limit_id}", update_limit, methods=["PATCH"]),
    Route("/v3/limits/{limit_id}", delete_limit, methods=["DELETE"]),
]
