"""Routers: external gateways, interfaces by subnet or port, and extra routes."""

from __future__ import annotations

import ipaddress
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from onestack.common import errors
from onestack.network import errors as nerr
from onestack.network import models
from onestack.network.service import ipalloc
from onestack.network.service.base import Caller, NetworkContext, check_quota, drop_tags, touch
from onestack.network.service.networks import get_visible_network
from onestack.network.service.portrows import PortRow
from onestack.network.service.ports import Ports, visible_port

GATEWAY_OWNER = "network:router_gateway"
INTERFACE_OWNER = "network:router_interface"


class InvalidRoutes(errors.BadRequest):
    template = "Invalid format for routes: {routes}, {reason}"


def refuse_ha_and_dvr(body: dict[str, Any]) -> None:
    """Take ``ha`` and ``distributed`` out of a router body. Every router is one namespace on
    one L3 agent, neither HA (VRRP between agents, l3-ha) nor distributed (dvr): False is what
    it is, True is refused rather than stored and not done."""
    for key, what in (("ha", "HA (VRRP between L3 agents)"),
                      ("distributed", "distributed (DVR)")):  # fmt: skip
        if body.pop(key, False):
            raise nerr.BadRequest(
                resource="router",
                msg=f"{what} routers are not supported: each router runs in one namespace on "
                "one L3 agent",
            )


async def visible_router(session: AsyncSession, caller: Caller, router_id: str) -> models.Router:
    router = await session.get(models.Router, router_id)
    if router is None or not (caller.is_admin or router.project_id == caller.project_id):
        raise nerr.RouterNotFound(id=router_id)
    return router


def is_interface_of(port: models.Port | PortRow, router: models.Router) -> bool:
    """A router's interface: a port the router code path made its own. ``device_owner`` and
    ``device_id`` alone are not enough (a network owner may set both on its own port); the
    port must also belong to the router's project, which every interface added through
    ``add_router_interface`` does."""
    return (
        port.device_owner == INTERFACE_OWNER
        and port.device_id == router.id
        and port.project_id == router.project_id
    )


async def interface_ports(session: AsyncSession, router: models.Router) -> list[models.Port]:
    rows = await session.scalars(
        select(models.Port)
        .where(
            models.Port.device_id == router.id,
            models.Port.device_owner == INTERFACE_OWNER,
            models.Port.project_id == router.project_id,
        )
        .order_by(models.Port.created_at)
    )
    return list(rows)


async def check_interface_network(
    session: AsyncSession, caller: Caller, net: models.Network, subnet: models.Subnet | None = None
) -> None:
    """Where a non-admin may attach its router (Neutron, LP 1757482 / 1975603): a network its
    project owns, or one shared with that project by name in an ``access_as_shared`` RBAC
    policy; not a network shared with everyone, and never an external network, whose gateway
    address belongs to the outside world (the host's bridge here)."""
    if caller.is_admin:
        return
    if net.external:
        raise nerr.BadRequest(
            resource="router",
            msg=f"Router interface on external network {net.id} not allowed",
        )
    owner = subnet.project_id if subnet is not None else net.project_id
    if owner == caller.project_id:
        return
    shared_by_name = await session.scalar(
        select(models.RBACPolicy.id).where(
            models.RBACPolicy.object_type == "network",
            models.RBACPolicy.object_id == net.id,
            models.RBACPolicy.action == "access_as_shared",
            models.RBACPolicy.target_project == caller.project_id,
        )
    )
    if shared_by_name is None:
        what = f"subnet {subnet.id}" if subnet is not None else f"network {net.id}"
        raise nerr.BadRequest(
            resource="router",
            msg=f"Cannot add interface to router because {what} is not owned by project "
            "making the request",
        )


async def check_port_in_pools(session: AsyncSession, caller: Caller, port: models.Port) -> None:
    """Neutron's ``_validate_port_in_range_or_admin``: a port attached by a non-admin may hold
    an address outside the allocation pools (the gateway, say) only on its own subnets."""
    if caller.is_admin:
        return
    for a in port.fixed_ips:
        subnet = await session.get(models.Subnet, a.subnet_id)
        if subnet is None or subnet.project_id == caller.project_id:
            continue
        ip = ipaddress.ip_address(a.ip_address)
        if not any(ip in pool for pool in ipalloc.pools_of(subnet)):
            raise nerr.BadRequest(
                resource="router",
                msg=f"Cannot add interface to router because specified port {port.id} has an "
                f"IP address out of the allocation pool of subnet {subnet.id}, which is not "
                "owned by the project making the request",
            )


