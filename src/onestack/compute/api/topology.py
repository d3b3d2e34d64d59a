"""``GET /servers/{id}/topology`` (2.78): the server's NUMA topology. OneStack's guests get no
NUMA topology of their own (no ``hw:numa_nodes`` placement), so the answer is Nova's for such
a server: no nodes and no page size."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common import api
from onestack.common.auth import get_context
from onestack.common.http import json_response
from onestack.compute.api.helpers import param, service
from onestack.compute.api.server_lookup import require_version


async def server_topology(request: Request) -> Response:
    require_version(request, 78)
    ctx = get_context(request)
    row = await service(request).servers.visible_row(ctx, param(request, "server_id"))
    target = {"project_id": row.project_id, "user_id": row.user_id}
    api.authorize(request, "compute:server:topology:index", target)
    return json_response({"nodes": [], "pagesize_kb": None})


routes = [Route("/servers/{server_id}/topology", server_topology, methods=["GET"])]
