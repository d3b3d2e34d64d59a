"""Nova's network proxies (``os-networks``, ``os-tenant-networks``, below 2.36): the networks
the caller sees in the network service, as Nova shows them with Neutron behind it (the
nova-network fields stay null); creating or deleting through them is gone (410), as in Nova."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common import errors
from onestack.common.http import json_response
from onestack.compute.api.helpers import at_least, authorize, param, service
from onestack.network.facade import Caller, NetworkAPI

FIELDS = ("cidr", "netmask", "gateway", "broadcast", "dns1", "dns2", "cidr_v6", "gateway_v6",
          "netmask_v6")  # fmt: skip
ADMIN_FIELDS = ("created_at", "updated_at", "deleted_at", "deleted", "injected", "bridge",
                "vlan", "vpn_public_address", "vpn_public_port", "vpn_private_address",
                "dhcp_start", "project_id", "host", "bridge_interface", "multi_host", "priority",
                "rxtx_base", "mtu", "dhcp_server", "enable_dhcp", "share_address")  # fmt: skip


class Gone(errors.OneStackError):
    code = 410
    title = "Gone"
    template = "This API was removed with nova-network."


def _net(request: Request, rule: str) -> tuple[Caller, NetworkAPI]:
    if at_least(request, 36):
        raise errors.NotFound("The resource could not be found.")
    ctx = authorize(request, rule)
    return Caller.of(ctx), service(request).context.network


def _network(n: dict[str, Any], admin: bool) -> dict[str, Any]:
    out: dict[str, Any] = dict.fromkeys(FIELDS + (ADMIN_FIELDS if admin else ()))
    out.update({"id": n["id"], "label": n["name"]})
    if admin:
        out["project_id"] = n.get("project_id")
        out["mtu"] = n.get("mtu")
    return out


async def _cidrs(net: NetworkAPI, caller: Caller, ids: list[str]) -> dict[str, str]:
    subnets = await net.find("subnets", caller, network_id=ids) if ids else []
    found: dict[str, str] = {}
    for s in sorted(subnets, key=lambda s: s["ip_version"]):
        found.setdefault(s["network_id"], s["cidr"])
    return found


async def list_networks(request: Request) -> Response:
    caller, net = _net(request, "os-networks:list")
    rows = await net.find("networks", caller)
    return json_response({"networks": [_network(n, caller.is_admin) for n in rows]})


async def show_network(request: Request) -> Response:
    caller, net = _net(request, "os-networks:view")
    row = await net.show("networks", caller, param(request, "network_id"))
    return json_response({"network": _network(row, caller.is_admin)})


def _tenant(n: dict[str, Any], cidrs: dict[str, str]) -> dict[str, Any]:
    return {"id": n["id"], "cidr": cidrs.get(n["id"]), "label": n["name"]}


async def list_tenant_networks(request: Request) -> Response:
    caller, net = _net(request, "os-tenant-networks:list")
    rows = await net.find("networks", caller)
    cidrs = await _cidrs(net, caller, [n["id"] for n in rows])
    return json_response({"networks": [_tenant(n, cidrs) for n in rows]})


async def show_tenant_network(request: Request) -> Response:
    caller, net = _net(request, "os-tenant-networks:show")
    row = await net.show("networks", caller, param(request, "network_id"))
    return json_response({"network": _tenant(row, await _cidrs(net, caller, [row["id"]]))})


async def gone(_request: Request) -> Response:
    raise Gone()


routes = [
    Route("/os-networks", list_networks, methods=["GET"]),
    Route("/os-networks", gone, methods=["POST"]),
    Route("/os-networks/{network_id}", show_network, methods=["GET"]),
    Route("/os-networks/{network_id}", gone, methods=["DELETE"]),
    Route("/os-networks/{network_id}/action", gone, methods=["POST"]),
    Route("/os-tenant-networks", list_tenant_networks, methods=["GET"]),
    Route("/os-tenant-networks", gone, methods=["POST"]),
    Route("/os-tenant-networks/{network_id}", show_tenant_network, methods=["GET"]),
    Route("/os-tenant-networks/{network_id}", gone, methods=["DELETE"]),
]
