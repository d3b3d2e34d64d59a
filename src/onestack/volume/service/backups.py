"""Backups: full or incremental copies of a volume in the backup store, restored into a
volume (a new one, or an available one of at least the backup's size)."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

from sqlalchemy import func, select

from onestack.common import errors
from onestack.common.context import RequestContext
from onestack.volume import errors as verr
from onestack.volume.models import Backup, Volume
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

# What an exported record names as its backup service: files on a POSIX file system, which is
# what Cinder's posix driver keeps too (clients check the ``cinder.backup.drivers`` prefix).
BACKUP_SERVICE = "cinder.backup.drivers.posix.PosixBackupDriver"
OLD_BACKUP_SERVICES = ("onestack.volume.backup.file",)  # records exported before


class BackupNotFound(errors.NotFound):
    template = "Backup {id} could not be found."


async def visible_backup(s: Any, ctx: RequestContext | None, backup_id: str) -> Backup:
    row: Backup | None = await s.get(Backup, backup_id) if valid_uuid(backup_id) else None
    if row is None or (ctx is not None and not is_admin(ctx) and row.project_id != ctx.project_id):
        raise BackupNotFound(id=backup_id)
    return row


class Backups:
    def __init__(self, context: VolumeContext, quotas: Quotas) -> None:
        self.context = context
        self.quotas = quotas

    async def create(
        self, ctx: RequestContext, volume_id: str, name: str | None, description: str | None,
        *, incremental: bool, force: bool, metadata: dict[str, str],
    ) -> Backup:  # fmt: skip
        async with self.context.db.session() as s:
            # The quota lock first (#12): what is read after it (the volume's status, the
            # backups counted) stays true until this commits. An admin's backup of another
            # project's volume takes that project's too.
            if ctx.project_id:
                await self.quotas.lock(s, ctx.project_id)
            vol = await visible_volume(s, ctx, volume_id)
            await self.quotas.lock(s, vol.project_id)
            allowed = ("available", "in-use") if force else ("available",)
            if vol.status not in allowed:
                raise verr.InvalidVolume(
                    reason=f"Volume to be backed up must be available or in-use, but the "
                    f'current status is "{vol.status}".'
                )
            parent = None
            if incremental:
                parent = await s.scalar(
                    select(Backup)
                    .where(Backup.volume_id == vol.id, Backup.status == "available")
                    .order_by(Backup.created_at.desc())
                    .limit(1)
                )
                if parent is None:
                    raise errors.BadRequest(
                        "Invalid backup: No backups available to do an incremental backup."
                    )
            await self._check_quota(s, vol.project_id, vol.size)
            row = Backup(
                id=str(uuid.uuid4()), volume_id=vol.id, project_id=vol.project_id,
                user_id=ctx.user_id, name=name, description=description, status="creating",
                size=vol.size, availability_zone=vol.availability_zone, container="backups",
                parent_id=parent.id if parent is not None else None,
                is_incremental=parent is not None, meta=dict(metadata),
                data_timestamp=now(), created_at=now(), updated_at=now(),
            )  # fmt: skip
            s.add(row)
            vol.previous_status = vol.status
            vol.status = "backing-up"
            vol.updated_at = now()
            host = vol.host
        await self.context.bus.cast(
            volume_topic(host_of(host or "")), "create_backup", {"id": row.id}
        )
        return row

    async def _check_quota(self, s: Any, project: str, size: int) -> None:
        from onestack.volume.errors import OverQuota

        limits = await self.quotas.limits_in(s, project)
        rows = list(await s.scalars(select(Backup).where(Backup.project_id == project)))
        if 0 <= limits["backups"] < len(rows) + 1:
            raise OverQuota(f"BackupLimitExceeded: Maximum number of backups allowed "
                            f"({limits['backups']}) exceeded")  # fmt: skip
        used = sum(r.size for r in rows)
        if 0 <= limits["backup_gigabytes"] < used + size:
            raise OverQuota(
                f"VolumeBackupSizeExceedsAvailableQuota: Requested backup exceeds allowed "
                f"Backup gigabytes quota. Requested {size}G, quota is "
                f"{limits['backup_gigabytes']}G and {used}G has been consumed."
            )

    async def get(self, ctx: RequestContext | None, backup_id: str) -> Backup:
        async with self.context.db.session() as s:
            return await visible_backup(s, ctx, backup_id)

    async def update(self, ctx: RequestContext, backup_id: str, changes: dict[str, Any]) -> Backup:
        async with self.context.db.session() as s:
            row = await visible_backup(s, ctx, backup_id)
            for key, value in changes.items():
                setattr(row, key, value)
            row.updated_at = now()
            return row

    async def has_dependents(self, ids: list[str]) -> set[str]:
        if not ids:
            return set()
        async with self.context.db.session() as s:
            found = await s.scalars(select(Backup.parent_id).where(Backup.parent_id.in_(ids)))
            return {p for p in found if p is not None}

    async def listing(
        self, ctx: RequestContext, all_projects: bool, filters: dict[str, Any]
    ) -> list[Backup]:
        stmt = select(Backup).order_by(Backup.created_at.desc(), Backup.id)
        if not (is_admin(ctx) and all_projects):
            stmt = stmt.where(Backup.project_id == (ctx.project_id or ""))
        for key, value in filters.items():
            stmt = stmt.where(getattr(Backup, key) == value)
        async with self.context.db.session() as s:
            return list(await s.scalars(stmt))

    async def delete(self, ctx: RequestContext, backup_id: str, *, force: bool = False) -> None:
        async with self.context.db.session() as s:
            row = await visible_backup(s, ctx, backup_id)
            invalid = errors.BadRequest("Invalid backup: Backup status must be available or error")
            if not force and row.status not in ("available", "error"):
                raise invalid
            child = await s.scalar(select(Backup.id).where(Backup.parent_id == row.id))
            if child is not None:
                raise errors.BadRequest(
                    "Invalid backup: Incremental backups exist for this backup."
                )
            vol = await s.get(Volume, row.volume_id)
            host = vol.host if vol is not None else None
            await start_deleting(s, Backup, row.id, row.status, invalid)
            if row.location is None or host is None:
                await s.delete(row)
                return
        await self.context.bus.cast(volume_topic(host_of(host)), "delete_backup", {"id": backup_id})

    async def restore(
        self, ctx: RequestContext, backup_id: str, volume_id: str | None, new_volume: Any
    ) -> tuple[Backup, Volume]:
        """Into ``volume_id``, or into a new volume made by ``new_volume(size)``."""
        async with self.context.db.session() as s:
            row = await visible_backup(s, ctx, backup_id)
            if row.status != "available":
                raise errors.BadRequest("Invalid backup: Backup status must be available")
        if volume_id is None:
            volume_id = await new_volume(row.size)
        async with self.context.db.session() as s:
            row = await visible_backup(s, ctx, backup_id)
            vol = await visible_volume(s, ctx, volume_id)
            if vol.status not in ("available", "restoring-backup"):
                raise verr.InvalidVolume(reason="Volume to be restored to must be available")
            if vol.size < row.size:
                raise verr.InvalidVolume(
                    reason=f"volume size {vol.size} is too small to restore backup of size "
                    f"{row.size}."
                )
            vol.status = "restoring-backup"
            vol.updated_at = now()
            row.status = "restoring"
            row.restore_volume_id = vol.id
            row.updated_at = now()
            host = vol.host
        await self.context.bus.cast(
            volume_topic(host_of(host or "")), "restore_backup", {"id": backup_id}
        )
        return row, vol

    # --- what the agent reports ---------------------------------------------------------

    async def finished(self, backup_id: str, *, location: str | None = None,
                       error: str | None = None, deleted: bool = False) -> None:  # fmt: skip
        async with self.context.db.session() as s:
            row = await s.get(Backup, backup_id)
            if row is None:
                return
            vol_id = row.restore_volume_id if row.status == "restoring" else row.volume_id
            vol = await s.get(Volume, vol_id) if vol_id else None
            if deleted and error is None:
                await s.delete(row)
                return
            if row.status == "restoring":
                row.restore_volume_id = None
                if vol is not None:
                    vol.status = "available" if error is None else "error_restoring"
                    vol.updated_at = now()
            elif row.status == "creating" and vol is not None:
                vol.status = vol.previous_status or "available"
                vol.previous_status = None
                vol.updated_at = now()
            if location is not None:
                row.location = location
            row.status = "available" if error is None else "error"
            if deleted:
                row.status = "error_deleting"
            row.fail_reason = error
            row.updated_at = now()

    async def chain_parent(self, backup: Backup) -> Backup | None:
        if backup.parent_id is None:
            return None
        async with self.context.db.session() as s:
            return await s.get(Backup, backup.parent_id)

    async def unfinished(self, host: str) -> list[Backup]:
        """Backups of ``host``'s volumes a crash left creating, restoring or deleting."""
        async with self.context.db.session() as s:
            return list(
                await s.scalars(
                    select(Backup)
                    .join(
                        Volume,
                        Volume.id == func.coalesce(Backup.restore_volume_id, Backup.volume_id),
                    )
                    .where(
                        Backup.status.in_(("creating", "restoring", "deleting")),
                        Volume.host.like(f"{host}@%"),
                    )
                )
            )

    async def export_record(self, backup_id: str) -> dict[str, str]:
        """An available backup's record (admins): enough to import it into another cloud
        that reaches the same backup store."""
        async with self.context.db.session() as s:
            row = await visible_backup(s, None, backup_id)
            if row.status != "available":
                raise errors.BadRequest("Invalid backup: Backup status must be available")
            record = {
                "id": row.id, "volume_id": row.volume_id, "size": row.size, "name": row.name,
                "description": row.description, "location": row.location,
                "parent_id": row.parent_id, "is_incremental": row.is_incremental,
                "availability_zone": row.availability_zone, "container": row.container,
            }  # fmt: skip
        url = base64.b64encode(json.dumps(record).encode()).decode()
        return {"backup_service": BACKUP_SERVICE, "backup_url": url}

    async def import_record(self, ctx: RequestContext, service: str, url: str) -> Backup:
        if service != BACKUP_SERVICE and service not in OLD_BACKUP_SERVICES:
            raise errors.BadRequest(f"Unsupported backup service {service!r}.")
        try:
            record = json.loads(base64.b64decode(url, validate=True))
            assert isinstance(record, dict) and isinstance(record.get("location"), str)
        except (ValueError, AssertionError, TypeError):
            raise errors.BadRequest("Invalid backup record: cannot decode backup_url.") from None
        async with self.context.db.session() as s:
            backup_id = str(record.get("id") or uuid.uuid4())
            if await s.get(Backup, backup_id) is not None:
                raise errors.BadRequest(f"Invalid backup: Backup {backup_id} already exists.")
            row = Backup(
                id=backup_id, volume_id=str(record.get("volume_id") or ""),
                project_id=ctx.project_id or "", user_id=ctx.user_id, name=record.get("name"),
                description=record.get("description"), status="available",
                size=int(record.get("size") or 1),
                availability_zone=record.get("availability_zone"),
                container=record.get("container"), parent_id=record.get("parent_id"),
                is_incremental=bool(record.get("is_incremental")), location=record["location"],
                meta={}, data_timestamp=now(), created_at=now(), updated_at=now(),
            )  # fmt: skip
            s.add(row)
            return row