class Routers:
    def __init__(self, ctx: NetworkContext, ports: Ports) -> None:
        self.ctx = ctx
        self.ports = ports

    async def create(self, caller: Caller, body: dict[str, Any]) -> models.Router:
        refuse_ha_and_dvr(body)
        project_id = body.get("project_id") or caller.project_id
        async with self.ctx.db.session() as session:
            await check_quota(session, project_id, "router")
            router = models.Router(
                id=models.uuid_str(),
                project_id=project_id,
                name=body.get("name", ""),
                description=body.get("description", ""),
                admin_state_up=body.get("admin_state_up", True),
                availability_zone_hints=body.get("availability_zone_hints") or [],
            )
            session.add(router)
            await session.flush()
            if body.get("external_gateway_info"):
                await self._set_gateway(session, caller, router, body["external_gateway_info"])
            if body.get("routes"):
                router.routes = await self._validate_routes(session, router, body["routes"])
            for tag in body.get("tags") or ():
                session.add(models.Tag(resource_id=router.id, tag=tag, resource_type="routers"))
        await self.ctx.changed()
        return router

    async def _set_gateway(
        self,
        session: AsyncSession,
        caller: Caller,
        router: models.Router,
        info: dict[str, Any] | None,
    ) -> None:
        current = await session.get(models.Port, router.gw_port_id) if router.gw_port_id else None
        if not info:
            if current is not None:
                in_use = await session.scalar(
                    select(func.count())
                    .select_from(models.FloatingIP)
                    .where(models.FloatingIP.router_id == router.id)
                )
                if in_use:
                    raise nerr.RouterInUse(
                        router_id=router.id,
                        reason="has floating IPs that use its gateway, disassociate them first",
                    )
                router.gw_port_id = None
                await Ports.delete_in(session, current)
            return
        if "network_id" not in info:
            raise nerr.InvalidInput(reason="external_gateway_info needs a network_id")
        net = await get_visible_network(session, caller, str(info["network_id"]))
        if not net.external:
            raise nerr.BadRequest(
                resource="router",
                msg=f"Network {net.id} is not an external network",
            )
        router.enable_snat = bool(info.get("enable_snat", True))
        requested = info.get("external_fixed_ips")
        if current is not None and current.network_id == net.id:
            if requested is not None:
                pairs = await ipalloc.resolve_fixed_ips(
                    session, net.id, requested, current.mac_address, GATEWAY_OWNER, current.id
                )
                ipalloc.set_allocations(current, pairs)
                touch(current)
            return
        if current is not None:
            router.gw_port_id = None
            await Ports.delete_in(session, current)
            await session.flush()
        port = await self.ports.create_in(
            session,
            caller,
            {
                "network_id": net.id,
                "project_id": "",
                "device_owner": GATEWAY_OWNER,
                "device_id": router.id,
                "fixed_ips": requested,
                "security_groups": [],
                "port_security_enabled": False,
                "binding_host_id": self.ctx.host,
            },
        )
        # An external network without a subnet gives a gateway port without an address, as
        # Neutron makes it (it only logs "No IPs available for external network").
        router.gw_port_id = port.id

    async def _validate_routes(
        self, session: AsyncSession, router: models.Router, routes: list[Any]
    ) -> list[dict[str, str]]:
        cidrs = [ipaddress.ip_network(p) for p in await self._connected_cidrs(session, router)]
        out: list[dict[str, str]] = []
        for route in routes:
            if not isinstance(route, dict) or set(route) != {"destination", "nexthop"}:
                raise InvalidRoutes(
                    routes=routes, reason="each route needs destination and nexthop"
                )
            try:
                dest = ipaddress.ip_network(str(route["destination"]), strict=False)
                hop = ipaddress.ip_address(str(route["nexthop"]))
            except ValueError as exc:
                raise InvalidRoutes(routes=routes, reason=str(exc)) from None
            if not any(hop in c for c in cidrs):
                raise InvalidRoutes(
                    routes=routes,
                    reason=f"the nexthop is not connected with router, nexthop: {hop}",
                )
            entry = {"destination": str(dest), "nexthop": str(hop)}
            if entry in out:
                raise InvalidRoutes(routes=routes, reason="duplicate route")
            out.append(entry)
        return out

    async def _connected_cidrs(self, session: AsyncSession, router: models.Router) -> list[str]:
        port_ids = [p.id for p in await interface_ports(session, router)]
        if router.gw_port_id:
            port_ids.append(router.gw_port_id)
        if not port_ids:
            return []
        rows = await session.scalars(
            select(models.Subnet.cidr)
            .join(models.IPAllocation, models.IPAllocation.subnet_id == models.Subnet.id)
            .where(models.IPAllocation.port_id.in_(port_ids))
        )
        return list(rows.all())

    async def update(
        self, caller: Caller, router_id: str, changes: dict[str, Any]
    ) -> models.Router:
        refuse_ha_and_dvr(changes)
        async with self.ctx.db.session() as session:
            router = await visible_router(session, caller, router_id)
            changed = False
            if "external_gateway_info" in changes:
                before = (router.gw_port_id, router.enable_snat)
                await self._set_gateway(
                    session, caller, router, changes.pop("external_gateway_info")
                )
                changed = before != (router.gw_port_id, router.enable_snat) or changed
                await session.flush()
            if "routes" in changes:
                routes = await self._validate_routes(session, router, changes.pop("routes") or [])
                if routes != router.routes:
                    router.routes = routes
                    changed = True
            for key, value in changes.items():
                if getattr(router, key) != value:
                    setattr(router, key, value)
                    changed = True
            if changed:
                touch(router)
        await self.ctx.changed()
        return router

    async def delete(self, caller: Caller, router_id: str) -> None:
        async with self.ctx.db.session() as session:
            router = await visible_router(session, caller, router_id)
            if await interface_ports(session, router):
                raise nerr.RouterInUse(router_id=router.id, reason="still has ports")
            fips = await session.scalar(
                select(func.count())
                .select_from(models.FloatingIP)
                .where(models.FloatingIP.router_id == router.id)
            )
            if fips:
                raise nerr.RouterInUse(router_id=router.id, reason="still has floating IPs")
            if router.gw_port_id:
                gw = await session.get(models.Port, router.gw_port_id)
                router.gw_port_id = None
                await session.flush()
                if gw is not None:
                    await Ports.delete_in(session, gw)
            await drop_tags(session, router.id)
            await session.delete(router)
        await self.ctx.changed()

    async def add_interface(
        self, caller: Caller, router_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        subnet_id, port_id = body.get("subnet_id"), body.get("port_id")
        if bool(subnet_id) == bool(port_id):
            raise nerr.BadRequest(
                resource="router", msg="Either subnet_id or port_id must be specified"
            )
        async with self.ctx.db.session() as session:
            router = await visible_router(session, caller, router_id)
            attached = await interface_ports(session, router)
            if port_id:
                port = await self._attach_port(session, caller, router, attached, str(port_id))
            else:
                port = await self._attach_subnet(session, caller, router, attached, subnet_id)
            touch(router)
            await session.flush()
            result = self._interface_info(router, port)
        await self.ctx.changed()
        return result

    async def _attach_port(
        self,
        session: AsyncSession,
        caller: Caller,
        router: models.Router,
        attached: list[models.Port],
        port_id: str,
    ) -> models.Port:
        """An existing port made the router's interface (Neutron updates the port)."""
        attached_subnets = {a.subnet_id for p in attached for a in p.fixed_ips}
        port = await visible_port(session, caller, port_id)
        if not caller.is_admin and port.project_id != caller.project_id:
            # Neutron attaches by updating the port: only its project may.
            raise errors.Forbidden(action="update_port")
        if port.device_id or port.device_owner:
            raise nerr.PortInUse(port_id=port.id, net_id=port.network_id, device_id=port.device_id)
        if not port.fixed_ips:
            raise nerr.BadRequest(
                resource="router", msg="Router port must have at least one fixed IP"
            )
        net = await session.get(models.Network, port.network_id)
        assert net is not None
        await check_interface_network(session, caller, net)
        await check_port_in_pools(session, caller, port)
        for a in port.fixed_ips:
            if a.subnet_id in attached_subnets:
                raise nerr.BadRequest(
                    resource="router",
                    msg=f"Router already has a port on subnet {a.subnet_id}",
                )
        port.device_id = router.id
        port.device_owner = INTERFACE_OWNER
        # An interface belongs to its router's project (an admin may attach another
        # project's port); that is what marks it as the router's, see is_interface_of.
        port.project_id = router.project_id
        port.security_group_bindings = []
        port.port_security_enabled = False
        port.allowed_address_pairs = []
        port.binding_host_id = self.ctx.host
        touch(port)
        return port

    async def _attach_subnet(
        self,
        session: AsyncSession,
        caller: Caller,
        router: models.Router,
        attached: list[models.Port],
        subnet_id: Any,
    ) -> models.Port:
        """A new interface port holding the subnet's gateway address."""
        attached_subnets = {a.subnet_id for p in attached for a in p.fixed_ips}
        subnet = await session.get(models.Subnet, str(subnet_id))
        if subnet is None:
            raise nerr.SubnetNotFound(id=subnet_id)
        try:
            net = await get_visible_network(session, caller, subnet.network_id)
        except nerr.NetworkNotFound:
            raise nerr.SubnetNotFound(id=subnet_id) from None
        await check_interface_network(session, caller, net, subnet)
        if subnet.id in attached_subnets:
            raise nerr.BadRequest(
                resource="router",
                msg=f"Router already has a port on subnet {subnet.id}",
            )
        if not subnet.gateway_ip:
            raise nerr.BadRequest(
                resource="router",
                msg=f"Subnet for router interface must have a gateway IP",  # noqa: F541
            )
        cidr = ipaddress.ip_network(subnet.cidr)
        for p in attached:
            for a in p.fixed_ips:
                other = await session.get(models.Subnet, a.subnet_id)
                if other is not None and ipaddress.ip_network(other.cidr).overlaps(cidr):
                    raise nerr.BadRequest(
                        resource="router",
                        msg=f"Cidr {cidr} of subnet {subnet.id} overlaps with cidr "
                        f"{other.cidr} of subnet {other.id}",
                    )
        return await self.ports.create_in(
            session,
            caller,
            {
                "network_id": subnet.network_id,
                "project_id": router.project_id,
                "device_owner": INTERFACE_OWNER,
                "device_id": router.id,
                "fixed_ips": [{"subnet_id": subnet.id, "ip_address": subnet.gateway_ip}],
                "security_groups": [],
                "port_security_enabled": False,
                "binding_host_id": self.ctx.host,
            },
        )

    @staticmethod
    def _interface_info(router: models.Router, port: models.Port) -> dict[str, Any]:
        subnet_ids = [a.subnet_id for a in port.fixed_ips]
        return {
            "id": router.id,
            "tenant_id": router.project_id,
            "project_id": router.project_id,
            "port_id": port.id,
            "network_id": port.network_id,
            "subnet_id": subnet_ids[0] if subnet_ids else None,
            "subnet_ids": subnet_ids,
        }

    async def remove_interface(
        self, caller: Caller, router_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        subnet_id, port_id = body.get("subnet_id"), body.get("port_id")
        if not subnet_id and not port_id:
            raise nerr.BadRequest(
                resource="router", msg="Either subnet_id or port_id must be specified"
            )
        async with self.ctx.db.session() as session:
            router = await visible_router(session, caller, router_id)
            attached = await interface_ports(session, router)
            port: models.Port | None = None
            if port_id:
                port = next((p for p in attached if p.id == port_id), None)
                if port is None:
                    raise nerr.RouterInterfaceNotFound(router_id=router.id, port_id=port_id)
                if subnet_id and subnet_id not in {a.subnet_id for a in port.fixed_ips}:
                    raise nerr.BadRequest(
                        resource="router", msg=f"Subnet {subnet_id} is not on port {port_id}"
                    )
            else:
                port = next(
                    (p for p in attached if subnet_id in {a.subnet_id for a in p.fixed_ips}),
                    None,
                )
                if port is None:
                    raise nerr.RouterInterfaceNotFoundForSubnet(
                        router_id=router.id, subnet_id=subnet_id
                    )
            for a in port.fixed_ips:
                needed = await session.scalar(
                    select(func.count())
                    .select_from(models.FloatingIP)
                    .join(
                        models.IPAllocation,
                        models.IPAllocation.port_id == models.FloatingIP.port_id,
                    )
                    .where(
                        models.FloatingIP.router_id == router.id,
                        models.IPAllocation.subnet_id == a.subnet_id,
                    )
                )
                if needed:
                    raise nerr.RouterInterfaceInUseByFloatingIP(
                        subnet_id=a.subnet_id, router_id=router.id
                    )
            if router.routes:
                remaining = [p for p in attached if p.id != port.id]
                keep_cidrs = []
                for p in remaining:
                    for a in p.fixed_ips:
                        s = await session.get(models.Subnet, a.subnet_id)
                        if s is not None:
                            keep_cidrs.append(ipaddress.ip_network(s.cidr))
                for route in router.routes:
                    hop = ipaddress.ip_address(route["nexthop"])
                    if not any(hop in c for c in keep_cidrs):
                        raise nerr.RouterInUse(
                            router_id=router.id,
                            reason=f"has a route {route} that uses this interface",
                        )
            result = self._interface_info(router, port)
            await Ports.delete_in(session, port)
            touch(router)
        await self.ctx.changed()
        return result
