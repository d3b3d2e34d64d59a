"""Floating IPs on external networks, their association with ports, and port forwardings."""

from __future__ import annotations

import ipaddress
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from onestack.network import errors as nerr
from onestack.network import models
from onestack.network.service.base import Caller, NetworkContext, check_quota, drop_tags, touch
from onestack.network.service.networks import FIP_OWNER, get_visible_network
from onestack.network.service.ports import Ports, visible_port
from onestack.network.service.routers import GATEWAY_OWNER, INTERFACE_OWNER
from onestack.network.service.scheduler import hosting_hosts


async def visible_fip(session: AsyncSession, caller: Caller, fip_id: str) -> models.FloatingIP:
    fip = await session.get(models.FloatingIP, fip_id)
    if fip is None or not (caller.is_admin or fip.project_id == caller.project_id):
        raise nerr.FloatingIPNotFound(id=fip_id)
    return fip


async def find_router(
    session: AsyncSession, external_network_id: str, subnet_id: str
) -> str | None:
    """A router with a gateway on the external network and an interface on the subnet."""
    gw_routers = select(models.Port.device_id).where(
        models.Port.network_id == external_network_id, models.Port.device_owner == GATEWAY_OWNER
    )
    return await session.scalar(
        select(models.Port.device_id)
        .join(models.IPAllocation, models.IPAllocation.port_id == models.Port.id)
        .where(
            models.Port.device_owner == INTERFACE_OWNER,
            models.IPAllocation.subnet_id == subnet_id,
            models.Port.device_id.in_(gw_routers),
        )
        .limit(1)
    )


