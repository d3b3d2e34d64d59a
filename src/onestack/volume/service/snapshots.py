"""Snapshots: point-in-time copies of a volume, made by its host's agent; volumes are made
from them and a volume reverts to its latest one (3.40)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from onestack.common import errors
from onestack.common.context import RequestContext
from onestack.common.pagination import PageParams, apply_page
from onestack.volume import errors as verr
from onestack.volume.models import Snapshot, Volume
from onestack.volume.service.base import (
    VolumeContext,
    host_of,
    is_admin,
    now,
    start_deleting,
    valid_uuid,
    visible_volume,
    volume_topic,
)
from onestack.volume.service.quotas import Quotas
from onestack.volume.service.types import find_type

SORT_KEYS = ("id", "name", "status", "size", "created_at", "updated_at", "volume_id")


async def visible_snapshot(s: Any, ctx: RequestContext | None, snapshot_id: str) -> Snapshot:
    row: Snapshot | None = await s.get(Snapshot, snapshot_id) if valid_uuid(snapshot_id) else None
    if row is None or (not is_admin(ctx) and ctx is not None and row.project_id != ctx.project_id):
        raise verr.SnapshotNotFound(id=snapshot_id)
    return row


class Snapshots:
    def __init__(self, context: VolumeContext, quotas: Quotas) -> None:
        self.context = context
        self.quotas = quotas

    async def create(
        self, ctx: RequestContext, volume_id: str, name: str | None, description: str | None,
        metadata: dict[str, str], *, force: bool,
    ) -> Snapshot:  # fmt: skip
        async with self.context.db.session() as s:
            await self.quotas.lock(s, ctx.project_id or "")
            vol = await visible_volume(s, ctx, volume_id)
            allowed = ("available", "in-use") if force else ("available",)
            if vol.status not in allowed:
                raise verr.InvalidVolume(
                    reason=f"Volume {vol.id} status must be available, but current status "
                    f"is: {vol.status}."
                )
            vtype = await find_type(s, None, vol.volume_type_id)
            await self.quotas.check(
                s, vol.project_id, vtype.name, {"snapshots": 1, "gigabytes": vol.size}
            )
            row = Snapshot(
                id=str(uuid.uuid4()), volume_id=vol.id, project_id=vol.project_id,
                user_id=ctx.user_id, name=name, description=description, size=vol.size,
                status="creating", progress="0%", meta=dict(metadata), created_at=now(),
                updated_at=now(),
            )  # fmt: skip
            s.add(row)
            host = vol.host
        if host is None:
            raise verr.InvalidVolume(reason=f"Volume {volume_id} is on no backend.")
        await self.context.bus.cast(volume_topic(host_of(host)), "create_snapshot", {"id": row.id})
        return row

    async def get(self, ctx: RequestContext | None, snapshot_id: str) -> Snapshot:
        async with self.context.db.session() as s:
            return await visible_snapshot(s, ctx, snapshot_id)

    async def listing(
        self,
        ctx: RequestContext,
        page: PageParams,
        all_projects: bool,
        filters: dict[str, Any],
        offset: int = 0,
    ) -> list[Snapshot]:
        stmt = select(Snapshot)
        if not (is_admin(ctx) and all_projects):
            stmt = stmt.where(Snapshot.project_id == (ctx.project_id or ""))
        for key, value in filters.items():
            stmt = stmt.where(getattr(Snapshot, key) == value)
        async with self.context.db.session() as s:
            marker = None
            if page.marker:
                marker = await s.scalar(stmt.where(Snapshot.id == page.marker))
                if marker is None:  # Cinder's MarkerNotFound is a 404
                    raise errors.NotFound(f"Marker {page.marker} could not be found.")
            paged = apply_page(stmt, Snapshot, page, marker)
            return list(await s.scalars(paged.offset(offset) if offset else paged))

    async def update(
        self, ctx: RequestContext, snapshot_id: str, changes: dict[str, Any]
    ) -> Snapshot:
        async with self.context.db.session() as s:
            row = await visible_snapshot(s, ctx, snapshot_id)
            for key, value in changes.items():
                setattr(row, key, value)
            row.updated_at = now()
            return row

    async def delete(
        self, ctx: RequestContext | None, snapshot_id: str, *, force: bool = False
    ) -> None:
        async with self.context.db.session() as s:
            row = await visible_snapshot(s, ctx, snapshot_id)
            invalid = errors.BadRequest(
                "Invalid snapshot: Volume Snapshot status must be available or error."
            )
            if not force and row.status not in ("available", "error", "error_deleting"):
                raise invalid
            used = await s.scalar(
                select(Volume.id).where(Volume.snapshot_id == row.id, Volume.status == "creating")
            )
            if used is not None:
                raise errors.BadRequest("Invalid snapshot: a volume is being made from it.")
            vol = await s.get(Volume, row.volume_id)
            await start_deleting(s, Snapshot, row.id, row.status, invalid)
            host = vol.host if vol is not None else None
            if host is None:
                await s.delete(row)
        if host is not None:
            await self.context.bus.cast(
                volume_topic(host_of(host)), "delete_snapshot", {"id": snapshot_id}
            )

    async def revert(self, ctx: RequestContext, volume_id: str, snapshot_id: str) -> None:
        async with self.context.db.session() as s:
            vol = await visible_volume(s, ctx, volume_id)
            snap = await visible_snapshot(s, ctx, snapshot_id)
            if snap.volume_id != vol.id:
                raise errors.BadRequest(
                    f"Invalid snapshot: Snapshot {snapshot_id} is not of volume {volume_id}."
                )
            latest = await s.scalar(
                select(Snapshot.id)
                .where(Snapshot.volume_id == vol.id)
                .order_by(Snapshot.created_at.desc())
                .limit(1)
            )
            if latest != snap.id:
                raise errors.BadRequest(
                    "Invalid snapshot: Cannot revert volume to a snapshot that is not the "
                    "latest one."
                )
            if vol.status != "available" or snap.status != "available":
                raise verr.InvalidVolume(reason="Volume and snapshot must be available to revert.")
            vol.status = "reverting"
            snap.status = "restoring"
            vol.updated_at = snap.updated_at = now()
            host = vol.host
        await self.context.bus.cast(
            volume_topic(host_of(host or "")), "revert_volume",
            {"id": volume_id, "snapshot_id": snapshot_id},
        )  # fmt: skip

    # --- what the agent reports ---------------------------------------------------------

    async def set_state(self, snapshot_id: str, status: str, location: str | None = None) -> None:
        async with self.context.db.session() as s:
            row = await s.get(Snapshot, snapshot_id)
            if row is None:
                return
            row.status = status
            if status == "available":
                row.progress = "100%"
            if location is not None:
                row.provider_location = location
            row.updated_at = now()

    async def deleted(self, snapshot_id: str) -> None:
        async with self.context.db.session() as s:
            row = await s.get(Snapshot, snapshot_id)
            if row is not None:
                await s.delete(row)

    async def reverted(self, volume_id: str, snapshot_id: str, ok: bool) -> None:
        async with self.context.db.session() as s:
            vol = await s.get(Volume, volume_id)
            snap = await s.get(Snapshot, snapshot_id)
            if vol is not None:
                vol.status = "available" if ok else "error"
                vol.updated_at = now()
            if snap is not None:
                snap.status = "available"
                snap.updated_at = now()

    async def on_volume(self, volume_id: str) -> list[Snapshot]:
        async with self.context.db.session() as s:
            return list(await s.scalars(select(Snapshot).where(Snapshot.volume_id == volume_id)))
