"""Neutron's auto-allocated-topology (get-me-a-network): on a project's first request, a
network, a subnet from the default subnet pool and a router with its gateway on the default
external network and an interface on that subnet; later requests return the same network.

Concurrent first requests build once: a row keyed by the project is inserted (without a
network) before anything is built, and the requests that lose that insert wait for the
winner's network. A builder that fails removes what it made and its claim; a claim left by
a process that died mid-build is taken over once it is older than ``STALE``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select

from onestack.common import errors
from onestack.common.db import utcnow
from onestack.network import errors as nerr
from onestack.network import models
from onestack.network.service.base import ADMIN, NetworkContext
from onestack.network.service.networks import Networks
from onestack.network.service.routers import Routers
from onestack.network.service.subnetpools import default_subnetpool
from onestack.network.service.subnets import Subnets

log = logging.getLogger(__name__)

DRY_RUN = "dry-run"
STALE = timedelta(seconds=120)  # longer than any build; a claim this old lost its builder
WAIT = 60.0  # how long a concurrent request waits for the builder's network (seconds)
NAMES = {"network": "auto_allocated_network", "router": "auto_allocated_router"}


class AutoAllocationFailure(errors.Conflict):
    template = "Deployment error: {reason}."


class AutoAllocation:
    def __init__(
        self, ctx: NetworkContext, networks: Networks, subnets: Subnets, routers: Routers
    ) -> None:
        self.ctx = ctx
        self.networks = networks
        self.subnets = subnets
        self.routers = routers

    async def requirements(self) -> tuple[str, dict[int, str]]:
        """The default external network and the default pool of each family; Neutron's
        409 when one of them is missing."""
        async with self.ctx.db.session() as session:
            external = await session.scalar(
                select(models.Network.id)
                .where(models.Network.external.is_(True), models.Network.is_default.is_(True))
                .order_by(models.Network.created_at)
            )
            pools = {v: await default_subnetpool(session, v) for v in (4, 6)}
        if external is None:
            raise AutoAllocationFailure(reason="No default router:external network")
        found = {v: p for v, p in pools.items() if p}
        if not found:
            raise AutoAllocationFailure(reason="No default subnetpools defined")
        return external, found

    async def network_of(self, project_id: str) -> str | None:
        async with self.ctx.db.session() as session:
            row = await session.get(models.AutoAllocatedTopology, project_id)
            return None if row is None else row.network_id

    async def get(self, project_id: str) -> str:
        """The project's auto-allocated network, built on the first call."""
        deadline = asyncio.get_running_loop().time() + WAIT
        while True:
            async with self.ctx.db.session() as session:
                row = await session.get(models.AutoAllocatedTopology, project_id)
                if row is not None and row.network_id:
                    return row.network_id
                if row is not None and utcnow() - row.created_at > STALE:
                    log.warning("taking over the stale auto-allocation of %s", project_id)
                    await session.delete(row)
                    row = None
            if row is None:
                external, pools = await self.requirements()
                if await self._claim(project_id):
                    return await self._build(project_id, external, pools)
            if asyncio.get_running_loop().time() > deadline:
                raise AutoAllocationFailure(
                    reason=f"Unable to provide tenant private network for {project_id}"
                )
            await asyncio.sleep(0.1)

    async def _claim(self, project_id: str) -> bool:
        try:
            async with self.ctx.db.session() as session:
                session.add(models.AutoAllocatedTopology(project_id=project_id))
        except errors.Conflict:
            return False  # another request builds it
        return True

    async def _build(self, project_id: str, external: str, pools: dict[int, str]) -> str:
        made: dict[str, str] = {}
        try:
            net = await self.networks.create(
                ADMIN, {"name": NAMES["network"], "project_id": project_id}
            )
            made["network"] = net.id
            subnets = [
                await self.subnets.create(
                    ADMIN,
                    {
                        "name": f"auto_allocated_subnet_v{version}",
                        "network_id": net.id,
                        "project_id": project_id,
                        "ip_version": version,
                        "subnetpool_id": pool_id,
                        **({"ipv6_ra_mode": "slaac", "ipv6_address_mode": "slaac"}
                           if version == 6 else {}),
                    },
                )
                for version, pool_id in sorted(pools.items())
            ]  # fmt: skip
            router = await self.routers.create(
                ADMIN,
                {
                    "name": NAMES["router"],
                    "project_id": project_id,
                    "external_gateway_info": {"network_id": external},
                },
            )
            made["router"] = router.id
            for subnet in subnets:
                await self.routers.add_interface(ADMIN, router.id, {"subnet_id": subnet.id})
            async with self.ctx.db.session() as session:
                row = await session.get(models.AutoAllocatedTopology, project_id)
                if row is None:
                    raise nerr.Conflict(reason="the auto-allocation claim was taken over")
                row.network_id, row.router_id = net.id, router.id
            return net.id
        except BaseException as exc:
            await asyncio.shield(self._undo(project_id, made))
            if isinstance(exc, errors.OneStackError) and not isinstance(exc, errors.Conflict):
                raise AutoAllocationFailure(
                    reason=f"Unable to provide tenant private network: {exc}"
                ) from exc
            raise

    async def _undo(self, project_id: str, made: dict[str, str]) -> None:
        try:
            await self._cleanup(made.get("network"), made.get("router"))
        finally:
            async with self.ctx.db.session() as session:
                await session.execute(
                    delete(models.AutoAllocatedTopology).where(
                        models.AutoAllocatedTopology.project_id == project_id,
                        models.AutoAllocatedTopology.network_id.is_(None),
                    )
                )

    async def delete(self, project_id: str) -> None:
        """Remove the project's topology (router, interfaces, subnets, network); nothing to
        remove is no error (Neutron's 204)."""
        async with self.ctx.db.session() as session:
            row = await session.get(models.AutoAllocatedTopology, project_id)
            if row is None or not row.network_id:
                return
            network_id, router_id = row.network_id, row.router_id
        await self._cleanup(network_id, router_id)
        async with self.ctx.db.session() as session:
            await session.execute(
                delete(models.AutoAllocatedTopology).where(
                    models.AutoAllocatedTopology.project_id == project_id
                )
            )

    async def _cleanup(self, network_id: str | None, router_id: str | None) -> None:
        if router_id:
            if network_id:
                async with self.ctx.db.session() as session:
                    subnet_ids = list(
                        await session.scalars(
                            select(models.Subnet.id).where(models.Subnet.network_id == network_id)
                        )
                    )
                for subnet_id in subnet_ids:
                    with contextlib.suppress(errors.NotFound):
                        await self.routers.remove_interface(
                            ADMIN, router_id, {"subnet_id": subnet_id}
                        )
            with contextlib.suppress(errors.NotFound):
                await self.routers.delete(ADMIN, router_id)
        if network_id:
            with contextlib.suppress(errors.NotFound):
                await self.networks.delete(ADMIN, network_id)


def response(project_id: str, network_id: str) -> dict[str, Any]:
    return {"id": network_id, "tenant_id": project_id, "project_id": project_id}
