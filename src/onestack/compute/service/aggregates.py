"""Host aggregates: named sets of hosts with metadata; the ``availability_zone`` key of an
aggregate's metadata puts its hosts in that zone."""

from __future__ import annotations

import builtins
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select

from onestack.common import errors
from onestack.common.db import int_key, utcnow
from onestack.compute import models
from onestack.compute.service.base import ComputeContext

AZ_KEY = "availability_zone"
# Where Nova puts its control services (scheduler, conductor): no aggregate may take it.
INTERNAL_ZONE = "internal"


class AggregateNotFound(errors.NotFound):
    template = "Aggregate {id} could not be found."


@dataclass
class AggregateView:
    id: int
    uuid: str
    name: str
    created_at: datetime
    updated_at: datetime | None
    hosts: list[str] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def availability_zone(self) -> str | None:
        return self.metadata.get(AZ_KEY)


class Aggregates:
    def __init__(self, context: ComputeContext) -> None:
        self.context = context

    async def _views(self, s: Any, rows: list[models.Aggregate]) -> list[AggregateView]:
        ids = [r.id for r in rows]
        hosts: dict[int, list[str]] = {i: [] for i in ids}
        meta: dict[int, dict[str, str]] = {i: {} for i in ids}
        if ids:
            for h in await s.scalars(
                select(models.AggregateHost)
                .where(models.AggregateHost.aggregate_id.in_(ids))
                .order_by(models.AggregateHost.host)
            ):
                hosts[h.aggregate_id].append(h.host)
            for md in await s.scalars(
                select(models.AggregateMetadata).where(
                    models.AggregateMetadata.aggregate_id.in_(ids)
                )
            ):
                meta[md.aggregate_id][md.key] = md.value
        return [
            AggregateView(r.id, r.uuid, r.name, r.created_at, r.updated_at, hosts[r.id], meta[r.id])
            for r in rows
        ]

    async def _row(self, s: Any, aggregate_id: str) -> models.Aggregate:
        key = int_key(aggregate_id)
        if key is None:
            raise AggregateNotFound(id=aggregate_id)
        row = await s.get(models.Aggregate, key)
        if row is None:
            raise AggregateNotFound(id=aggregate_id)
        return row  # type: ignore[no-any-return]

    async def list(self) -> list[AggregateView]:
        async with self.context.db.session() as s:
            rows = list(await s.scalars(select(models.Aggregate).order_by(models.Aggregate.id)))
            return await self._views(s, rows)

    async def get(self, aggregate_id: str) -> AggregateView:
        async with self.context.db.session() as s:
            return (await self._views(s, [await self._row(s, aggregate_id)]))[0]

    async def _check_name(self, s: Any, name: str, but: int | None = None) -> None:
        found = await s.scalar(select(models.Aggregate.id).where(models.Aggregate.name == name))
        if found is not None and found != but:
            raise errors.Conflict(f"Aggregate {name} already exists.")

    async def _zones_of_hosts(self, s: Any, hosts: builtins.list[str], but: int) -> dict[str, str]:
        """The zone each of ``hosts`` has through aggregates other than ``but``."""
        rows = await s.execute(
            select(models.AggregateHost.host, models.AggregateMetadata.value)
            .join(
                models.AggregateMetadata,
                models.AggregateMetadata.aggregate_id == models.AggregateHost.aggregate_id,
            )
            .where(
                models.AggregateHost.host.in_(hosts),
                models.AggregateHost.aggregate_id != but,
                models.AggregateMetadata.key == AZ_KEY,
            )
        )
        return {h: z for h, z in rows}

    async def _check_zone(self, s: Any, aggregate_id: int, zone: str | None) -> None:
        """A host is in one zone: refuse a zone its hosts already have otherwise."""
        if zone is None:
            return
        # Nova takes any zone name for an aggregate, its internal services' zone too.
        hosts = list(
            await s.scalars(
                select(models.AggregateHost.host).where(
                    models.AggregateHost.aggregate_id == aggregate_id
                )
            )
        )
        others = await self._zones_of_hosts(s, hosts, aggregate_id)
        clash = sorted({z for z in others.values() if z != zone})
        if clash:
            raise errors.BadRequest(
                f"Cannot update aggregate {aggregate_id}. Reason: One or more hosts already "
                f"in availability zone(s) {clash}."
            )

    async def create(self, name: str, zone: str | None) -> AggregateView:
        async with self.context.db.session() as s:
            await self._check_name(s, name)
            row = models.Aggregate(uuid=str(uuid.uuid4()), name=name, created_at=utcnow())
            s.add(row)
            await s.flush()
            if zone is not None:
                await self._check_zone(s, row.id, zone)
                s.add(models.AggregateMetadata(aggregate_id=row.id, key=AZ_KEY, value=zone))
            return (await self._views(s, [row]))[0]

    async def update(
        self, aggregate_id: str, name: str | None, zone: str | None, zone_given: bool
    ) -> AggregateView:
        async with self.context.db.session() as s:
            row = await self._row(s, aggregate_id)
            if name is not None:
                await self._check_name(s, name, but=row.id)
                row.name = name
            if zone_given:
                await self._set_metadata(s, row, {AZ_KEY: zone})
            row.updated_at = utcnow()
            return (await self._views(s, [row]))[0]

    async def delete(self, aggregate_id: str) -> None:
        async with self.context.db.session() as s:
            row = await self._row(s, aggregate_id)
            hosts = await s.scalar(
                select(models.AggregateHost.host).where(models.AggregateHost.aggregate_id == row.id)
            )
            if hosts is not None:
                raise errors.BadRequest(
                    f"Cannot remove aggregate {aggregate_id}. Reason: Host aggregate is not empty."
                )
            await s.execute(
                delete(models.AggregateMetadata).where(
                    models.AggregateMetadata.aggregate_id == row.id
                )
            )
            await s.delete(row)

    async def add_host(self, aggregate_id: str, host: str) -> AggregateView:
        async with self.context.db.session() as s:
            row = await self._row(s, aggregate_id)
            known = await s.scalar(
                select(models.Service.id).where(
                    models.Service.host == host, models.Service.binary == "nova-compute"
                )
            )
            if known is None:
                raise errors.NotFound(f"Compute host {host} could not be found.")
            if await s.get(models.AggregateHost, (row.id, host)) is not None:
                raise errors.Conflict(f"Aggregate {aggregate_id} already has host {host}.")
            zone = await s.scalar(
                select(models.AggregateMetadata.value).where(
                    models.AggregateMetadata.aggregate_id == row.id,
                    models.AggregateMetadata.key == AZ_KEY,
                )
            )
            if zone is not None:
                others = await self._zones_of_hosts(s, [host], row.id)
                if others and others[host] != zone:
                    raise errors.Conflict(
                        f"Cannot add host to aggregate {aggregate_id}. Reason: One or more "
                        f"hosts already in availability zone(s) {[others[host]]}."
                    )
            s.add(models.AggregateHost(aggregate_id=row.id, host=host))
            row.updated_at = utcnow()
            await s.flush()
            return (await self._views(s, [row]))[0]

    async def remove_host(self, aggregate_id: str, host: str) -> AggregateView:
        async with self.context.db.session() as s:
            row = await self._row(s, aggregate_id)
            member = await s.get(models.AggregateHost, (row.id, host))
            if member is None:
                raise errors.NotFound(f"Aggregate {aggregate_id} has no host {host}.")
            await s.delete(member)
            row.updated_at = utcnow()
            await s.flush()
            return (await self._views(s, [row]))[0]

    async def _set_metadata(
        self, s: Any, row: models.Aggregate, metadata: dict[str, str | None]
    ) -> None:
        if AZ_KEY in metadata:
            await self._check_zone(s, row.id, metadata[AZ_KEY])
        for key, value in metadata.items():
            existing = await s.get(models.AggregateMetadata, (row.id, key))
            if value is None:
                if existing is not None:
                    await s.delete(existing)
            elif existing is None:
                s.add(models.AggregateMetadata(aggregate_id=row.id, key=key, value=value))
            else:
                existing.value = value
        await s.flush()

    async def set_metadata(
        self, aggregate_id: str, metadata: dict[str, str | None]
    ) -> AggregateView:
        async with self.context.db.session() as s:
            row = await self._row(s, aggregate_id)
            await self._set_metadata(s, row, metadata)
            row.updated_at = utcnow()
            return (await self._views(s, [row]))[0]
