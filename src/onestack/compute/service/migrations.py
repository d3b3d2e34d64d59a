"""``os-migrations``: the record of each move of a server, as Nova keeps it. On one host the
only moves are resizes (to the same host, Nova's ``allow_resize_to_same_host``); their
statuses follow Nova's: ``pre-migrating`` when asked, ``finished`` once the server waits in
VERIFY_RESIZE, then ``confirming``/``confirmed`` or ``reverting``/``reverted``, ``error`` when
the resize failed."""

from __future__ import annotations

import uuid as uuidlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select

from onestack.common import errors
from onestack.common.db import utcnow
from onestack.compute import models
from onestack.compute.service.base import ComputeContext

M = models.Migration
DONE = ("confirmed", "reverted", "error", "failed", "completed", "cancelled", "done")


@dataclass
class MigrationFilters:
    status: str | None = None
    host: str | None = None
    source_compute: str | None = None
    instance_uuid: str | None = None
    migration_type: str | None = None
    user_id: str | None = None
    project_id: str | None = None
    changes_since: datetime | None = None
    changes_before: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Migrations:
    def __init__(self, context: ComputeContext) -> None:
        self.context = context

    async def resize_started(
        self, row: models.Instance, old: dict[str, Any], new: dict[str, Any]
    ) -> None:
        now = utcnow()
        async with self.context.db.session() as s:
            s.add(
                M(
                    uuid=str(uuidlib.uuid4()),
                    instance_uuid=row.uuid,
                    migration_type="resize",
                    status="pre-migrating",
                    source_compute=row.host,
                    source_node=row.node,
                    dest_compute=row.host,
                    dest_node=row.node,
                    dest_host=None,
                    old_instance_type_id=old.get("id"),
                    new_instance_type_id=new.get("id"),
                    project_id=row.project_id,
                    user_id=row.user_id,
                    created_at=now,
                    updated_at=now,
                )
            )

    async def set_status(self, instance_uuid: str, status: str) -> None:
        """The server's newest migration still in progress moves to ``status``."""
        async with self.context.db.session() as s:
            row = await s.scalar(
                select(M)
                .where(M.instance_uuid == instance_uuid, M.status.not_in(DONE))
                .order_by(M.created_at.desc(), M.id.desc())
                .limit(1)
            )
            if row is not None:
                row.status = status
                row.updated_at = utcnow()

    async def listing(
        self, f: MigrationFilters, *, limit: int | None = None, marker: str | None = None
    ) -> list[models.Migration]:
        conds: list[Any] = []
        for attr in (
            "status",
            "source_compute",
            "instance_uuid",
            "migration_type",
            "user_id",
            "project_id",
        ):
            value = getattr(f, attr)
            if value is not None:
                conds.append(getattr(M, attr) == value)
        if f.host is not None:
            conds.append(or_(M.source_compute == f.host, M.dest_compute == f.host))
        if f.changes_since is not None:
            conds.append(M.updated_at >= f.changes_since)
        if f.changes_before is not None:
            conds.append(M.updated_at <= f.changes_before)
        async with self.context.db.session() as s:
            rows = list(
                await s.scalars(select(M).where(*conds).order_by(M.created_at.desc(), M.id.desc()))
            )
        if marker is not None:
            at = next((i for i, r in enumerate(rows) if r.uuid == marker), None)
            if at is None:
                raise errors.BadRequest(f"Marker {marker} could not be found.")
            rows = rows[at + 1 :]
        return rows if limit is None else rows[:limit]