class FloatingIPs:
    def __init__(self, ctx: NetworkContext, ports: Ports) -> None:
        self.ctx = ctx
        self.ports = ports

    async def create(self, caller: Caller, body: dict[str, Any]) -> models.FloatingIP:
        project_id = body.get("project_id") or caller.project_id
        async with self.ctx.db.session() as session:
            net = await get_visible_network(session, caller, str(body["floating_network_id"]))
            if not net.external:
                raise nerr.BadRequest(
                    resource="floatingip",
                    msg=f"Network {net.id} is not a valid external network",
                )
            await check_quota(session, project_id, "floatingip")
            fip = models.FloatingIP(
                id=models.uuid_str(),
                project_id=project_id,
                floating_network_id=net.id,
                description=body.get("description", ""),
            )
            fixed: dict[str, Any] = {}
            if body.get("subnet_id"):
                fixed["subnet_id"] = body["subnet_id"]
            if body.get("floating_ip_address"):
                fixed["ip_address"] = body["floating_ip_address"]
            port = await self.ports.create_in(
                session,
                caller,
                {
                    "network_id": net.id,
                    "project_id": "",
                    "device_owner": FIP_OWNER,
                    "device_id": fip.id,
                    "fixed_ips": [fixed] if fixed else None,
                    "security_groups": [],
                    "port_security_enabled": False,
                },
            )
            v4 = [a for a in port.fixed_ips if ipaddress.ip_address(a.ip_address).version == 4]
            if not v4:
                raise nerr.BadRequest(
                    resource="floatingip", msg=f"No IPv4 address available on network {net.id}"
                )
            fip.floating_ip_address = v4[0].ip_address
            fip.floating_port_id = port.id
            session.add(fip)
            await session.flush()
            if body.get("port_id"):
                await self._associate(
                    session, caller, fip, str(body["port_id"]), body.get("fixed_ip_address")
                )
            for tag in body.get("tags") or ():
                session.add(models.Tag(resource_id=fip.id, tag=tag, resource_type="floatingips"))
        await self.ctx.changed()
        return fip

    async def _associate(
        self,
        session: AsyncSession,
        caller: Caller,
        fip: models.FloatingIP,
        port_id: str | None,
        fixed_ip: str | None,
    ) -> None:
        if port_id is None:
            fip.port_id = fip.fixed_ip_address = fip.router_id = None
            fip.status = "DOWN"
            return
        port = await visible_port(session, caller, port_id)
        if not caller.is_admin and port.project_id != fip.project_id:
            raise nerr.PortNotFound(id=port_id)
        v4 = [a for a in port.fixed_ips if ipaddress.ip_address(a.ip_address).version == 4]
        if fixed_ip is not None:
            chosen = next((a for a in v4 if a.ip_address == fixed_ip), None)
            if chosen is None:
                raise nerr.BadRequest(
                    resource="floatingip",
                    msg=f"Port {port.id} does not have fixed ip {fixed_ip}",
                )
        elif not v4:
            raise nerr.BadRequest(
                resource="floatingip",
                msg=f"Port {port.id} does not have any IPv4 address, so it cannot have a "
                "floating IP",
            )
        elif len(v4) > 1:
            raise nerr.BadRequest(
                resource="floatingip",
                msg=f"Port {port.id} has multiple fixed IPv4 addresses.  Must provide a "
                "specific IPv4 address when assigning a floating IP",
            )
        else:
            chosen = v4[0]
        router_id = await find_router(session, fip.floating_network_id, chosen.subnet_id)
        if router_id is None:
            raise nerr.ExternalGatewayForFloatingIPNotFound(
                external_network_id=fip.floating_network_id,
                subnet_id=chosen.subnet_id,
                port_id=port.id,
            )
        other = await session.scalar(
            select(models.FloatingIP).where(
                models.FloatingIP.port_id == port.id,
                models.FloatingIP.fixed_ip_address == chosen.ip_address,
                models.FloatingIP.floating_network_id == fip.floating_network_id,
                models.FloatingIP.id != fip.id,
            )
        )
        if other is not None:
            raise nerr.FloatingIPPortAlreadyAssociated(
                floating_ip_address=fip.floating_ip_address,
                fip_id=fip.id,
                port_id=port.id,
                fixed_ip=chosen.ip_address,
                net_id=fip.floating_network_id,
            )
        forwarded = await session.scalar(
            select(models.PortForwarding.id)
            .where(models.PortForwarding.floatingip_id == fip.id)
            .limit(1)
        )
        if forwarded is not None:
            raise nerr.Conflict(
                reason=f"Floating IP {fip.id} has port forwardings; it cannot be associated "
                "with a port"
            )
        fip.port_id = port.id
        fip.fixed_ip_address = chosen.ip_address
        fip.router_id = router_id
        # DOWN while the router is taken off every L3 agent: nothing forwards for it.
        served = await hosting_hosts(session, "l3", self.ctx.host, [router_id])
        fip.status = "DOWN" if served.get(router_id) == set() else "ACTIVE"

    async def update(
        self, caller: Caller, fip_id: str, changes: dict[str, Any]
    ) -> models.FloatingIP:
        async with self.ctx.db.session() as session:
            fip = await visible_fip(session, caller, fip_id)
            before = (fip.port_id, fip.fixed_ip_address, fip.description)
            if "port_id" in changes:
                await self._associate(
                    session, caller, fip, changes["port_id"], changes.get("fixed_ip_address")
                )
            elif changes.get("fixed_ip_address") is not None and fip.port_id:
                await self._associate(
                    session, caller, fip, fip.port_id, changes["fixed_ip_address"]
                )
            if "description" in changes:
                fip.description = changes["description"]
            if before != (fip.port_id, fip.fixed_ip_address, fip.description):
                touch(fip)
        await self.ctx.changed()
        return fip

    async def delete(self, caller: Caller, fip_id: str) -> None:
        async with self.ctx.db.session() as session:
            fip = await visible_fip(session, caller, fip_id)
            port = await session.get(models.Port, fip.floating_port_id)
            await drop_tags(session, fip.id)
            await session.delete(fip)
            await session.flush()
            if port is not None:
                await Ports.delete_in(session, port)
        await self.ctx.changed()

    # Port forwardings -------------------------------------------------------------------

    async def create_forwarding(
        self, caller: Caller, fip_id: str, body: dict[str, Any]
    ) -> models.PortForwarding:
        async with self.ctx.db.session() as session:
            fip = await visible_fip(session, caller, fip_id)
            values = await self._check_forwarding(session, caller, fip, body)
            if fip.port_id:
                raise nerr.Conflict(
                    reason=f"Floating IP {fip.id} is associated with port {fip.port_id}; "
                    "it cannot have port forwardings"
                )
            clash = await session.scalar(
                select(models.PortForwarding.id).where(
                    models.PortForwarding.floatingip_id == fip.id,
                    models.PortForwarding.protocol == values["protocol"],
                    models.PortForwarding.external_port == values["external_port"],
                )
            )
            if clash is not None:
                raise nerr.Conflict(
                    reason=f"A duplicate port forwarding entry with same attributes already "
                    f"exists, conflicting values are {{'floatingip_id': '{fip.id}', "
                    f"'external_port': {values['external_port']}, "
                    f"'protocol': '{values['protocol']}'}}"
                )
            row = models.PortForwarding(id=models.uuid_str(), floatingip_id=fip.id, **values)
            session.add(row)
            touch(fip)
            await session.flush()
        await self.ctx.changed()
        return row

    async def _check_forwarding(
        self, session: AsyncSession, caller: Caller, fip: models.FloatingIP, body: dict[str, Any]
    ) -> dict[str, Any]:
        protocol = str(body.get("protocol", "")).lower()
        if protocol not in ("tcp", "udp"):
            raise nerr.InvalidInput(reason=f"'{protocol}' is not in ['tcp', 'udp']")
        values: dict[str, Any] = {"protocol": protocol}
        for key in ("internal_port", "external_port"):
            try:
                number = int(body[key])
            except (KeyError, TypeError, ValueError):
                raise nerr.InvalidInput(reason=f"{key} must be a port number") from None
            if not 1 <= number <= 65535:
                raise nerr.InvalidInput(reason=f"Invalid port '{number}'")
            values[key] = number
        port = await visible_port(session, caller, str(body.get("internal_port_id")))
        # As for association: the owner of a network sees every port on it, but its floating
        # IP may lead only to its own ports, never to another project's on that network.
        if not caller.is_admin and port.project_id != fip.project_id:
            raise nerr.PortNotFound(id=port.id)
        ip = body.get("internal_ip_address")
        addresses = [a for a in port.fixed_ips if ipaddress.ip_address(a.ip_address).version == 4]
        chosen = next((a for a in addresses if a.ip_address == ip), None)
        if chosen is None:
            raise nerr.BadRequest(
                resource="port_forwarding",
                msg=f"The IP address {ip} is not a fixed IPv4 address of port {port.id}",
            )
        if await find_router(session, fip.floating_network_id, chosen.subnet_id) is None:
            raise nerr.ExternalGatewayForFloatingIPNotFound(
                external_network_id=fip.floating_network_id,
                subnet_id=chosen.subnet_id,
                port_id=port.id,
            )
        values["internal_port_id"] = port.id
        values["internal_ip_address"] = chosen.ip_address
        values["description"] = body.get("description", "")
        return values

    async def get_forwarding(
        self, caller: Caller, fip_id: str, pf_id: str
    ) -> models.PortForwarding:
        async with self.ctx.db.session() as session:
            await visible_fip(session, caller, fip_id)
            row = await session.get(models.PortForwarding, pf_id)
            if row is None or row.floatingip_id != fip_id:
                raise nerr.PortForwardingNotFound(id=pf_id)
            return row

    async def list_forwardings(self, caller: Caller, fip_id: str) -> list[models.PortForwarding]:
        async with self.ctx.db.session() as session:
            await visible_fip(session, caller, fip_id)
            rows = await session.scalars(
                select(models.PortForwarding)
                .where(models.PortForwarding.floatingip_id == fip_id)
                .order_by(models.PortForwarding.created_at)
            )
            return list(rows)

    async def update_forwarding(
        self, caller: Caller, fip_id: str, pf_id: str, changes: dict[str, Any]
    ) -> models.PortForwarding:
        async with self.ctx.db.session() as session:
            fip = await visible_fip(session, caller, fip_id)
            row = await session.get(models.PortForwarding, pf_id)
            if row is None or row.floatingip_id != fip_id:
                raise nerr.PortForwardingNotFound(id=pf_id)
            merged = {
                "protocol": row.protocol,
                "internal_port": row.internal_port,
                "external_port": row.external_port,
                "internal_port_id": row.internal_port_id,
                "internal_ip_address": row.internal_ip_address,
                "description": row.description,
                **changes,
            }
            values = await self._check_forwarding(session, caller, fip, merged)
            for key, value in values.items():
                setattr(row, key, value)
            touch(row)
        await self.ctx.changed()
        return row

    async def delete_forwarding(self, caller: Caller, fip_id: str, pf_id: str) -> None:
        async with self.ctx.db.session() as session:
            await visible_fip(session, caller, fip_id)
            row = await session.get(models.PortForwarding, pf_id)
            if row is None or row.floatingip_id != fip_id:
                raise nerr.PortForwardingNotFound(id=pf_id)
            await session.delete(row)
        await self.ctx.changed()
