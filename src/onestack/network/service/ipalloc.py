"""Fixed IPs and MAC addresses for ports, inside the caller's transaction.

Races between API workers are settled by the database: ``(network_id, ip_address)`` and
``(network_id, mac_address)`` are unique, and the service retries the whole transaction when a
concurrent insert wins (``service.retrying``).
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from onestack.network import errors as nerr
from onestack.network import ipam, models
from onestack.network.service.base import pick_free


def random_mac() -> str:
    """Neutron's default base MAC: fa:16:3e plus three random octets."""
    tail = secrets.token_bytes(3)
    return "fa:16:3e:" + ":".join(f"{b:02x}" for b in tail)


def normalize_mac(value: str) -> str:
    parts = value.replace("-", ":").lower().split(":")
    if len(parts) != 6 or not all(len(p) == 2 for p in parts):
        raise nerr.InvalidInput(reason=f"'{value}' is not a valid MAC address")
    try:
        octets = [int(p, 16) for p in parts]
    except ValueError:
        raise nerr.InvalidInput(reason=f"'{value}' is not a valid MAC address") from None
    if octets[0] & 1 or value == "00:00:00:00:00:00":
        raise nerr.InvalidInput(reason=f"'{value}' is not a valid unicast MAC address")
    return ":".join(parts)


async def network_subnets(session: AsyncSession, network_id: str) -> list[models.Subnet]:
    rows = await session.scalars(
        select(models.Subnet)
        .where(models.Subnet.network_id == network_id)
        .order_by(models.Subnet.created_at)
    )
    return list(rows)


async def used_ips(session: AsyncSession, subnet_id: str) -> set[str]:
    return set(
        (
            await session.scalars(
                select(models.IPAllocation.ip_address).where(
                    models.IPAllocation.subnet_id == subnet_id
                )
            )
        ).all()
    )


def pools_of(subnet: models.Subnet) -> list[ipam.Pool]:
    return [
        ipam.Pool(ipaddress.ip_address(p["start"]), ipaddress.ip_address(p["end"]))
        for p in subnet.allocation_pools
    ]


def is_auto(subnet: models.Subnet) -> bool:
    return ipam.is_auto_address_subnet(
        subnet.ip_version, subnet.ipv6_address_mode, subnet.ipv6_ra_mode
    )


async def allocate_in_subnet(
    session: AsyncSession, subnet: models.Subnet, mac: str, taken_here: set[str]
) -> str:
    """The next address of ``subnet`` for a port with ``mac``: EUI-64 on SLAAC subnets."""
    if is_auto(subnet):
        return str(ipam.eui64(subnet.cidr, mac))
    used = (await used_ips(session, subnet.id)) | taken_here
    if subnet.gateway_ip:
        used.add(subnet.gateway_ip)
    ip = pick_free(ipam.candidates(pools_of(subnet), used))
    if ip is None:
        raise nerr.IpAddressGenerationFailure(net_id=subnet.network_id)
    return str(ip)


def _fixed_ip_entry(item: Any) -> tuple[Any, Any]:
    """A ``fixed_ips`` entry's (subnet_id, ip_address): 400 unless it is an object naming
    one of them or both, and nothing else."""
    if not isinstance(item, dict) or not set(item) <= {"subnet_id", "ip_address"}:
        raise nerr.InvalidInput(reason=f"Invalid fixed_ips entry {item!r}")
    if item.get("subnet_id") is None and item.get("ip_address") is None:
        raise nerr.InvalidInput(
            reason=f"Invalid fixed_ips entry {item!r}: it names neither a subnet_id nor "
            "an ip_address"
        )
    return item.get("subnet_id"), item.get("ip_address")


async def resolve_fixed_ips(
    session: AsyncSession,
    network_id: str,
    requested: Sequence[dict[str, Any]] | None,
    mac: str,
    device_owner: str = "",
    exclude_port: str | None = None,
) -> list[tuple[str, str]]:
    """(subnet_id, ip_address) pairs for a port: the requested ones validated, or one
    address from the first IPv4 subnet with room plus every IPv6 subnet (Neutron's default)."""
    subnets = await network_subnets(session, network_id)
    if requested is None:
        return await _default_fixed_ips(session, network_id, subnets, mac, device_owner)
    by_id = {s.id: s for s in subnets}
    out: list[tuple[str, str]] = []
    taken_here: set[str] = set()
    for item in requested:
        subnet_id, ip_text = _fixed_ip_entry(item)
        subnet = await _requested_subnet(session, network_id, subnet_id, by_id)
        if ip_text is not None:
            subnet, address = await _requested_address(
                session, network_id, subnets, subnet, str(ip_text), exclude_port, taken_here
            )
        else:
            assert subnet is not None
            if exclude_port is not None:
                # An update keeps the address the port already has on that subnet.
                current = await session.scalar(
                    select(models.IPAllocation.ip_address).where(
                        models.IPAllocation.port_id == exclude_port,
                        models.IPAllocation.subnet_id == subnet.id,
                    )
                )
                if current is not None and current not in taken_here:
                    out.append((subnet.id, current))
                    taken_here.add(current)
                    continue
            address = await allocate_in_subnet(session, subnet, mac, taken_here)
        out.append((subnet.id, address))
        taken_here.add(address)
    return out


