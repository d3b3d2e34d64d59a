"""``os-interface``: a server's ports, and hot-plugging ports in and out."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common import errors
from onestack.common.http import empty, json_response
from onestack.compute import schemas
from onestack.compute.api.helpers import at_least, param, service, valid_body, versioned
from onestack.compute.api.server_lookup import server_row


def view(request: Request, port: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "port_state": port.get("status", ""),
        "fixed_ips": [
            {"subnet_id": ip["subnet_id"], "ip_address": ip["ip_address"]}
            for ip in port.get("fixed_ips") or []
        ],
        "port_id": port["id"],
        "net_id": port["network_id"],
        "mac_addr": port["mac_address"],
    }
    if at_least(request, 70):
        out["tag"] = port.get("tag")
    return out


async def index(request: Request) -> Response:
    ctx, row = await server_row(request, "os-attach-interfaces:list")
    _row, ports = await service(request).interfaces.listing(ctx, row.uuid)
    return json_response({"interfaceAttachments": [view(request, p) for p in ports]})


async def show(request: Request) -> Response:
    ctx, row = await server_row(request, "os-attach-interfaces:show")
    port_id = param(request, "port_id")
    _row, ports = await service(request).interfaces.listing(ctx, row.uuid)
    port = next((p for p in ports if p["id"] == port_id), None)
    if port is None:
        raise errors.NotFound(f"Instance {row.uuid} does not have a port {port_id}")
    return json_response({"interfaceAttachment": view(request, port)})


async def create(request: Request) -> Response:
    ctx, row = await server_row(request, "os-attach-interfaces:create")
    model = versioned(
        request,
        (49, schemas.InterfaceAttachmentCreateV249),
        (0, schemas.InterfaceAttachmentCreate),
    )
    body = await valid_body(request, model)
    port = await service(request).interfaces.attach(
        ctx,
        row.uuid,
        port_id=body.port_id,
        network_id=body.net_id,
        fixed_ip=body.fixed_ip,
        tag=body.tag,
    )
    return json_response({"interfaceAttachment": view(request, port)})


async def delete(request: Request) -> Response:
    ctx, row = await server_row(request, "os-attach-interfaces:delete")
    await service(request).interfaces.detach(ctx, row.uuid, param(request, "port_id"))
    return empty(202)


routes = [
    Route("/servers/{server_id}/os-interface", index, methods=["GET"]),
    Route("/servers/{server_id}/os-interface", create, methods=["POST"]),
    Route("/servers/{server_id}/os-interface/{port_id}", show, methods=["GET"]),
    Route("/servers/{server_id}/os-interface/{port_id}", delete, methods=["DELETE"]),
]
