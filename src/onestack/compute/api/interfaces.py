"""``os-interface``: a server's ports, and hot-plugging ports in and out."""

from __future__ import annotations

import ipaddress
import uuid as uuidlib
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common import errors
from onestack.common.http import empty, json_response
from onestack.compute.api.checks import invalid
from onestack.compute.api.helpers import at_least, body_of, param, service
from onestack.compute.api.server_lookup import server_row

CREATE_KEYS = {"port_id", "net_id", "fixed_ips", "tag"}


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


def _uuid(value: Any, field: str) -> str:
    try:
        return str(uuidlib.UUID(str(value)))
    except ValueError:
        raise invalid(field, f"{value!r} is not a 'uuid'") from None


async def create(request: Request) -> Response:
    ctx, row = await server_row(request, "os-attach-interfaces:create")
    body = await body_of(request, "interfaceAttachment")
    if not isinstance(body, dict):
        raise invalid("interfaceAttachment", f"{body!r} is not of type 'object'")
    allowed = CREATE_KEYS if at_least(request, 49) else CREATE_KEYS - {"tag"}
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise invalid(
            "interfaceAttachment",
            f"Additional properties are not allowed ({unknown[0]!r} was unexpected)",
        )
    port_id = _uuid(body["port_id"], "port_id") if body.get("port_id") else None
    net_id = _uuid(body["net_id"], "net_id") if body.get("net_id") else None
    fixed_ip = None
    fixed_ips = body.get("fixed_ips")
    if fixed_ips is not None:
        if not isinstance(fixed_ips, list) or len(fixed_ips) > 1:
            raise invalid("fixed_ips", "must be an array of at most one {'ip_address': ...}")
        if fixed_ips:
            item = fixed_ips[0]
            if not isinstance(item, dict) or set(item) != {"ip_address"}:
                raise invalid("fixed_ips", f"{item!r} is not an {{'ip_address': ...}} object")
            try:
                fixed_ip = str(ipaddress.ip_address(item["ip_address"]))
            except ValueError:
                raise invalid(
                    "ip_address", f"{item['ip_address']!r} is not an IP address"
                ) from None
    tag = body.get("tag")
    if tag is not None and (not isinstance(tag, str) or not 1 <= len(tag) <= 60 or "/" in tag):
        raise invalid("tag", f"{tag!r} is not a valid tag")
    if port_id and net_id:
        raise errors.BadRequest("Must not input both network_id and port_id")
    if fixed_ip and not net_id:
        raise errors.BadRequest("Must input network_id when request IP address")
    port = await service(request).interfaces.attach(
        ctx, row.uuid, port_id=port_id, network_id=net_id, fixed_ip=fixed_ip, tag=tag
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