async def _default_fixed_ips(
    session: AsyncSession,
    network_id: str,
    subnets: Sequence[models.Subnet],
    mac: str,
    device_owner: str,
) -> list[tuple[str, str]]:
    """Neutron's default for a port that asks for nothing: the first IPv4 subnet with room,
    the first stateful IPv6 subnet, and every SLAAC subnet (but for router interfaces)."""
    out: list[tuple[str, str]] = []
    taken_here: set[str] = set()
    v4_done = False
    v6_stateful_done = False
    for each in subnets:
        if each.ip_version == 4:
            if v4_done:
                continue
            try:
                auto_ip = await allocate_in_subnet(session, each, mac, taken_here)
            except nerr.IpAddressGenerationFailure:
                continue
            v4_done = True
        elif is_auto(each):
            if device_owner == "network:router_interface":
                continue
            auto_ip = await allocate_in_subnet(session, each, mac, taken_here)
        else:
            if v6_stateful_done:
                continue
            auto_ip = await allocate_in_subnet(session, each, mac, taken_here)
            v6_stateful_done = True
        out.append((each.id, auto_ip))
        taken_here.add(auto_ip)
    if subnets and not out:
        raise nerr.IpAddressGenerationFailure(net_id=network_id)
    return out


async def _requested_subnet(
    session: AsyncSession, network_id: str, subnet_id: Any, by_id: dict[str, models.Subnet]
) -> models.Subnet | None:
    """The network's subnet a ``fixed_ips`` entry names (None when it names none)."""
    if subnet_id is None:
        return None
    subnet = by_id.get(str(subnet_id))
    if subnet is None:
        exists = await session.get(models.Subnet, str(subnet_id))
        if exists is None:
            raise nerr.SubnetNotFound(id=subnet_id)
        raise nerr.InvalidInput(
            reason=f"Failed to create port on network {network_id}, because fixed_ips "
            f"included invalid subnet {subnet_id}"
        )
    return subnet


async def _requested_address(
    session: AsyncSession,
    network_id: str,
    subnets: Sequence[models.Subnet],
    subnet: models.Subnet | None,
    ip_text: str,
    exclude_port: str | None,
    taken_here: set[str],
) -> tuple[models.Subnet, str]:
    """A requested address checked (valid, in its subnet, free): its subnet (found by the
    address when the entry named none) and the address in canonical form."""
    try:
        ip: ipam.IPAddress = ipaddress.ip_address(ip_text)
    except ValueError:
        raise nerr.InvalidInput(reason=f"{ip_text} is not a valid IP address") from None
    if subnet is None:
        subnet = next((s for s in subnets if ip in ipaddress.ip_network(s.cidr)), None)
        if subnet is None:
            raise nerr.InvalidIpForNetwork(ip_address=ip_text)
    elif ip not in ipaddress.ip_network(subnet.cidr):
        raise nerr.InvalidIpForSubnet(ip_address=ip_text)
    net = ipaddress.ip_network(subnet.cidr)
    if net.version == 4 and ip in (net.network_address, net.broadcast_address):
        raise nerr.InvalidIpForSubnet(ip_address=ip_text)
    address = str(ip)
    if address == subnet.gateway_ip and await _is_external(session, network_id):
        # The outside world's gateway (the host's bridge holds it in the data plane):
        # taken whether or not a port row says so.
        raise nerr.IpAddressAlreadyAllocated(ip=address, subnet_id=subnet.id)
    holder = await session.scalar(
        select(models.IPAllocation.port_id).where(
            models.IPAllocation.network_id == network_id,
            models.IPAllocation.ip_address == address,
        )
    )
    if (holder is not None and holder != exclude_port) or address in taken_here:
        raise nerr.IpAddressAlreadyAllocated(ip=address, subnet_id=subnet.id)
    return subnet, address


async def _is_external(session: AsyncSession, network_id: str) -> bool:
    net = await session.get(models.Network, network_id)
    return net is not None and net.external


def set_allocations(port: models.Port, pairs: Sequence[tuple[str, str]]) -> None:
    """Replace the port's fixed IPs, keeping rows that stay (no delete-insert churn)."""
    keep = {(a.subnet_id, a.ip_address): a for a in port.fixed_ips}
    new: list[models.IPAllocation] = []
    for position, (subnet_id, ip) in enumerate(pairs):
        row = keep.get((subnet_id, ip))
        if row is None:
            row = models.IPAllocation(
                port_id=port.id, subnet_id=subnet_id, ip_address=ip, network_id=port.network_id
            )
        row.position = position
        new.append(row)
    port.fixed_ips = new
