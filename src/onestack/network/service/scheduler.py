"""The DHCP and L3 agent schedulers (Neutron's ``dhcp_agent_scheduler`` and
``l3_agent_scheduler``): which hosts' agents serve a network's DHCP and which a router.

By default a network is hosted by the DHCP agent of the host its DHCP port is bound to, and a
router that has a gateway or an interface by the L3 agent of the host that serves every router
(the main host); an administrator adds a network or router to an agent, or takes it off one,
and that choice is kept per agent (``AgentHosting``). A router given to an agent is that
agent's alone (one L3 agent per router, as Neutron's legacy routers). The choice is the data
plane's too: ``hosting_hosts`` is what the API shows and where ``hoststate`` builds routers
and runs dnsmasq, so a router taken off every agent loses its namespace (no forwarding, its
ports and floating IPs DOWN) until it is given to one again."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from onestack.network import errors as nerr
from onestack.network import models
from onestack.network.service.base import NetworkContext, touch
from onestack.network.service.routers import GATEWAY_OWNER, INTERFACE_OWNER
from onestack.network.service.subnets import DHCP_OWNER

DHCP_AGENT = "DHCP agent"
L3_AGENT = "L3 agent"
KINDS = {"dhcp": DHCP_AGENT, "l3": L3_AGENT}


async def _default_hosts(
    session: AsyncSession, kind: str, main_host: str, resource_ids: list[str] | None
) -> dict[str, set[str]]:
    """Resource id -> the hosts that serve it by default."""
    out: dict[str, set[str]] = {}
    if kind == "dhcp":
        stmt = select(models.Port.network_id, models.Port.binding_host_id).where(
            models.Port.device_owner == DHCP_OWNER, models.Port.binding_host_id != ""
        )
        if resource_ids is not None:
            stmt = stmt.where(models.Port.network_id.in_(resource_ids))
        for net_id, host in await session.execute(stmt):
            out.setdefault(net_id, set()).add(host)
        return out
    routers = select(models.Port.device_id).where(
        or_(models.Port.device_owner == INTERFACE_OWNER,
            models.Port.device_owner == GATEWAY_OWNER)
    )  # fmt: skip
    if resource_ids is not None:
        routers = routers.where(models.Port.device_id.in_(resource_ids))
    for router_id in await session.scalars(routers):
        out.setdefault(router_id, set()).add(main_host)
    return out


async def hosting_hosts(
    session: AsyncSession, kind: str, main_host: str, resource_ids: list[str] | None = None
) -> dict[str, set[str]]:
    """Resource id -> the hosts whose agent of ``kind`` hosts it, for every resource that has
    a default host or a choice (an empty set: taken off every agent). A router some agent was
    given is hosted by those agents only; a network keeps its default host beside them."""
    hosts = {
        a.id: a.host
        for a in await session.scalars(
            select(models.Agent).where(models.Agent.agent_type == KINDS[kind])
        )
    }
    out = await _default_hosts(session, kind, main_host, resource_ids)
    stmt = select(models.AgentHosting).where(models.AgentHosting.kind == kind)
    if resource_ids is not None:
        stmt = stmt.where(models.AgentHosting.resource_id.in_(resource_ids))
    choices = [c for c in await session.scalars(stmt) if c.agent_id in hosts]
    given = {c.resource_id for c in choices if c.hosted} if kind == "l3" else set()
    for resource_id in given:
        out[resource_id] = set()
    for c in choices:
        served = out.setdefault(c.resource_id, set())
        if c.hosted:
            served.add(hosts[c.agent_id])
        else:
            served.discard(hosts[c.agent_id])
    return out


class Scheduler:
    def __init__(self, ctx: NetworkContext) -> None:
        self.ctx = ctx

    async def _agent(self, session: AsyncSession, agent_id: str, kind: str) -> models.Agent:
        row = await session.get(models.Agent, agent_id)
        if row is None:
            raise nerr.AgentNotFound(id=agent_id)
        if row.agent_type != KINDS[kind] or not row.admin_state_up:
            if kind == "dhcp":
                raise nerr.InvalidDHCPAgent(id=agent_id)
            raise nerr.InvalidL3Agent(id=agent_id)
        return row

    async def _hosting(
        self, session: AsyncSession, kind: str, resource_ids: list[str] | None = None,
        agent_id: str | None = None,
    ) -> set[tuple[str, str]]:  # fmt: skip
        """(resource id, agent id) of every hosting, defaults and choices together."""
        agents = await session.scalars(
            select(models.Agent).where(models.Agent.agent_type == KINDS[kind])
        )
        by_host: dict[str, str] = {a.host: a.id for a in agents}
        served = await hosting_hosts(session, kind, self.ctx.host, resource_ids)
        pairs = {(r, by_host[h]) for r, hosts in served.items() for h in hosts if h in by_host}
        if agent_id is not None:
            pairs = {p for p in pairs if p[1] == agent_id}
        return pairs

    async def resources_of_agent(self, kind: str, agent_id: str) -> list[str]:
        async with self.ctx.db.session() as session:
            await self._agent(session, agent_id, kind)
            return sorted(r for r, _ in await self._hosting(session, kind, agent_id=agent_id))

    async def agents_of(self, kind: str, resource_id: str) -> list[models.Agent]:
        async with self.ctx.db.session() as session:
            ids = {a for _, a in await self._hosting(session, kind, [resource_id])}
            if not ids:
                return []
            return list(
                await session.scalars(
                    select(models.Agent).where(models.Agent.id.in_(ids)).order_by(models.Agent.host)
                )
            )

    async def add(self, kind: str, agent_id: str, resource_id: str) -> None:
        async with self.ctx.db.session() as session:
            await self._agent(session, agent_id, kind)
            hosting = await self._hosting(session, kind, [resource_id])
            if kind == "dhcp" and (resource_id, agent_id) in hosting:
                raise nerr.NetworkHostedByDHCPAgent(network_id=resource_id, agent_id=agent_id)
            if kind == "l3" and hosting:
                # One L3 agent per router (no HA routers here), as Neutron's legacy routers.
                raise nerr.RouterHostedByL3Agent(
                    router_id=resource_id, agent_id=sorted(hosting)[0][1]
                )
            await self._choose(session, kind, resource_id, agent_id, True)
            if kind == "l3":
                await _set_floating_ip_statuses(session, resource_id, "ACTIVE")
        await self.ctx.changed()

    async def remove(self, kind: str, agent_id: str, resource_id: str) -> None:
        async with self.ctx.db.session() as session:
            await session.get(models.Agent, agent_id) or self._missing(agent_id)
            if (resource_id, agent_id) not in await self._hosting(session, kind, [resource_id]):
                if kind == "dhcp":
                    raise nerr.NetworkNotHostedByDhcpAgent(
                        network_id=resource_id, agent_id=agent_id
                    )
                raise nerr.RouterNotHostedByL3Agent(router_id=resource_id, agent_id=agent_id)
            await self._choose(session, kind, resource_id, agent_id, False)
            await session.flush()
            if not await self._hosting(session, kind, [resource_id]):
                await _unserved(session, kind, resource_id)
        await self.ctx.changed()

    @staticmethod
    def _missing(agent_id: str) -> Any:
        raise nerr.AgentNotFound(id=agent_id)

    @staticmethod
    async def _choose(
        session: AsyncSession, kind: str, resource_id: str, agent_id: str, hosted: bool
    ) -> None:
        await session.execute(
            delete(models.AgentHosting).where(
                models.AgentHosting.kind == kind,
                models.AgentHosting.resource_id == resource_id,
                models.AgentHosting.agent_id == agent_id,
            )
        )
        session.add(models.AgentHosting(
            kind=kind, resource_id=resource_id, agent_id=agent_id, hosted=hosted
        ))  # fmt: skip


async def _unserved(session: AsyncSession, kind: str, resource_id: str) -> None:
    """What no agent serves any more is DOWN, as Neutron's agents report it once they unplug
    it: the router's ports and floating IPs, or the network's DHCP port. The agent that
    serves it again reports its ports ACTIVE."""
    if kind == "dhcp":
        stmt = select(models.Port).where(
            models.Port.network_id == resource_id, models.Port.device_owner == DHCP_OWNER
        )
    else:
        stmt = select(models.Port).where(
            models.Port.device_id == resource_id,
            or_(models.Port.device_owner == INTERFACE_OWNER,
                models.Port.device_owner == GATEWAY_OWNER),
        )  # fmt: skip
        await _set_floating_ip_statuses(session, resource_id, "DOWN")
    for port in await session.scalars(stmt):
        if port.status != "DOWN":
            port.status = "DOWN"
            touch(port)


async def _set_floating_ip_statuses(session: AsyncSession, router_id: str, status: str) -> None:
    """The router's associated floating IPs: ACTIVE while an agent serves it, else DOWN."""
    for fip in await session.scalars(
        select(models.FloatingIP).where(
            models.FloatingIP.router_id == router_id, models.FloatingIP.port_id.is_not(None)
        )
    ):
        if fip.status != status:
            fip.status = status
            touch(fip)
