"""Nova's floating IP proxy (``os-floating-ips``, ``os-floating-ip-pools`` below 2.36, the
``addFloatingIp``/``removeFloatingIp`` actions below 2.44): the network service's floating
IPs, allocated and (dis)associated as the caller."""

from __future__ import annotations

import uuid as uuidlib
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common import api, errors
from onestack.common.context import RequestContext
from onestack.common.http import empty, json_response
from onestack.compute.api.helpers import at_least, authorize, param, service
from onestack.compute.api.server_actions import EXTRA_ACTIONS
from onestack.compute.server_schemas import FloatingIPCreate
from onestack.network.facade import ADMIN, Caller, NetworkAPI

RULE = "os-floating-ips"


def _net(request: Request, rule: str) -> tuple[Caller, NetworkAPI]:
    if at_least(request, 36):
        raise errors.NotFound("The resource could not be found.")
    ctx = authorize(request, rule)
    return Caller.of(ctx), service(request).context.network


async def _external(net: NetworkAPI, caller: Caller) -> list[dict[str, Any]]:
    return [n for n in await net.find("networks", caller) if n.get("router:external")]


async def _as_nova(net: NetworkAPI, fips: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Floating IPs as Nova shows them: the pool by its network's name, the server by its
    port's device."""
    nets = {n["id"]: n["name"] for n in await _external(net, ADMIN)}
    port_ids = [f["port_id"] for f in fips if f.get("port_id")]
    ports = {p["id"]: p for p in await net.find("ports", ADMIN, id=port_ids)} if port_ids else {}
    out = []
    for f in fips:
        port = ports.get(f.get("port_id") or "")
        out.append(
            {
                "id": f["id"],
                "ip": f["floating_ip_address"],
                "fixed_ip": f.get("fixed_ip_address"),
                "instance_id": port.get("device_id") if port else None,
                "pool": nets.get(f["floating_network_id"], f["floating_network_id"]),
            }
        )
    return out


async def _pool(net: NetworkAPI, caller: Caller, name: str | None) -> dict[str, Any]:
    """The external network a pool names (by name or id); without a name the only one."""
    external = await _external(net, caller)
    if name is None and len(external) >= 1:
        return external[0]
    for network in external:
        if name in (network["name"], network["id"]):
            return network
    raise errors.NotFound(f"Floating IP pool not found: {name}")


async def list_fips(request: Request) -> Response:
    caller, net = _net(request, f"{RULE}:list")
    fips = await net.find("floatingips", caller, project_id=[caller.project_id])
    return json_response({"floating_ips": await _as_nova(net, fips)})


async def show_fip(request: Request) -> Response:
    caller, net = _net(request, f"{RULE}:show")
    fip = await net.show("floatingips", caller, _fip_id(param(request, "fip_id")))
    return json_response({"floating_ip": (await _as_nova(net, [fip]))[0]})


def _fip_id(value: str) -> str:
    try:
        return str(uuidlib.UUID(value))
    except ValueError:
        raise errors.NotFound(f"Floating IP {value} could not be found.") from None


async def create_fip(request: Request) -> Response:
    caller, net = _net(request, f"{RULE}:create")
    pool = (await api.body(request, FloatingIPCreate, optional=True)).pool
    network = await _pool(net, caller, pool)
    try:
        fip = await net.create("floatingips", caller, {"floating_network_id": network["id"]})
    except errors.Conflict as exc:
        raise errors.NotFound(f"No more floating IPs in pool {network['name']}: {exc}") from None
    return json_response({"floating_ip": (await _as_nova(net, [fip]))[0]})


async def delete_fip(request: Request) -> Response:
    caller, net = _net(request, f"{RULE}:delete")
    await net.delete("floatingips", caller, _fip_id(param(request, "fip_id")))
    return empty(202)


async def list_pools(request: Request) -> Response:
    caller, net = _net(request, "os-floating-ip-pools")
    external = await _external(net, caller)
    return json_response({"floating_ip_pools": [{"name": n["name"]} for n in external]})


# --- server actions --------------------------------------------------------------------------
async def _by_address(net: NetworkAPI, caller: Caller, body: Any) -> dict[str, Any]:
    address = body.get("address") if isinstance(body, dict) else None
    if not isinstance(address, str) or not address:
        raise errors.BadRequest("Invalid input for field/attribute address.")
    found = await net.find("floatingips", caller, floating_ip_address=[address])
    if not found:
        raise errors.NotFound(f"Floating IP not found for address {address}.")
    return found[0]


async def add_floating_ip(request: Request, ctx: RequestContext, uuid: str, body: Any) -> Response:
    if at_least(request, 44):
        raise errors.NotFound("The resource could not be found.")
    caller, net = Caller.of(ctx), service(request).context.network
    fip = await _by_address(net, caller, body)
    ports = (await service(request).networking.ports_of([uuid])).get(uuid, [])
    fixed = body.get("fixed_address") if isinstance(body, dict) else None
    chosen: tuple[str, str] | None = None
    for port in ports:
        for ip in port.get("fixed_ips") or []:
            if (fixed is None and ":" not in ip["ip_address"]) or ip["ip_address"] == fixed:
                chosen = chosen or (port["id"], ip["ip_address"])
    if not ports:
        raise errors.BadRequest("No fixed IPs associated to instance")
    if chosen is None:
        raise errors.BadRequest(f"Specified fixed address not assigned to instance: {fixed}")
    changes = {"port_id": chosen[0], "fixed_ip_address": chosen[1]}
    try:
        await net.update("floatingips", caller, fip["id"], changes)
    except errors.Conflict as exc:  # the port has a floating IP of that network already
        raise errors.BadRequest(str(exc)) from None
    return empty(202)


async def remove_floating_ip(
    request: Request, ctx: RequestContext, uuid: str, body: Any
) -> Response:
    if at_least(request, 44):
        raise errors.NotFound("The resource could not be found.")
    caller, net = Caller.of(ctx), service(request).context.network
    fip = await _by_address(net, caller, body)
    ports = (await service(request).networking.ports_of([uuid])).get(uuid, [])
    if fip.get("port_id") not in {p["id"] for p in ports}:
        raise errors.Conflict(
            f"Floating IP {fip['floating_ip_address']} is not associated with instance {uuid}."
        )
    await net.update("floatingips", caller, fip["id"], {"port_id": None})
    return empty(202)


EXTRA_ACTIONS.update(
    {
        "addFloatingIp": (add_floating_ip, f"{RULE}:add"),
        "removeFloatingIp": (remove_floating_ip, f"{RULE}:remove"),
    }
)

routes = [
    Route("/os-floating-ips", list_fips, methods=["GET"]),
    Route("/os-floating-ips", create_fip, methods=["POST"]),
    Route("/os-floating-ips/{fip_id}", show_fip, methods=["GET"]),
    Route("/os-floating-ips/{fip_id}", delete_fip, methods=["DELETE"]),
    Route("/os-floating-ip-pools", list_pools, methods=["GET"]),
]
