"""The network service layer: the one object other services and the agent call.

Handlers call the resource managers (``svc.networks``, ``svc.ports``, ...) and the generic
``list``/``show``; the agent calls ``host_state``, ``set_port_statuses``, ``report_agent``;
compute calls ``bind_port``/``unbind_port`` and ``device_addresses``; the metadata proxy
calls ``port_for_address``.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import lazyload
from sqlalchemy.orm.exc import StaleDataError

from onestack.common import errors
from onestack.common.bus import Bus
from onestack.common.db import Database
from onestack.config import NetworkSettings
from onestack.network import errors as nerr
from onestack.network import models
from onestack.network.drivers.base import HostState, Port, PortStatus
from onestack.network.service import hoststate, views
from onestack.network.service.agents import Agents
from onestack.network.service.autoallocate import AutoAllocation
from onestack.network.service.base import ADMIN, Caller, NetworkContext, retrying, touch
from onestack.network.service.flavors import (
    FlavorNotFound,
    Flavors,
    ServiceProfileNotFound,
)
from onestack.network.service.floatingips import FloatingIPs
from onestack.network.service.listable import RESOURCES
from onestack.network.service.metering import Metering
from onestack.network.service.networks import Networks
from onestack.network.service.ports import Ports
from onestack.network.service.qos import QosPolicies
from onestack.network.service.query import ListQuery, Page, list_rows
from onestack.network.service.quotas import Quotas
from onestack.network.service.rbac import RBAC
from onestack.network.service.routers import Routers
from onestack.network.service.scheduler import Scheduler
from onestack.network.service.secgroups import SecurityGroups
from onestack.network.service.subnetpools import AddressScopes, SubnetPools
from onestack.network.service.subnets import Subnets
from onestack.network.service.tags import Tags
from onestack.network.service.trunks import TrunkNotFound, Trunks

__all__ = ["ADMIN", "Caller", "ListQuery", "NetworkService", "Page"]

# Port statuses the agent reports, and the VIF type each leaves on the binding.
_VIF_TYPES = {"ACTIVE": "bridge", "DOWN": "bridge", "BUILD": "bridge", "ERROR": "binding_failed"}

NOT_FOUND = {
    "networks": nerr.NetworkNotFound,
    "subnets": nerr.SubnetNotFound,
    "ports": nerr.PortNotFound,
    "routers": nerr.RouterNotFound,
    "floatingips": nerr.FloatingIPNotFound,
    "security-groups": nerr.SecurityGroupNotFound,
    "security-group-rules": nerr.SecurityGroupRuleNotFound,
    "address-scopes": nerr.AddressScopeNotFound,
    "subnetpools": nerr.SubnetPoolNotFound,
    "agents": nerr.AgentNotFound,
    "metering/metering-labels": nerr.MeteringLabelNotFound,
    "metering/metering-label-rules": nerr.MeteringLabelRuleNotFound,
    "flavors": FlavorNotFound,
    "service_profiles": ServiceProfileNotFound,
    "trunks": TrunkNotFound,
    "qos/policies": nerr.QosPolicyNotFound,
}


PORT_STATUS_TOPIC = "network.port_status"


class NetworkService:
    def __init__(self, db: Database, bus: Bus, settings: NetworkSettings, host: str) -> None:
        self.ctx = NetworkContext(db, bus, settings, host)
        self.db = db
        self.host = host
        self.networks = Networks(self.ctx)
        self.subnets = Subnets(self.ctx)
        self.ports = Ports(self.ctx)
        self.security_groups = SecurityGroups(self.ctx)
        self.routers = Routers(self.ctx, self.ports)
        self.floating_ips = FloatingIPs(self.ctx, self.ports)
        self.rbac = RBAC(self.ctx)
        self.address_scopes = AddressScopes(self.ctx)
        self.metering = Metering(self.ctx)
        self.subnet_pools = SubnetPools(self.ctx, self.address_scopes)
        self.quotas = Quotas(self.ctx)
        self.agents = Agents(self.ctx)
        self.tags = Tags(self.ctx)
        self.flavors = Flavors(self.ctx)
        self.trunks = Trunks(self.ctx)
        self.auto_allocation = AutoAllocation(self.ctx, self.networks, self.subnets, self.routers)
        self.qos = QosPolicies(self.ctx)
        self.scheduler = Scheduler(self.ctx)

    # Generic reads ----------------------------------------------------------------------

    async def list_page(
        self, collection: str, caller: Caller, query: ListQuery
    ) -> tuple[list[dict[str, Any]], Page]:
        res = RESOURCES[collection]
        async with self.db.session() as session:
            page = await list_rows(session, res.kind, query, res.visible(caller))
            return await res.render(session, page.rows, caller), page

    async def show(self, collection: str, caller: Caller, ident: str) -> dict[str, Any]:
        res = RESOURCES[collection]
        async with self.db.session() as session:
            stmt = select(res.kind.model).where(res.kind.model.id == ident)
            if res.kind.model is models.Port:
                # The port view reads addresses and groups in bulk itself: the relationships'
                # selectin loads were two more queries on every port create and show (#19).
                stmt = stmt.options(
                    lazyload(models.Port.fixed_ips), lazyload(models.Port.security_group_bindings)
                )
            visible = res.visible(caller)
            if visible is not None:
                stmt = stmt.where(visible)
            row = await session.scalar(stmt)
            if row is None:
                if collection == "rbac-policies":
                    raise nerr.RbacPolicyNotFound(type="network", id=ident)
                if collection == "trunks":
                    raise TrunkNotFound(trunk_id=ident)
                raise NOT_FOUND[collection](id=ident)
            return (await res.render(session, [row], caller))[0]

    async def render(self, collection: str, caller: Caller, row: Any) -> dict[str, Any]:
        """The dictionary of a row a write returned (re-read for its related attributes)."""
        return await self.show(collection, ADMIN if caller.is_admin else caller, row.id)

    # Writes that may race on unique keys ------------------------------------------------

    async def run(self, fn: Any, *args: Any) -> Any:
        """Call a manager method, retrying the transaction on a concurrent-insert collision."""
        return await retrying(lambda: fn(*args))

    # The agent's contract ---------------------------------------------------------------

    async def host_state(self, host: str) -> HostState:
        async with self.db.session() as session:
            return await hoststate.build(session, host, main_host=self.host)

    async def host_state_with(
        self, last: HostState, created_ports: Collection[str]
    ) -> HostState | None:
        """``last`` with the new ports ``created_ports`` added; None when the host's whole
        state must be read again (see ``hoststate.with_new_ports``)."""
        async with self.db.session() as session:
            return await hoststate.with_new_ports(session, last, created_ports)

    async def set_port_statuses(self, host: str, statuses: list[PortStatus]) -> None:
        if not statuses:
            return
        for attempt in range(3):
            try:
                changed = await self._apply_port_statuses(statuses)
                break
            except StaleDataError:
                # A port was deleted between our read and our write: a deleted port is not
                # an error; read again (it is gone now) and apply the rest.
                if attempt == 2:
                    return
        if changed:
            # Nova's network-vif-plugged: compute waits for its ports on this event.
            await self.ctx.bus.publish(PORT_STATUS_TOPIC, "port.status", {"ports": changed})

    async def _apply_port_statuses(self, statuses: list[PortStatus]) -> dict[str, str]:
        changed: dict[str, str] = {}
        async with self.db.session() as session:
            wanted = {s.port_id: s for s in statuses}
            # Status and binding only: the addresses' and groups' selectin loads were two more
            # queries between a port's plug and the compute agent's wake-up (#19).
            rows = await session.scalars(
                select(models.Port)
                .where(models.Port.id.in_(list(wanted)))
                .options(
                    lazyload(models.Port.fixed_ips), lazyload(models.Port.security_group_bindings)
                )
            )
            for port in rows:
                status = wanted[port.id].status
                vif = _VIF_TYPES.get(status, port.binding_vif_type)
                if port.device_owner.startswith("network:") and status == "DOWN":
                    vif = port.binding_vif_type
                devname = wanted[port.id].devname
                details = {"devname": devname} if devname else {}
                if details and details != port.binding_vif_details:
                    port.binding_vif_details = details
                if (port.status, port.binding_vif_type) != (status, vif):
                    port.status = status
                    port.binding_vif_type = vif
                    touch(port)
                    changed[port.id] = status
        return changed

    async def port_for_address(self, network_id: str, ip_address: str) -> Port | None:
        async with self.db.session() as session:
            port_id = await session.scalar(
                select(models.IPAllocation.port_id).where(
                    models.IPAllocation.network_id == network_id,
                    models.IPAllocation.ip_address == ip_address,
                )
            )
            if port_id is None:
                return None
            row = await session.get(models.Port, port_id)
            return None if row is None else hoststate.to_port(row)

    async def report_agent(
        self, host: str, agent_type: str, binary: str, configurations: dict[str, Any]
    ) -> dict[str, Any]:
        row = await self.agents.report(host, agent_type, binary, configurations)
        return views.agent_dict(row, True)

    # Compute's contract -----------------------------------------------------------------

    async def bind_port(
        self, port_id: str, *, host: str, device_id: str, device_owner: str
    ) -> dict[str, Any]:
        """Plug a port into a host for a device (Nova's port update on boot)."""
        async with self.db.session() as session:
            port = await session.get(models.Port, port_id)
            if port is None:
                raise nerr.PortNotFound(id=port_id)
            if port.device_id and port.device_id != device_id:
                raise nerr.PortInUse(
                    port_id=port.id, net_id=port.network_id, device_id=port.device_id
                )
            if (port.binding_host_id, port.device_id, port.device_owner) != (
                host,
                device_id,
                device_owner,
            ):
                if port.binding_host_id != host:
                    port.binding_vif_type = "unbound"
                    port.status = "DOWN"
                port.binding_host_id = host
                port.device_id = device_id
                port.device_owner = device_owner
                touch(port)
            result = views.orm_port_dict(port)
        await self.ctx.changed(host)
        return result

    async def unbind_port(self, port_id: str) -> None:
        """Unplug a port from its host and device (Nova's detach / server delete)."""
        async with self.db.session() as session:
            port = await session.get(models.Port, port_id)
            if port is None:
                return
            host = port.binding_host_id
            port.binding_host_id = ""
            port.device_id = ""
            port.device_owner = ""
            port.binding_vif_type = "unbound"
            port.status = "DOWN"
            touch(port)
        await self.ctx.changed(host)

    async def device_addresses(self, device_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        """What a server's ``addresses`` shows of its ports, for many servers at once: per
        device, its ports (oldest first, by the second, then by id: the order of the port
        list) as ``{"id", "network_id", "network_name", "mac_address", "fixed_ips":
        [{"subnet_id", "ip_address"}], "floating_ips": [{"floating_ip_address"}],
        "security_groups": [names]}``. Three queries per 1,000 devices."""
        ports: dict[str, dict[str, Any]] = {}
        order: dict[str, tuple[datetime, str]] = {}
        P, A, N = models.Port, models.IPAllocation, models.Network
        async with self.db.session() as session:
            for chunk in _chunks(list(device_ids)):
                stmt = (
                    select(P.id, P.device_id, P.network_id, P.mac_address, P.created_at)
                    .add_columns(N.name, A.subnet_id, A.ip_address)
                    .outerjoin(N, N.id == P.network_id)
                    .outerjoin(A, A.port_id == P.id)
                    .where(P.device_id.in_(chunk))
                    .order_by(P.id, A.position)
                )
                for (
                    port_id,
                    device,
                    net_id,
                    mac,
                    created,
                    net_name,
                    subnet,
                    ip,
                ) in await session.execute(stmt):
                    port = ports.get(port_id)
                    if port is None:
                        port = ports[port_id] = {
                            "id": port_id,
                            "device_id": device,
                            "network_id": net_id,
                            "network_name": net_name or net_id,
                            "mac_address": mac,
                            "fixed_ips": [],
                            "floating_ips": [],
                            "security_groups": [],
                        }
                        order[port_id] = (created.replace(microsecond=0), port_id)
                    if ip is not None:
                        port["fixed_ips"].append({"subnet_id": subnet, "ip_address": ip})
            F = models.FloatingIP
            for chunk in _chunks(list(ports)):
                for port_id, address in await session.execute(
                    select(F.port_id, F.floating_ip_address)
                    .where(F.port_id.in_(chunk))
                    .order_by(F.id)
                ):
                    ports[str(port_id)]["floating_ips"].append({"floating_ip_address": address})
                G, PG = models.SecurityGroup, models.PortSecurityGroup
                for port_id, name in await session.execute(
                    select(PG.port_id, G.name)
                    .join(G, G.id == PG.security_group_id)
                    .where(PG.port_id.in_(chunk))
                    .order_by(G.name)
                ):
                    ports[str(port_id)]["security_groups"].append(name)
        out: dict[str, list[dict[str, Any]]] = {}
        for port_id in sorted(ports, key=order.__getitem__):
            port = ports[port_id]
            out.setdefault(port["device_id"], []).append(port)
        return out

    async def vifs(
        self, *, device_id: str | None = None, port_ids: Sequence[str] = ()
    ) -> list[dict[str, Any]]:
        """What a hypervisor plugs of a device's ports (or of ``port_ids``), oldest first:
        ``{"id", "status", "mac_address", "devname", "mtu"}``, ``devname`` None until the host's
        agent has bound the port (as the API's ``binding:vif_details`` shows it). One query: a
        boot waits for these, the API's port view costs several."""
        if device_id is None and not port_ids:
            return []
        P, N = models.Port, models.Network
        stmt = select(
            P.id, P.status, P.mac_address, P.binding_vif_type, P.binding_vif_details, N.mtu
        ).join(N, N.id == P.network_id)
        if device_id is not None:
            stmt = stmt.where(P.device_id == device_id)
        if port_ids:
            stmt = stmt.where(P.id.in_(list(port_ids)))
        async with self.db.session() as session:
            rows = await session.execute(stmt.order_by(P.created_at, P.id))
        return [
            {
                "id": port_id,
                "status": status,
                "mac_address": mac,
                "devname": (details or {}).get("devname") if vif_type == "bridge" else None,
                "mtu": mtu,
            }
            for port_id, status, mac, vif_type, details, mtu in rows
        ]

    # Start-up ---------------------------------------------------------------------------

    async def public_network_id(self, name: str) -> str | None:
        """The external network ``name`` when it exists."""
        async with self.db.session() as session:
            found: str | None = await session.scalar(
                select(models.Network.id).where(
                    models.Network.name == name, models.Network.external.is_(True)
                )
            )
        return found

    async def ensure_public_network(
        self, name: str, cidr: str, physnet: str, project_id: str
    ) -> str:
        """The external flat network ``name`` with one subnet, made once (admin project)."""
        async with self.db.session() as session:
            existing = await session.scalar(
                select(models.Network.id).where(
                    models.Network.name == name, models.Network.external.is_(True)
                )
            )
            if existing is not None:
                return existing
            net = await self.networks.create_in(
                session,
                ADMIN,
                {
                    "name": name,
                    "project_id": project_id,
                    "external": True,
                    "shared": False,
                    "network_type": "flat",
                    "physical_network": physnet,
                    "is_default": True,
                },
            )
            await self.subnets.create_in(
                session,
                ADMIN,
                {
                    "network_id": net.id,
                    "name": f"{name}-subnet",
                    "project_id": net.project_id,
                    "ip_version": 4,
                    "cidr": cidr,
                    "enable_dhcp": False,
                },
            )
            network_id = net.id
        await self.ctx.changed()
        return network_id


def _chunks(items: list[str], size: int = 1000) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def not_found(collection: str, ident: str) -> errors.NotFound:
    return NOT_FOUND[collection](id=ident)
