"""A server's ``networks`` as Nova's request takes them, and the ports Heat makes itself
(an entry naming only a subnet: Nova cannot be given a subnet, so a port is made on it and
deleted with the server); whether a changed ``networks`` still fits the ports a server has
(Heat matches the entries to the existing interfaces instead of replacing them)."""

from __future__ import annotations

import contextlib
import ipaddress
from typing import Any

from onestack.common import errors
from onestack.network.facade import NetworkAPI
from onestack.orchestration.errors import ResourceFailure
from onestack.orchestration.resources.base import Context
from onestack.orchestration.resources.neutron import api, find_id

# The server's data key of the ports made for it (deleted with it).
INTERNAL = "__internal_ports"


async def _subnet_network(c: Context, subnet_ref: str, fixed_ip: str) -> str:
    """The network of a subnet a server's entry names with a fixed_ip in it: the address
    puts the server's port on that subnet (Heat makes that port itself)."""
    net, caller = api(c)
    subnet = await net.show("subnets", caller, await find_id(c, "subnets", subnet_ref))
    try:
        inside = ipaddress.ip_address(fixed_ip) in ipaddress.ip_network(subnet["cidr"])
    except ValueError:
        inside = False
    if not inside:
        raise ResourceFailure(f"The fixed_ip {fixed_ip} is not in the subnet {subnet_ref}")
    return str(subnet["network_id"])


async def subnet_port(c: Context, subnet_ref: str, groups: list[str], name: str) -> str:
    """A port on ``subnet_ref`` (an address of that subnet, not of the network's first)
    with the server's security groups, as Heat's internal port."""
    net, caller = api(c)
    subnet = await net.show("subnets", caller, await find_id(c, "subnets", subnet_ref))
    body: dict[str, Any] = {
        "name": name,
        "network_id": subnet["network_id"],
        "fixed_ips": [{"subnet_id": subnet["id"]}],
    }
    if groups:
        body["security_groups"] = [await find_id(c, "security-groups", g) for g in groups]
    return str((await net.create_resource("ports", caller, body))["id"])


async def delete_ports(c: Context, port_ids: list[str]) -> None:
    net, caller = api(c)
    for port in port_ids:
        with contextlib.suppress(errors.NotFound):
            await net.delete_resource("ports", caller, port)


async def request_networks(
    c: Context, items: list[Any] | None, groups: list[str], made: list[str]
) -> str | list[dict[str, Any]] | None:
    """Nova's ``networks`` for the server's entries; the ports made on the way are appended
    to ``made`` (the caller deletes them if the server is not made)."""
    if not items:
        return None
    allocate = [i["allocate_network"] for i in items if i.get("allocate_network")]
    if allocate:
        # Heat's "auto"/"none" entry stands for the whole list (Nova's string networks).
        if len(items) > 1 or allocate[0] not in ("auto", "none"):
            raise ResourceFailure(
                "Property allocate_network can't be used with other network "
                "properties, and must be 'auto' or 'none'"
            )
        return str(allocate[0])
    out: list[dict[str, Any]] = []
    for item in items:
        if item.get("port"):
            out.append({"port": await find_id(c, "ports", str(item["port"]))})
            continue
        ref = item.get("network") or item.get("uuid")
        if not ref and item.get("subnet") and not item.get("fixed_ip"):
            name = f"{c.stack_name}-{c.resource_name}-port-{len(made)}"
            made.append(await subnet_port(c, str(item["subnet"]), groups, name))
            out.append({"port": made[-1]})
            continue
        if not ref and item.get("subnet") and item.get("fixed_ip"):
            ref = await _subnet_network(c, str(item["subnet"]), str(item["fixed_ip"]))
        if not ref:
            raise ResourceFailure("One of the properties network, port or subnet should be "
                                  "set for the specified network of server")  # fmt: skip
        entry = {"uuid": await find_id(c, "networks", str(ref))}
        if item.get("fixed_ip"):
            entry["fixed_ip"] = str(item["fixed_ip"])
        out.append(entry)
    return out


async def _wants(c: Context, item: dict[str, Any]) -> dict[str, str]:
    """What a port must have to stand for one ``networks`` entry."""
    want: dict[str, str] = {}
    if item.get("port"):
        want["id"] = await find_id(c, "ports", str(item["port"]))
    ref = item.get("network") or item.get("uuid")
    if ref:
        want["network_id"] = await find_id(c, "networks", str(ref))
    if item.get("subnet"):
        want["subnet_id"] = await find_id(c, "subnets", str(item["subnet"]))
    if item.get("fixed_ip"):
        want["ip_address"] = str(item["fixed_ip"])
    return want


def _fits(port: dict[str, Any], want: dict[str, str]) -> bool:
    ips = port.get("fixed_ips") or []
    return (
        want.get("id", port["id"]) == port["id"]
        and want.get("network_id", port["network_id"]) == port["network_id"]
        and ("subnet_id" not in want or any(i["subnet_id"] == want["subnet_id"] for i in ips))
        and ("ip_address" not in want or any(i["ip_address"] == want["ip_address"] for i in ips))
    )


async def ports_fit(c: Context, server_id: str, items: list[Any] | None) -> bool:
    """Whether the new ``networks`` entries are each one of the server's ports, every port
    claimed once (the change then needs no new interface: Heat keeps the server)."""
    if not items or any(i.get("allocate_network") for i in items):
        return False
    ports = (await c.runtime.service(NetworkAPI).device_addresses([server_id])).get(server_id, [])
    if len(ports) != len(items):
        return False
    try:
        wants = [await _wants(c, dict(item)) for item in items]
    except (errors.NotFound, ResourceFailure):
        return False
    # The most specific entries first: a loose one must not take the port a strict one needs.
    free = list(ports)
    for want in sorted(wants, key=len, reverse=True):
        match = next((p for p in free if _fits(p, want)), None)
        if match is None:
            return False
        free.remove(match)
    return True
