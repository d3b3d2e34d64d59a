"""Resource types, resources (CRUD, history, named metrics) and resource search."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.api import authorize, param
from onestack.common.auth import get_context
from onestack.common.http import empty, json_response
from onestack.metering import errors, schemas
from onestack.metering.api.helpers import (
    flag,
    link_next,
    page,
    resource_target,
    service,
    valid_body,
)
from onestack.metering.views import resource_type_view

# --- resource types ---------------------------------------------------------------------


async def list_types(request: Request) -> Response:
    authorize(request, "list resource type")
    rows = await service(request).types.listing()
    return json_response([resource_type_view(r) for r in rows])


async def create_type(request: Request) -> Response:
    authorize(request, "create resource type")
    row = await service(request).types.create(await valid_body(request, schemas.ResourceTypeCreate))
    return json_response(resource_type_view(row), 201)


async def show_type(request: Request) -> Response:
    authorize(request, "get resource type")
    return json_response(
        resource_type_view(await service(request).types.get(param(request, "type")))
    )


async def patch_type(request: Request) -> Response:
    authorize(request, "update resource type")
    patch = await valid_body(request, schemas.ResourceTypePatch)
    row = await service(request).types.patch(param(request, "type"), patch)
    return json_response(resource_type_view(row))


async def delete_type(request: Request) -> Response:
    authorize(request, "delete resource type")
    await service(request).types.delete(param(request, "type"))
    return empty()


# --- resources ----------------------------------------------------------------------------


async def list_resources(request: Request) -> Response:
    authorize(request, "list resource")
    return await _search(request, None)


async def search_resources(request: Request) -> Response:
    authorize(request, "search resource")
    search = await valid_body(request, schemas.Search, optional=True)
    return await _search(request, search.filter or request.query_params.get("filter"))


async def _search(request: Request, query: Any) -> Response:
    limit, marker, sort = page(request)
    found = await service(request).resources.search(
        get_context(request),
        param(request, "type"),
        query,
        details=flag(request, "details"),
        sort=sort,
        limit=limit,
        marker=marker,
        history=flag(request, "history"),
    )
    return json_response(found, headers=link_next(request, found, limit))


async def create_resource(request: Request) -> Response:
    svc = service(request)
    rtype = await svc.types.get(param(request, "type"))  # 404 before the body, as Gnocchi
    spec = await valid_body(
        request, schemas.ResourceCreate, context={"attributes": rtype.attributes}
    )
    ctx = get_context(request)
    target = {
        "project_id": spec.project_id,
        "user_id": spec.user_id,
        "created_by_project_id": ctx.project_id,
        "created_by_user_id": ctx.user_id,
    }
    authorize(request, "create resource", target)
    view = await svc.resources.create(ctx, rtype.name, spec)
    url = f"{request.url.path}/{view['id']}"
    return json_response(view, 201, headers={"Location": url})


async def _row(request: Request, rule: str) -> Any:
    ctx = get_context(request)
    row = await service(request).resources.row(ctx, param(request, "id"), param(request, "type"))
    authorize(request, rule, resource_target(row))
    return ctx, row


async def show_resource(request: Request) -> Response:
    ctx, row = await _row(request, "get resource")
    return json_response(await service(request).resources.show(ctx, row.id, row.type))


async def resource_history(request: Request) -> Response:
    ctx, row = await _row(request, "get resource")
    limit, _, sort = page(request)
    history = await service(request).resources.history(ctx, row.id, param(request, "type"), sort)
    return json_response(history[:limit] if limit else history)


async def update_resource(request: Request) -> Response:
    ctx, row = await _row(request, "update resource")
    svc = service(request)
    rtype = await svc.types.get(row.type)  # a generic path's resource has its own type
    change = await valid_body(
        request, schemas.ResourceUpdate, context={"attributes": rtype.attributes}
    )
    view = await svc.resources.update(ctx, row.id, param(request, "type"), change)
    return json_response(view)


async def delete_resource(request: Request) -> Response:
    ctx, row = await _row(request, "delete resource")
    await service(request).resources.delete(ctx, row.id, param(request, "type"))
    return empty()


async def delete_resources(request: Request) -> Response:
    """Batch delete by filter (body or ``?filter=``): ``{"deleted": N}``."""
    authorize(request, "delete resources")
    search = await valid_body(request, schemas.Search, optional=True)
    query = search.filter or request.query_params.get("filter")
    if not query:
        raise errors.InvalidInput(reason="a filter is required to delete resources")
    count = await service(request).resources.delete_matching(
        get_context(request), param(request, "type"), query
    )
    return json_response({"deleted": count})


async def add_named_metrics(request: Request) -> Response:
    ctx, row = await _row(request, "update resource")
    named = await valid_body(request, schemas.NamedMetrics)
    metrics = await service(request).metrics.create_named(ctx, row.id, named.metrics)
    return json_response(metrics)


async def list_named_metrics(request: Request) -> Response:
    ctx, row = await _row(request, "get resource")
    svc = service(request)
    names = (await svc.metrics.names_of([row.id])).get(row.id, {})
    return json_response([await svc.metrics.show(ctx, mid) for mid in names.values()])


RT = "/v1/resource_type"
R = "/v1/resource/{type}"
routes = [
    Route(RT, list_types, methods=["GET"]),
    Route(RT, create_type, methods=["POST"]),
    Route(RT + "/{type}", show_type, methods=["GET"]),
    Route(RT + "/{type}", patch_type, methods=["PATCH"]),
    Route(RT + "/{type}", delete_type, methods=["DELETE"]),
    Route(R, list_resources, methods=["GET"]),
    Route(R, create_resource, methods=["POST"]),
    Route(R, delete_resources, methods=["DELETE"]),
    Route(R + "/{id}", show_resource, methods=["GET"]),
    Route(R + "/{id}", update_resource, methods=["PATCH"]),
    Route(R + "/{id}", delete_resource, methods=["DELETE"]),
    Route(R + "/{id}/history", resource_history, methods=["GET"]),
    Route(R + "/{id}/metric", list_named_metrics, methods=["GET"]),
    Route(R + "/{id}/metric", add_named_metrics, methods=["POST"]),
    Route("/v1/search/resource/{type}", search_resources, methods=["POST"]),
]
