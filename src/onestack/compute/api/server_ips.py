"""``/servers/{id}/ips``: a server's addresses, all or one network's (by its name)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common import errors
from onestack.common.http import json_response
from onestack.compute.api.helpers import param, service
from onestack.compute.api.server_lookup import server_row
from onestack.compute.service.networking import addresses


async def _addresses(request: Request, rule: str) -> dict[str, list[dict[str, Any]]]:
    ctx, row = await server_row(request, rule)
    srv = await service(request).servers.get(ctx, row.uuid)
    # Nova's ips view: version and address only, no OS-EXT-IPS extensions.
    return {
        net: [{"version": a["version"], "addr": a["addr"]} for a in items]
        for net, items in addresses(srv.ports).items()
    }


async def index(request: Request) -> Response:
    return json_response({"addresses": await _addresses(request, "ips:index")})


async def show(request: Request) -> Response:
    found = await _addresses(request, "ips:show")
    network = param(request, "network")
    if network not in found:
        raise errors.NotFound("Network could not be found for the instance.")
    return json_response({network: found[network]})


routes = [
    Route("/servers/{server_id}/ips", index, methods=["GET"]),
    Route("/servers/{server_id}/ips/{network}", show, methods=["GET"]),
]
