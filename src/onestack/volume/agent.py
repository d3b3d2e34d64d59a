"""This host's volume agent: makes, grows and removes volumes with the driver when the API
asks over the bus (``volume.<host>``), reports its pools' capacity, and at start finishes
or fails what a crash interrupted; a periodic check reports (and removes) orphan files."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from onestack.common.agent import KeyedLocks, Periodic, handler
from onestack.common.bus import Bus
from onestack.common.logging import get_logger
from onestack.common.runtime import ServiceNotRunning
from onestack.config import VolumeSettings
from onestack.volume.drivers.backup import BackupStore, FakeBackupStore
from onestack.volume.drivers.base import Location, NewVolume, VolumeDriver
from onestack.volume.facade import VOLUME_NOTIFICATIONS
from onestack.volume.models import Volume
from onestack.volume.service import VolumeService
from onestack.volume.service.base import volume_topic
from onestack.volume.service.pools import PoolReport

log = get_logger(__name__)

# A file with no volume row is only removed once this old (a create may be between its
# file and its row's update).
ORPHAN_GRACE = 600.0


def location_of(row: Volume) -> Location | None:
    if row.provider_location is None:
        return None
    return Location(row.provider_location, row.disk_format or "raw")


class VolumeAgent:
    def __init__(
        self, driver: VolumeDriver, svc: VolumeService, bus: Bus, host: str,
        settings: VolumeSettings, work_dir: Path, backups: BackupStore | None = None,
    ) -> None:  # fmt: skip
        self.driver = driver
        self.svc = svc
        self.bus = bus
        self.host = host
        self.settings = settings
        self.work_dir = work_dir  # where uploads are converted
        self.backups = backups or FakeBackupStore()
        self.locks = KeyedLocks()
        self.periodic = Periodic()
        self.orphans: dict[str, float] = {}  # volume id -> first seen without a row

    async def start(self) -> None:
        self.work_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        await self.report()
        self.bus.serve(
            volume_topic(self.host),
            {
                "create_volume": self.create_volume,
                "delete_volume": self.delete_volume,
                "extend_volume": self.extend_volume,
                "reimage_volume": self.reimage_volume,
                "create_snapshot": self.create_snapshot,
                "delete_snapshot": self.delete_snapshot,
                "revert_volume": self.revert_volume,
                "upload_image": self.upload_image,
                "create_backup": self.create_backup,
                "delete_backup": self.delete_backup,
                "restore_backup": self.restore_backup,
            },
        )
        await self.reconcile()
        self.periodic.every(self.settings.report_interval, self.report, "volume-report")
        self.periodic.every(600.0, self.check_orphans, "volume-orphans")

    async def stop(self) -> None:
        await self.periodic.stop()

    async def record_failure(self, key: str, action: str, exc: Exception) -> None:
        await self.svc.actions.failed(key, action, str(exc))

    async def report(self) -> None:
        stats = await self.driver.stats()
        await self.svc.pools.report(
            self.host, self.settings.backend_name, self.driver.name,
            self.settings.availability_zone,
            [PoolReport(p.pool, p.total_capacity_gb, p.free_capacity_gb, p.thin) for p in stats],
        )  # fmt: skip

    async def _row(self, volume_id: str) -> Volume | None:
        return await self.svc.volumes.row(volume_id)

    @handler("create_volume", key="id")
    async def create_volume(self, payload: dict[str, Any]) -> None:
        row = await self._row(payload["id"])
        if row is None or row.status != "creating":
            return
        new = NewVolume(row.id, row.size, self.settings.volume_format)
        if row.source_volid is not None:
            source = await self._row(row.source_volid)
            where = location_of(source) if source is not None else None
            if where is None:
                raise RuntimeError(f"source volume {row.source_volid} has no data")
            loc = await self.driver.clone(new, where)
        elif row.snapshot_id is not None:
            snap = await self.svc.snapshots.get(None, row.snapshot_id)
            if snap.provider_location is None:
                raise RuntimeError(f"snapshot {snap.id} has no data")
            loc = await self.driver.clone(new, Location(snap.provider_location, "qcow2"))
        elif row.image_id is not None:
            images = self.svc.context.image
            if images is None:
                raise ServiceNotRunning(name="image")
            record, path = await images.open_image(row.image_id)
            loc = await self.driver.from_image(
                new, Location(str(path), record.disk_format or "raw")
            )
        else:
            loc = await self.driver.create(new)
        await self.svc.actions.created(row.id, loc.path, loc.format)

    @handler("reimage_volume", key="id", record=False)
    async def reimage_volume(self, payload: dict[str, Any]) -> None:
        row = await self._row(payload["id"])
        if row is None or row.status != "downloading" or row.image_id is None:
            return
        images = self.svc.context.image
        try:
            if images is None:
                raise ServiceNotRunning(name="image")
            record, path = await images.open_image(row.image_id)
            fmt = row.disk_format or self.settings.volume_format
            loc = await self.driver.from_image(
                NewVolume(row.id, row.size, fmt), Location(str(path), record.disk_format or "raw")
            )
        except Exception as exc:
            log.warning("reimage of volume %s failed: %s", row.id, exc)
            await self.svc.actions.reimaged(row.id, None)
            return
        await self.svc.actions.reimaged(row.id, (loc.path, loc.format))

    @handler("delete_volume", key="id")
    async def delete_volume(self, payload: dict[str, Any]) -> None:
        row = await self._row(payload["id"])
        if row is None:
            return
        await self.driver.delete(row.id, location_of(row))
        await self.svc.actions.deleted(row.id)

    @handler("extend_volume", key="id")
    async def extend_volume(self, payload: dict[str, Any]) -> None:
        row = await self._row(payload["id"])
        if row is None or row.status != "extending" or row.target_size is None:
            return
        if row.previous_status == "in-use":  # the guest's QEMU holds the file: it grows it
            servers = await self.svc.actions.servers_of(row.id)
            if not servers:
                raise RuntimeError("the volume is in use by no server")
            event = {"volume_id": row.id, "size_gb": row.target_size, "servers": servers}
            await self.bus.publish(VOLUME_NOTIFICATIONS, "volume.resize.attached", event)
            return
        where = location_of(row)
        if where is None:
            raise RuntimeError("the volume has no data to extend")
        await self.driver.extend(where, row.target_size)
        await self.svc.actions.extended(row.id)

    @handler("create_snapshot", key="id", record=False)
    async def create_snapshot(self, payload: dict[str, Any]) -> None:
        snap = await self.svc.snapshots.get(None, payload["id"])
        if snap.status != "creating":
            return
        row = await self._row(snap.volume_id)
        where = location_of(row) if row is not None else None
        try:
            if where is None:
                raise RuntimeError("the volume has no data")
            loc = await self.driver.snapshot(snap.id, where)
        except Exception as exc:
            log.warning("snapshot %s failed: %s", snap.id, exc)
            await self.svc.snapshots.set_state(snap.id, "error")
            return
        await self.svc.snapshots.set_state(snap.id, "available", loc.path)

    @handler("delete_snapshot", key="id", record=False)
    async def delete_snapshot(self, payload: dict[str, Any]) -> None:
        snap = await self.svc.snapshots.get(None, payload["id"])
        try:
            where = Location(snap.provider_location, "qcow2") if snap.provider_location else None
            await self.driver.delete_snapshot(snap.id, where)
        except Exception as exc:
            log.warning("snapshot %s delete failed: %s", snap.id, exc)
            await self.svc.snapshots.set_state(snap.id, "error_deleting")
            return
        await self.svc.snapshots.deleted(snap.id)

    @handler("revert_volume", key="id", record=False)
    async def revert_volume(self, payload: dict[str, Any]) -> None:
        row = await self._row(payload["id"])
        snap = await self.svc.snapshots.get(None, payload["snapshot_id"])
        ok = True
        try:
            where = location_of(row) if row is not None else None
            if where is None or row is None or snap.provider_location is None:
                raise RuntimeError("no data to revert")
            await self.driver.revert(where, Location(snap.provider_location, "qcow2"), row.size)
        except Exception as exc:
            log.warning("revert of %s failed: %s", payload["id"], exc)
            ok = False
        await self.svc.snapshots.reverted(payload["id"], snap.id, ok)

    @handler("upload_image", key="id")
    async def upload_image(self, payload: dict[str, Any]) -> None:
        row = await self._row(payload["id"])
        images = self.svc.context.image
        where = location_of(row) if row is not None else None
        if images is None:
            raise ServiceNotRunning(name="image")
        if where is None:
            raise RuntimeError("the volume has no data to upload")
        fmt = payload["disk_format"]
        with tempfile.TemporaryDirectory(dir=self.work_dir) as tmp:
            out = Path(tmp) / f"upload.{fmt}"
            await self.driver.export(where, fmt if fmt in ("qcow2", "raw") else "raw", out)
            await images.upload_local_file(payload["image_id"], out, fmt)
        await self.svc.actions.uploaded(payload["id"])

    @handler("create_backup", key="id", record=False)
    async def create_backup(self, payload: dict[str, Any]) -> None:
        backup = await self.svc.backups.get(None, payload["id"])
        try:
            row = await self._row(backup.volume_id)
            where = location_of(row) if row is not None else None
            if where is None:
                raise RuntimeError("the volume has no data")
            parent = await self.svc.backups.chain_parent(backup)
            location = await self.backups.save(
                backup.id, where, parent.location if parent is not None else None
            )
        except Exception as exc:
            await self.svc.backups.finished(backup.id, error=str(exc))
            return
        await self.svc.backups.finished(backup.id, location=location)

    @handler("delete_backup", key="id", record=False)
    async def delete_backup(self, payload: dict[str, Any]) -> None:
        backup = await self.svc.backups.get(None, payload["id"])
        try:
            if backup.location is not None:
                await self.backups.delete(backup.location)
        except Exception as exc:
            await self.svc.backups.finished(backup.id, error=str(exc), deleted=True)
            return
        await self.svc.backups.finished(backup.id, deleted=True)

    @handler("restore_backup", key="id", record=False)
    async def restore_backup(self, payload: dict[str, Any]) -> None:
        backup = await self.svc.backups.get(None, payload["id"])
        try:
            row = await self._row(backup.restore_volume_id or "")
            if row is None or backup.location is None:
                raise RuntimeError("nothing to restore into or from")
            where = location_of(row)
            if where is None:  # a new volume: its file first
                where = await self.driver.create(
                    NewVolume(row.id, row.size, self.settings.volume_format)
                )
                await self.svc.actions.created(row.id, where.path, where.format)
            await self.backups.restore(backup.location, where, row.size)
        except Exception as exc:
            await self.svc.backups.finished(backup.id, error=str(exc))
            return
        await self.svc.backups.finished(backup.id)

    async def reconcile(self) -> None:
        """Finish what a crash interrupted: creates, deletes and extends start again (each
        is idempotent in the driver); the rest stays as the database says."""
        redo = {
            "creating": self.create_volume,
            "deleting": self.delete_volume,
            "extending": self.extend_volume,
            "uploading": self._upload_lost,
        }
        for row in await self.svc.actions.on_host(self.host):
            work = redo.get(row.status)
            if work is not None:
                log.info("volume %s was %s at start: doing it again", row.id, row.status)
                await work({"id": row.id})
        backups = {"creating": self.create_backup, "restoring": self.restore_backup,
                   "deleting": self.delete_backup}  # fmt: skip
        for backup in await self.svc.backups.unfinished(self.host):
            log.info("backup %s was %s at start: doing it again", backup.id, backup.status)
            await backups[backup.status]({"id": backup.id})

    async def _upload_lost(self, payload: dict[str, Any]) -> None:
        """An upload a crash interrupted: its image stays queued; the volume is usable."""
        await self.svc.actions.uploaded(payload["id"])

    async def check_orphans(self) -> list[str]:
        """Files of volumes no row owns: reported at once, removed after ``ORPHAN_GRACE``."""
        held = await self.driver.volumes()
        known = {r.id for r in await self.svc.actions.on_host(self.host)}
        removed: list[str] = []
        clock = time.monotonic()
        for volume_id, where in held.items():
            if volume_id in known:
                self.orphans.pop(volume_id, None)
                continue
            first = self.orphans.setdefault(volume_id, clock)
            log.warning("orphan volume file %s (no volume %s)", where.path, volume_id)
            if clock - first >= ORPHAN_GRACE:
                async with self.locks(volume_id):
                    await self.driver.delete(volume_id, where)
                self.orphans.pop(volume_id, None)
                removed.append(volume_id)
        return removed
