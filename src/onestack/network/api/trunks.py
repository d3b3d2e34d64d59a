"""A trunk's sub-ports: ``PUT /v2.0/trunks/{id}/add_subports`` and ``remove_subports`` answer
the whole trunk (unwrapped, as Neutron), ``GET .../get_subports`` its ``sub_ports``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common import api
from onestack.common.http import json_response
from onestack.network.api import bodies
from onestack.network.api.framework import caller, enforce, service


async def _change(request: Request, add: bool) -> Response:
    body = await api.body(request, bodies.SubPorts)
    svc, who = service(request), caller(request)
    trunk = await svc.show("trunks", who, request.path_params["id"])
    enforce(request, "add_subports" if add else "remove_subports", trunk)
    await svc.run(svc.trunks.change_subports, who, trunk["id"], body.sub_ports, add)
    return json_response(await svc.show("trunks", who, trunk["id"]))


async def add_subports(request: Request) -> Response:
    return await _change(request, True)


async def remove_subports(request: Request) -> Response:
    return await _change(request, False)


async def get_subports(request: Request) -> Response:
    trunk = await service(request).show("trunks", caller(request), request.path_params["id"])
    enforce(request, "get_subports", trunk)
    return json_response({"sub_ports": trunk["sub_ports"]})


routes = [
    Route("/v2.0/trunks/{id}/add_subports", add_subports, methods=["PUT"]),
    Route("/v2.0/trunks/{id}/remove_subports", remove_subports, methods=["PUT"]),
    Route("/v2.0/trunks/{id}/get_subports", get_subports, methods=["GET"]),
]
