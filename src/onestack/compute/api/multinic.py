"""Nova's ``os-multinic`` actions (``addFixedIp``/``removeFixedIp``, below 2.44): one more
fixed IP from a network on the server's port there, or one taken off, written to the port
through the network service as the caller (so its policy on ``fixed_ips`` holds), whose
agents then carry the address to DHCP and the port's anti-spoofing rules."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from onestack.common import errors
from onestack.common.context import RequestContext
from onestack.common.http import empty
from onestack.common.logging import get_logger
from onestack.compute import server_schemas as schemas
from onestack.compute.api.helpers import at_least, service, valid_member
from onestack.compute.api.server_actions import EXTRA_ACTIONS
from onestack.network.facade import Caller

log = get_logger(__name__)


def _kept(port: dict[str, Any], drop: str | None = None) -> list[dict[str, str]]:
    return [
        {"subnet_id": ip["subnet_id"], "ip_address": ip["ip_address"]}
        for ip in port.get("fixed_ips") or []
        if ip["ip_address"] != drop
    ]


async def add_fixed_ip(request: Request, ctx: RequestContext, uuid: str, body: Any) -> Response:
    if at_least(request, 44):
        raise errors.NotFound("The resource could not be found.")
    network_id = valid_member(request, schemas.AddFixedIp, body).network_id
    caller, net = Caller.of(ctx), service(request).context.network
    subnets = await net.find("subnets", caller, network_id=[network_id])
    ports = (await service(request).networking.ports_of([uuid])).get(uuid, [])
    # Nova's add_fixed_ip_to_instance: the first port and subnet that take one more address.
    for port in (p for p in ports if p["network_id"] == network_id):
        for subnet in subnets:
            fixed = [*_kept(port), {"subnet_id": subnet["id"]}]
            try:
                await net.update_port(caller, port["id"], {"fixed_ips": fixed})
            except errors.OneStackError as exc:
                log.debug("port %s takes no address of %s: %s", port["id"], subnet["id"], exc)
                continue
            return empty(202)
    raise errors.NotFound(f"Network could not be found for instance {uuid}.")


async def remove_fixed_ip(request: Request, ctx: RequestContext, uuid: str, body: Any) -> Response:
    if at_least(request, 44):
        raise errors.NotFound("The resource could not be found.")
    address = valid_member(request, schemas.RemoveFixedIp, body).address
    caller, net = Caller.of(ctx), service(request).context.network
    ports = (await service(request).networking.ports_of([uuid])).get(uuid, [])
    for port in ports:
        if any(ip["ip_address"] == address for ip in port.get("fixed_ips") or []):
            await net.update_port(caller, port["id"], {"fixed_ips": _kept(port, address)})
            return empty(202)
    raise errors.BadRequest(f"Instance {uuid} doesn't have fixed IP '{address}'.")


EXTRA_ACTIONS.update(
    {
        "addFixedIp": (add_fixed_ip, "os-multinic:add"),
        "removeFixedIp": (remove_fixed_ip, "os-multinic:remove"),
    }
)
