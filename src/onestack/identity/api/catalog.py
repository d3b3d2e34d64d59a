"""/v3/services, /v3/endpoints and /v3/regions."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.http import json_response
from onestack.identity import schemas
from onestack.identity.api.crud import Ops, keystone_collection
from onestack.identity.api.helpers import authorize, service, valid_body, views
from onestack.identity.api.views import Views
from onestack.identity.service import IdentityService


def _services(s: IdentityService) -> Ops:
    c = s.catalog
    return Ops(c.list_services, c.create_service, c.get_service, c.update_service, c.delete_service)


def _endpoints(s: IdentityService) -> Ops:
    c = s.catalog
    return Ops(
        c.list_endpoints, c.create_endpoint, c.get_endpoint, c.update_endpoint, c.delete_endpoint
    )


def _regions(s: IdentityService) -> Ops:
    c = s.catalog
    return Ops(c.list_regions, c.create_region, c.get_region, c.update_region, c.delete_region)


SERVICES = keystone_collection(
    "service", "services", schemas.ServiceCreate, schemas.ServiceUpdate, _services,
    Views.service, ("type", "name"),
)  # fmt: skip
ENDPOINTS = keystone_collection(
    "endpoint", "endpoints", schemas.EndpointCreate, schemas.EndpointUpdate, _endpoints,
    Views.endpoint, ("service_id", "interface", "region_id"),
)  # fmt: skip
REGIONS = keystone_collection(
    "region", "regions", schemas.RegionCreate, schemas.RegionUpdate, _regions,
    Views.region, ("parent_region_id",),
)  # fmt: skip


async def create_region(request: Request) -> Response:
    """POST /v3/regions (id optional in the body) and PUT /v3/regions/{region_id}."""
    authorize(request, "identity:create_region")
    body = await valid_body(request, schemas.RegionCreate, "region")
    values = body.changes()
    region_id = request.path_params.get("region_id") or body.id
    values.pop("id", None)
    region = await service(request).catalog.create_region(values, region_id)
    return json_response({"region": views(request).region(region)}, 201)


routes = [
    *SERVICES.routes(),
    *ENDPOINTS.routes(),
    *REGIONS.routes(create=create_region),
    Route("/v3/regions/{region_id}", create_region, methods=["PUT"]),
]
