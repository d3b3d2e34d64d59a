"""os-simple-tenant-usage: server-hours and the resource-hours they held over a period,
from every server row, deleted ones included."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import Text, cast, or_, select

from onestack.common import errors
from onestack.common.db import json_loads, utcnow
from onestack.compute import models
from onestack.compute.service.base import ComputeContext


@dataclass
class TenantUsage:
    tenant_id: str
    start: datetime
    stop: datetime
    total_hours: float = 0.0
    total_local_gb_usage: float = 0.0
    total_memory_mb_usage: float = 0.0
    total_vcpus_usage: float = 0.0
    server_usages: list[dict[str, Any]] = field(default_factory=list)


def naive(when: datetime) -> datetime:
    return when.astimezone(UTC).replace(tzinfo=None) if when.tzinfo is not None else when


class Counted(NamedTuple):
    """What a report reads of a server: plain columns (not the whole row as an object, whose
    dozen JSON columns were decoded for each of 1,000 servers), the flavor decoded once per
    distinct text (a project's servers mostly share a handful of flavors)."""

    uuid: str
    display_name: str
    project_id: str
    vm_state: str
    launched_at: datetime | None
    terminated_at: datetime | None
    created_at: datetime
    flavor: dict[str, Any]


_COLUMNS = (
    models.Instance.uuid,
    models.Instance.display_name,
    models.Instance.project_id,
    models.Instance.vm_state,
    models.Instance.launched_at,
    models.Instance.terminated_at,
    models.Instance.created_at,
    cast(models.Instance.flavor, Text),
)


def hours_in(row: Counted, start: datetime, stop: datetime) -> float:
    """Hours the server ran within [start, stop] (Nova's ``_hours_for``)."""
    if row.terminated_at is not None and row.terminated_at < start:
        return 0.0
    if row.launched_at is None or row.launched_at > stop:
        return 0.0
    begin = max(row.launched_at, start)
    end = min(row.terminated_at, stop) if row.terminated_at is not None else stop
    return max((end - begin).total_seconds(), 0.0) / 3600.0


class Usage:
    def __init__(self, context: ComputeContext) -> None:
        self.context = context

    async def instances(
        self,
        start: datetime,
        stop: datetime,
        project_id: str | None = None,
        limit: int | None = None,
        marker: str | None = None,
    ) -> list[Counted]:
        """Servers alive at some point in the period: launched before its end, not
        terminated before its start (Nova's ``get_active_by_window_joined``)."""
        stmt = (
            select(*_COLUMNS)
            .where(
                or_(models.Instance.terminated_at.is_(None), models.Instance.terminated_at > start),
                models.Instance.launched_at < stop,
            )
            .order_by(models.Instance.created_at, models.Instance.id)
        )
        if project_id is not None:
            stmt = stmt.where(models.Instance.project_id == project_id)
        async with self.context.db.session() as s:
            if marker is not None:
                mrow = await s.scalar(select(models.Instance).where(models.Instance.uuid == marker))
                if mrow is None:
                    raise errors.BadRequest(f"marker [{marker}] not found")
                stmt = stmt.where(
                    or_(
                        models.Instance.created_at > mrow.created_at,
                        (models.Instance.created_at == mrow.created_at)
                        & (models.Instance.id > mrow.id),
                    )
                )
            if limit is not None:
                stmt = stmt.limit(limit)
            result = await s.execute(stmt)
        decoded: dict[str | None, dict[str, Any]] = {}
        out = []
        for row in result:
            text = row[-1]
            flavor = decoded.get(text)
            if flavor is None:
                flavor = decoded[text] = json_loads(text) if text else {}
            out.append(Counted._make((*row[:-1], flavor)))
        return out

    async def report(
        self,
        start: datetime,
        stop: datetime,
        project_id: str | None = None,
        limit: int | None = None,
        marker: str | None = None,
    ) -> tuple[list[TenantUsage], str | None]:
        """Per-project usage over the period, and the uuid of the last server counted (the
        next page's marker when ``limit`` servers were read). Times are naive UTC, as stored;
        aware ones are converted."""
        start, stop = naive(start), naive(stop)
        rows = await self.instances(start, stop, project_id, limit, marker)
        now = utcnow()
        out: dict[str, TenantUsage] = {}
        for row in rows:
            flavor = row.flavor
            hours = hours_in(row, start, stop)
            ended = row.terminated_at
            state = "terminated" if ended is not None else row.vm_state
            started = row.launched_at or row.created_at
            uptime = int(((ended or now) - started).total_seconds())
            vcpus = int(flavor.get("vcpus", 0))
            memory_mb = int(flavor.get("memory_mb", 0))
            local_gb = int(flavor.get("root_gb", 0)) + int(flavor.get("ephemeral_gb", 0))
            usage = out.setdefault(row.project_id, TenantUsage(row.project_id, start, stop))
            usage.server_usages.append(
                {
                    "instance_id": row.uuid,
                    "name": row.display_name,
                    "hours": hours,
                    "memory_mb": memory_mb,
                    "local_gb": local_gb,
                    "vcpus": vcpus,
                    "tenant_id": row.project_id,
                    "flavor": str(flavor.get("name", "")),
                    "started_at": started,
                    "ended_at": ended,
                    "state": state,
                    "uptime": uptime,
                }
            )
            usage.total_hours += hours
            usage.total_memory_mb_usage += memory_mb * hours
            usage.total_local_gb_usage += local_gb * hours
            usage.total_vcpus_usage += vcpus * hours
        last = rows[-1].uuid if rows and limit is not None and len(rows) >= limit else None
        return list(out.values()), last
