"""Subnets: IPAM validation, subnet pools, and the DHCP port each DHCP network gets."""

from __future__ import annotations

import ipaddress
import uuid
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from onestack.network import errors as nerr
from onestack.network import ipam, models
from onestack.network.service import ipalloc
from onestack.network.service.base import (
    Caller,
    NetworkContext,
    check_quota,
    drop_tags,
    require_owner,
    touch,
)
from onestack.network.service.networks import get_visible_network
from onestack.network.service.subnetpools import default_subnetpool

DHCP_OWNER = "network:dhcp"


def dhcp_device_id(host: str, network_id: str) -> str:
    """Neutron's DHCP agent names its port's device after the host and the network."""
    return f"dhcp{uuid.uuid5(uuid.NAMESPACE_DNS, host)}-{network_id}"


def _ipam(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except ipam.IpamError as exc:
        raise nerr.InvalidInput(reason=str(exc)) from None


async def _pool_id(session: AsyncSession, body: dict[str, Any], version: Any) -> str | None:
    """The subnet pool a new subnet is cut from: the one named, or with
    ``use_default_subnetpool`` (Neutron's default-subnetpools) the family's default."""
    pool_id: str | None = body.get("subnetpool_id")
    if not body.get("use_default_subnetpool"):
        return pool_id
    if pool_id:
        raise nerr.BadRequest(
            resource="subnets",
            msg="subnetpool_id and use_default_subnetpool cannot both be specified",
        )
    if version not in (4, 6):
        raise nerr.BadRequest(
            resource="subnets",
            msg="ip_version must be specified in the absence of cidr and subnetpool_id",
        )
    pool_id = await default_subnetpool(session, version)
    if pool_id is None:
        raise nerr.BadRequest(
            resource="subnets", msg=f"No default subnetpool found for IPv{version}"
        )
    return pool_id


async def visible_subnetpool(
    session: AsyncSession, caller: Caller, pool_id: str
) -> models.SubnetPool:
    pool = await session.get(models.SubnetPool, pool_id)
    if pool is None or not (caller.is_admin or pool.shared or pool.project_id == caller.project_id):
        raise nerr.SubnetPoolNotFound(id=pool_id)
    return pool


async def sync_dhcp_port(session: AsyncSession, host: str, network_id: str) -> bool:
    """Give the network's DHCP port one address on every DHCP subnet, or remove it when no
    subnet wants DHCP. True if anything changed."""
    subnets = await ipalloc.network_subnets(session, network_id)
    wanted = [s for s in subnets if s.enable_dhcp]
    port = await session.scalar(
        select(models.Port).where(
            models.Port.network_id == network_id, models.Port.device_owner == DHCP_OWNER
        )
    )
    if not wanted:
        if port is None:
            return False
        await drop_tags(session, port.id)
        await session.delete(port)
        return True
    net = await session.get(models.Network, network_id)
    assert net is not None
    created = port is None
    if port is None:
        port = models.Port(
            id=models.uuid_str(),
            project_id=net.project_id,
            network_id=network_id,
            mac_address=ipalloc.random_mac(),
            device_owner=DHCP_OWNER,
            device_id=dhcp_device_id(host, network_id),
            binding_host_id=host,
            port_security_enabled=False,
            fixed_ips=[],
            security_group_bindings=[],
        )
        session.add(port)
        await session.flush()
    current = {a.subnet_id for a in port.fixed_ips}
    if not created and current == {s.id for s in wanted}:
        return False
    pairs = await ipalloc.resolve_fixed_ips(
        session,
        network_id,
        [{"subnet_id": s.id} for s in wanted],
        port.mac_address,
        DHCP_OWNER,
        exclude_port=port.id,
    )
    ipalloc.set_allocations(port, pairs)
    touch(port)
    return True


class Subnets:
    def __init__(self, ctx: NetworkContext) -> None:
        self.ctx = ctx

    async def create(self, caller: Caller, body: dict[str, Any]) -> models.Subnet:
        async with self.ctx.db.session() as session:
            subnet = await self.create_in(session, caller, body)
        await self.ctx.changed()
        return subnet

    async def create_in(
        self, session: AsyncSession, caller: Caller, body: dict[str, Any]
    ) -> models.Subnet:
        net = await get_visible_network(session, caller, body["network_id"])
        require_owner(caller, net.project_id, "create_subnet")
        project_id = body.get("project_id") or caller.project_id
        await check_quota(session, project_id, "subnet")
        version = body.get("ip_version")
        pool: models.SubnetPool | None = None
        pool_id = await _pool_id(session, body, version)
        if pool_id:
            pool = await visible_subnetpool(session, caller, pool_id)
            if version is not None and version != pool.ip_version:
                raise nerr.InvalidInput(reason="Subnet and subnet pool IP versions differ")
            version = pool.ip_version
        if version not in (4, 6):
            raise nerr.InvalidInput(reason="ip_version must be 4 or 6")
        cidr = body.get("cidr")
        if pool is not None:
            net_cidr = await self._from_pool(session, pool, cidr, body.get("prefixlen"))
        elif cidr is None:
            raise nerr.BadRequest(resource="subnets", msg="a cidr must be provided")
        else:
            net_cidr = _ipam(ipam.parse_cidr, cidr, version)
        if net_cidr.version != version:
            raise nerr.InvalidInput(reason=f"Invalid CIDR {cidr} for IP version {version}")
        siblings = await ipalloc.network_subnets(session, net.id)
        clash = ipam.overlapping(net_cidr, [s.cidr for s in siblings])
        if clash is not None:
            raise nerr.InvalidInput(
                reason=f"Requested subnet with cidr: {net_cidr} for network: {net.id} overlaps "
                "with another subnet"
            )
        ra_mode, addr_mode = body.get("ipv6_ra_mode"), body.get("ipv6_address_mode")
        _ipam(ipam.validate_ipv6_modes, version, ra_mode, addr_mode)
        if (ra_mode or addr_mode) in ("slaac", "dhcpv6-stateless") and net_cidr.prefixlen != 64:
            raise nerr.InvalidInput(
                reason=f"Invalid CIDR {net_cidr} for IPv6 address mode. OpenStack uses the "
                "EUI-64 address format, which requires the prefix to be /64"
            )
        gateway = self._gateway(net_cidr, body)
        pools = self._pools(net_cidr, body.get("allocation_pools"), gateway)
        subnet = models.Subnet(
            id=models.uuid_str(),
            project_id=project_id,
            network_id=net.id,
            name=body.get("name", ""),
            description=body.get("description", ""),
            ip_version=version,
            cidr=str(net_cidr),
            gateway_ip=None if gateway is None else str(gateway),
            enable_dhcp=body.get("enable_dhcp", True),
            allocation_pools=[p.as_dict() for p in pools],
            dns_nameservers=_ipam(ipam.validate_nameservers, body.get("dns_nameservers") or []),
            host_routes=_ipam(ipam.validate_host_routes, net_cidr, body.get("host_routes") or []),
            ipv6_ra_mode=ra_mode,
            ipv6_address_mode=addr_mode,
            subnetpool_id=pool.id if pool else None,
        )
        session.add(subnet)
        touch(net)  # a network's revision counts its subnets, as in Neutron
        for tag in body.get("tags") or ():
            session.add(models.Tag(resource_id=subnet.id, tag=tag, resource_type="subnets"))
        await session.flush()
        await sync_dhcp_port(session, self.ctx.host, net.id)
        return subnet

    async def _from_pool(
        self, session: AsyncSession, pool: models.SubnetPool, cidr: str | None, prefixlen: Any
    ) -> ipam.IPNetwork:
        used = (
            await session.scalars(
                select(models.Subnet.cidr).where(models.Subnet.subnetpool_id == pool.id)
            )
        ).all()
        if cidr is not None:
            net = _ipam(ipam.parse_cidr, cidr, pool.ip_version)
            if not ipam.within_prefixes(net, pool.prefixes):
                raise nerr.InvalidInput(
                    reason=f"Cidr {cidr} is not within the subnet pool {pool.id}"
                )
            if ipam.overlapping(net, used):
                raise nerr.Conflict(reason=f"Cidr {cidr} overlaps a subnet of pool {pool.id}")
            return net  # type: ignore[no-any-return]
        length = pool.default_prefixlen if prefixlen is None else int(prefixlen)
        if not pool.min_prefixlen <= length <= pool.max_prefixlen:
            raise nerr.InvalidInput(
                reason=f"Illegal prefix bounds: prefixlen={length}, "
                f"min_prefixlen={pool.min_prefixlen}, max_prefixlen={pool.max_prefixlen}"
            )
        found = ipam.allocate_prefix(pool.prefixes, length, used)
        if found is None:
            raise nerr.PrefixUnavailable(prefixlen=length, pool=pool.id)
        return found

    @staticmethod
    def _gateway(net: ipam.IPNetwork, body: dict[str, Any]) -> ipam.IPAddress | None:
        if "gateway_ip" not in body:
            return ipam.default_gateway(net)
        if body["gateway_ip"] is None:
            return None
        gateway = _ipam(ipam.parse_ip, str(body["gateway_ip"]), net.version)
        if gateway == net.network_address or (
            net.version == 4 and gateway == net.broadcast_address
        ):
            raise nerr.InvalidInput(reason=f"Gateway is not valid on subnet: {gateway}")
        return gateway

    @staticmethod
    def _pools(net: ipam.IPNetwork, raw: Any, gateway: ipam.IPAddress | None) -> list[ipam.Pool]:
        if raw is None:
            return ipam.default_pools(net, gateway)
        pools: list[ipam.Pool] = _ipam(ipam.parse_pools, net, raw)
        first, last = ipam.usable_range(net)
        for p in pools:
            if p.start < first or p.end > last:
                raise nerr.InvalidAllocationPool(pool=p.as_dict())
        if gateway is not None and ipam.gateway_in_pools(gateway, pools):
            pool = next(p for p in pools if gateway in p)
            raise nerr.GatewayConflictWithAllocationPools(ip_address=gateway, pool=pool.as_dict())
        return pools

    async def get_visible(
        self, session: AsyncSession, caller: Caller, subnet_id: str
    ) -> models.Subnet:
        subnet = await session.get(models.Subnet, subnet_id)
        if subnet is None:
            raise nerr.SubnetNotFound(id=subnet_id)
        if not caller.is_admin and subnet.project_id != caller.project_id:
            try:
                await get_visible_network(session, caller, subnet.network_id)
            except nerr.NetworkNotFound:
                raise nerr.SubnetNotFound(id=subnet_id) from None
        return subnet

    async def update(
        self, caller: Caller, subnet_id: str, changes: dict[str, Any]
    ) -> models.Subnet:
        async with self.ctx.db.session() as session:
            subnet = await self.get_visible(session, caller, subnet_id)
            require_owner(caller, subnet.project_id, "update_subnet")
            net = ipaddress.ip_network(subnet.cidr)
            for fixed in ("cidr", "ip_version", "network_id", "subnetpool_id", "prefixlen"):
                if fixed in changes:
                    raise nerr.InvalidInput(reason=f"Cannot update read-only attribute {fixed}")
            if "gateway_ip" in changes or "allocation_pools" in changes:
                gateway = self._gateway(
                    net, {"gateway_ip": changes.get("gateway_ip", subnet.gateway_ip)}
                )
                raw = changes.get("allocation_pools", subnet.allocation_pools)
                pools = self._pools(net, raw, gateway)
                changes["gateway_ip"] = None if gateway is None else str(gateway)
                changes["allocation_pools"] = [p.as_dict() for p in pools]
                if gateway is not None and str(gateway) != subnet.gateway_ip:
                    holder = await session.scalar(
                        select(models.IPAllocation.port_id).where(
                            models.IPAllocation.subnet_id == subnet.id,
                            models.IPAllocation.ip_address == str(gateway),
                        )
                    )
                    if holder is not None:
                        raise nerr.IpAddressAlreadyAllocated(ip=str(gateway), subnet_id=subnet.id)
            if "dns_nameservers" in changes:
                changes["dns_nameservers"] = _ipam(
                    ipam.validate_nameservers, changes["dns_nameservers"] or []
                )
            if "host_routes" in changes:
                changes["host_routes"] = _ipam(
                    ipam.validate_host_routes, net, changes["host_routes"] or []
                )
            changed = False
            for key, value in changes.items():
                if getattr(subnet, key) != value:
                    setattr(subnet, key, value)
                    changed = True
            if changed:
                touch(subnet)
            await session.flush()
            await sync_dhcp_port(session, self.ctx.host, subnet.network_id)
        await self.ctx.changed()
        return subnet

    async def delete(self, caller: Caller, subnet_id: str) -> None:
        async with self.ctx.db.session() as session:
            subnet = await self.get_visible(session, caller, subnet_id)
            require_owner(caller, subnet.project_id, "delete_subnet")
            busy = await session.scalar(
                select(func.count())
                .select_from(models.IPAllocation)
                .join(models.Port, models.Port.id == models.IPAllocation.port_id)
                .where(
                    models.IPAllocation.subnet_id == subnet.id,
                    models.Port.device_owner != DHCP_OWNER,
                )
            )
            if busy and not ipalloc.is_auto(subnet):
                raise nerr.SubnetInUse(subnet_id=subnet.id)
            if busy:
                # SLAAC addresses go with the subnet, except a router's (Neutron refuses).
                routers = await session.scalar(
                    select(func.count())
                    .select_from(models.IPAllocation)
                    .join(models.Port, models.Port.id == models.IPAllocation.port_id)
                    .where(
                        models.IPAllocation.subnet_id == subnet.id,
                        models.Port.device_owner.like("network:router%"),
                    )
                )
                if routers:
                    raise nerr.SubnetInUse(subnet_id=subnet.id)
            await session.execute(
                delete(models.IPAllocation).where(models.IPAllocation.subnet_id == subnet.id)
            )
            await drop_tags(session, subnet.id)
            network_id = subnet.network_id
            parent = await session.get(models.Network, network_id)
            if parent is not None:
                touch(parent)
            await session.delete(subnet)
            await session.flush()
            session.expire_all()
            await sync_dhcp_port(session, self.ctx.host, network_id)
        await self.ctx.changed()
