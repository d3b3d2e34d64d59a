"""The engines' service records (Heat's ``service`` table and ``service_manage_report``):
each engine reports at its heartbeat; ``GET /services`` lists them, an engine silent for
two report intervals ``down``."""

from __future__ import annotations

import socket
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from onestack.common.db import Database, utcnow
from onestack.orchestration.models import EngineService

BINARY, TOPIC = "heat-engine", "engine"


async def report(db: Database, engine_id: str, interval: float) -> None:
    """The engine's record made (its first report: records an earlier engine left stale
    are removed, as Heat's service_manage_cleanup does) or its ``updated_at`` moved on."""
    now = utcnow()
    async with db.session() as s:
        moved = await s.execute(
            update(EngineService)
            .where(EngineService.engine_id == engine_id, EngineService.deleted_at.is_(None))
            .values(updated_at=now)
        )
        if getattr(moved, "rowcount", 0):
            return
        stale = now - timedelta(seconds=2 * interval)
        for row in await s.scalars(select(EngineService).where(EngineService.deleted_at.is_(None))):
            if (row.updated_at or row.created_at) < stale:
                row.deleted_at = now
        host = socket.gethostname()
        s.add(EngineService(
            id=str(uuid.uuid4()), engine_id=engine_id, host=host, hostname=host, binary=BINARY,
            topic=TOPIC, report_interval=max(1, round(interval)), created_at=now, updated_at=now,
        ))  # fmt: skip


async def retire(db: Database, engine_id: str) -> None:
    """The engine stops: its record goes (Heat's engine deletes its service on stop)."""
    async with db.session() as s:
        await s.execute(
            update(EngineService)
            .where(EngineService.engine_id == engine_id, EngineService.deleted_at.is_(None))
            .values(deleted_at=utcnow())
        )


async def listing(db: Database) -> list[dict[str, Any]]:
    async with db.session() as s:
        rows = await s.scalars(
            select(EngineService)
            .where(EngineService.deleted_at.is_(None))
            .order_by(EngineService.created_at)
        )
        return [view(r) for r in rows]


def _iso(when: datetime | None) -> str | None:
    # Heat's JSON serializer: datetime.isoformat() of its naive UTC datetimes.
    return when.replace(tzinfo=None).isoformat() if when is not None else None


def view(row: EngineService) -> dict[str, Any]:
    """Heat's format_service. Up: reported within two intervals (Heat allows one, which
    a report a moment late turns into a flap)."""
    last = row.updated_at or row.created_at
    up = (utcnow() - last).total_seconds() <= 2 * row.report_interval
    return {
        "id": row.id, "host": row.host, "hostname": row.hostname, "binary": row.binary,
        "topic": row.topic, "engine_id": row.engine_id, "report_interval": row.report_interval,
        "created_at": _iso(row.created_at), "updated_at": _iso(row.updated_at),
        "deleted_at": _iso(row.deleted_at), "status": "up" if up else "down",
    }  # fmt: skip
