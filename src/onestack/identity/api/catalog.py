"""/v3/services, /v3/endpoints and /v3/regions."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.http import empty, json_response, read_json, validate
from onestack.identity import schemas
from onestack.identity.api.helpers import (
    authorize,
    filters,
    param,
    require_body_key,
    service,
    views,
)


async def list_services(request: Request) -> Response:
    authorize(request, "identity:list_services")
    items = [
        views(request).service(s)
        for s in await service(request).catalog.list_services(filters(request, "type", "name"))
    ]
    return json_response(views(request).collection("services", items, "services"))


async def create_service(request: Request) -> Response:
    authorize(request, "identity:create_service")
    body = validate(schemas.ServiceCreate, require_body_key(await read_json(request), "service"))
    svc = await service(request).catalog.create_service(body.changes())
    return json_response({"service": views(request).service(svc)}, 201)


async def get_service(request: Request) -> Response:
    authorize(request, "identity:get_service")
    svc = await service(request).catalog.get_service(param(request, "service_id"))
    return json_response({"service": views(request).service(svc)})


async def update_service(request: Request) -> Response:
    authorize(request, "identity:update_service")
    body = validate(schemas.ServiceUpdate, require_body_key(await read_json(request), "service"))
    svc = await service(request).catalog.update_service(
        param(request, "service_id"), body.changes()
    )
    return json_response({"service": views(request).service(svc)})


async def delete_service(request: Request) -> Response:
    authorize(request, "identity:delete_service")
    await service(request).catalog.delete_service(param(request, "service_id"))
    return empty()


async def list_endpoints(request: Request) -> Response:
    authorize(request, "identity:list_endpoints")
    eps = await service(request).catalog.list_endpoints(
        filters(request, "service_id", "interface", "region_id")
    )
    return json_response(
        views(request).collection(
            "endpoints", [views(request).endpoint(e) for e in eps], "endpoints"
        )
    )


async def create_endpoint(request: Request) -> Response:
    authorize(request, "identity:create_endpoint")
    body = validate(schemas.EndpointCreate, require_body_key(await read_json(request), "endpoint"))
    ep = await service(request).catalog.create_endpoint(body.changes())
    return json_response({"endpoint": views(request).endpoint(ep)}, 201)


async def get_endpoint(request: Request) -> Response:
    authorize(request, "identity:get_endpoint")
    ep = await service(request).catalog.get_endpoint(param(request, "endpoint_id"))
    return json_response({"endpoint": views(request).endpoint(ep)})


async def update_endpoint(request: Request) -> Response:
    authorize(request, "identity:update_endpoint")
    body = validate(schemas.EndpointUpdate, require_body_key(await read_json(request), "endpoint"))
    ep = await service(request).catalog.update_endpoint(
        param(request, "endpoint_id"), body.changes()
    )
    return json_response({"endpoint": views(request).endpoint(ep)})


async def delete_endpoint(request: Request) -> Response:
    authorize(request, "identity:delete_endpoint")
    await service(request).catalog.delete_endpoint(param(request, "endpoint_id"))
    return empty()


async def list_regions(request: Request) -> Response:
    authorize(request, "identity:list_regions")
    regions = await service(request).catalog.list_regions(filters(request, "parent_region_id"))
    return json_response(
        views(request).collection("regions", [views(request).region(r) for r in regions], "regions")
    )


async def create_region(request: Request) -> Response:
    authorize(request, "identity:create_region")
    body = validate(schemas.RegionCreate, require_body_key(await read_json(request), "region"))
    values = body.changes()
    region_id = request.path_params.get("region_id") or body.id
    values.pop("id", None)
    region = await service(request).catalog.create_region(values, region_id)
    return json_response({"region": views(request).region(region)}, 201)


async def get_region(request: Request) -> Response:
    authorize(request, "identity:get_region")
    region = await service(request).catalog.get_region(param(request, "region_id"))
    return json_response({"region": views(request).region(region)})


async def update_region(request: Request) -> Response:
    authorize(request, "identity:update_region")
    body = validate(schemas.RegionUpdate, require_body_key(await read_json(request), "region"))
    region = await service(request).catalog.update_region(
        param(request, "region_id"), body.changes()
    )
    return json_response({"region": views(request).region(region)})


async def delete_region(request: Request) -> Response:
    authorize(request, "identity:delete_region")
    await service(request).catalog.delete_region(param(request, "region_id"))
    return empty()


routes = [
    Route("/v3/services", list_services, methods=["GET"]),
    Route("/v3/services", create_service, methods=["POST"]),
    Route("/v3/services/{service_id}", get_service, methods=["GET"]),
    Route("/v3/services/{service_id}", update_service, methods=["PATCH"]),
    Route("/v3/services/{service_id}", delete_service, methods=["DELETE"]),
    Route("/v3/endpoints", list_endpoints, methods=["GET"]),
    Route("/v3/endpoints", create_endpoint, methods=["POST"]),
    Route("/v3/endpoints/{endpoint_id}", get_endpoint, methods=["GET"]),
    Route("/v3/endpoints/{endpoint_id}", update_endpoint, methods=["PATCH"]),
    Route("/v3/endpoints/{endpoint_id}", delete_endpoint, methods=["DELETE"]),
    Route("/v3/regions", list_regions, methods=["GET"]),
    Route("/v3/regions", create_region, methods=["POST"]),
    Route("/v3/regions/{region_id}", get_region, methods=["GET"]),
    Route("/v3/regions/{region_id}", create_region, methods=["PUT"]),
    Route("/v3/regions/{region_id}", update_region, methods=["PATCH"]),
    Route("/v3/regions/{region_id}", delete_region, methods=["DELETE"]),
]
