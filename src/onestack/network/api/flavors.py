"""A flavor's service profiles: ``POST /v2.0/flavors/{id}/service_profiles`` associates one,
``DELETE .../service_profiles/{profile_id}`` disassociates it (Neutron's flavors extension)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common import api
from onestack.common.http import empty, json_response
from onestack.network.api import bodies
from onestack.network.api.framework import enforce, service


async def associate(request: Request) -> Response:
    enforce(request, "create_flavor_service_profile", {})
    profile = await api.body(request, bodies.FlavorProfile)
    svc = service(request)
    await svc.run(svc.flavors.associate, request.path_params["id"], profile.id)
    return json_response({"service_profile": {"id": profile.id}}, status=201)


async def disassociate(request: Request) -> Response:
    enforce(request, "delete_flavor_service_profile", {})
    svc = service(request)
    await svc.flavors.disassociate(request.path_params["id"], request.path_params["profile_id"])
    return empty(204)


routes = [
    Route("/v2.0/flavors/{id}/service_profiles", associate, methods=["POST"]),
    Route("/v2.0/flavors/{id}/service_profiles/{profile_id}", disassociate, methods=["DELETE"]),
]
