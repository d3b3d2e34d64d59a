"""Volume actions (``POST /volumes/{id}/action``) and what a host's agent reports back:
the status machine ``creating -> available``, ``extending``, ``deleting``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select

from onestack.common import errors
from onestack.common.context import RequestContext
from onestack.common.logging import get_logger
from onestack.volume import errors as verr
from onestack.volume.models import Attachment, Snapshot, Volume, VolumeType
from onestack.volume.service import messages
from onestack.volume.service.base import (
    VolumeContext,
    host_of,
    now,
    visible_volume,
    volume_event,
    volume_topic,
)
from onestack.volume.service.pools import Pools
from onestack.volume.service.quotas import Quotas
from onestack.volume.service.types import find_type

log = get_logger(__name__)

STATUSES = (
    "creating", "available", "reserved", "attaching", "in-use", "detaching", "extending",
    "deleting", "error", "error_deleting", "error_extending", "maintenance", "backing-up",
    "restoring-backup", "error_restoring", "downloading", "uploading", "retyping",
    "awaiting-transfer", "reverting",
)  # fmt: skip
ATTACH_STATUSES = ("attached", "detached", "attaching", "detaching", "error_attaching",
                   "error_detaching", "reserved")  # fmt: skip
# Image metadata that is the image's own, not a property an uploaded image inherits.
IMAGE_CORE = ("image_id", "image_name", "checksum", "container_format", "disk_format",
              "min_disk", "min_ram", "size")  # fmt: skip
# What each transitional status becomes when its operation fails.
ERROR_OF = {"create_volume": "error", "delete_volume": "error_deleting",
            "extend_volume": "error_extending", "upload_image": "available"}  # fmt: skip


class Actions:
    def __init__(self, context: VolumeContext, pools: Pools, quotas: Quotas) -> None:
        self.context = context
        self.pools = pools
        self.quotas = quotas

    async def extend(
        self, ctx: RequestContext, volume_id: str, new_size: int, *, attached_ok: bool
    ) -> None:
        async with self.context.db.session() as s:
            await self.quotas.lock(s, ctx.project_id or "")
            row = await visible_volume(s, ctx, volume_id)
            allowed = ("available", "in-use") if attached_ok else ("available",)
            if row.status not in allowed:
                raise verr.InvalidVolume(
                    reason=f"Volume status must be {' or '.join(allowed)} to extend, "
                    f"but current status is: {row.status}."
                )
            if new_size <= row.size:
                raise verr.InvalidInput(
                    reason=f"New size for extend must be greater than current size. "
                    f"(current: {row.size}, extended: {new_size})."
                )
            vtype = await find_type(s, None, row.volume_type_id)
            await self.quotas.check(
                s, row.project_id, vtype.name, {"gigabytes": new_size - row.size}
            )
            if row.host is not None:
                await self.pools.place_on(s, row.host, new_size - row.size)
            row.previous_status = row.status  # in-use: the guest's QEMU grows it (3.42)
            row.status = "extending"
            row.target_size = new_size
            row.updated_at = now()
            host = row.host
        if host is not None:
            await self.context.bus.cast(
                volume_topic(host_of(host)), "extend_volume", {"id": volume_id}
            )

    async def reset_status(self, ctx: RequestContext, volume_id: str, body: dict[str, Any]) -> None:
        status = body.get("status")
        attach = body.get("attach_status")
        migration = body.get("migration_status")
        if status is None and attach is None and migration is None:
            raise verr.InvalidInput(reason="Must specify 'status', 'attach_status' or "
                                    "'migration_status' for update.")  # fmt: skip
        if status is not None and status not in STATUSES:
            raise verr.InvalidInput(reason=f"Invalid status: {status}")
        if attach is not None and attach not in ATTACH_STATUSES:
            raise verr.InvalidInput(reason=f"Invalid attach_status: {attach}")
        async with self.context.db.session() as s:
            row = await visible_volume(s, ctx, volume_id)
            if status is not None:
                row.status = status
            if migration is not None:
                row.migration_status = None if migration == "none" else migration
            if attach == "detached":
                await s.execute(delete(Attachment).where(Attachment.volume_id == row.id))
            row.updated_at = now()

    async def set_flag(self, ctx: RequestContext, volume_id: str, **flags: bool) -> None:
        async with self.context.db.session() as s:
            row = await visible_volume(s, ctx, volume_id)
            if "readonly" in flags and row.status not in ("available", "in-use"):
                raise verr.InvalidVolume(reason="Volume status must be available or in-use.")
            for key, value in flags.items():
                setattr(row, key, value)
            if "readonly" in flags:  # Cinder shows the flag in the volume's metadata too
                row.meta = {**row.meta, "readonly": str(flags["readonly"])}
            row.updated_at = now()

    async def set_image_metadata(
        self, ctx: RequestContext, volume_id: str, items: dict[str, str] | None, remove: str = ""
    ) -> dict[str, str]:
        async with self.context.db.session() as s:
            row = await visible_volume(s, ctx, volume_id)
            meta = dict(row.image_metadata or {})
            if remove:
                if remove not in meta:
                    raise errors.NotFound(f"Glance metadata for volume {volume_id} with key "
                                          f"{remove} could not be found.")  # fmt: skip
                del meta[remove]
            meta.update(items or {})
            row.image_metadata = meta
            return meta

    # --- what the agent reports ---------------------------------------------------------

    async def created(self, volume_id: str, path: str, fmt: str) -> None:
        async with self.context.db.session() as s:
            row = await s.get(Volume, volume_id)
            if row is None:
                return
            row.provider_location = path
            row.disk_format = fmt
            if row.status == "creating":
                row.status = "available"
            row.updated_at = now()
            vtype = await s.get(VolumeType, row.volume_type_id)
            event = volume_event(row, vtype.name if vtype is not None else None)
        await self.context.notify("create.end", event)

    async def reimaged(self, volume_id: str, where: tuple[str, str] | None) -> None:
        """The agent has rewritten the volume from its image (or failed to): it returns to
        the status it had, or ``error``."""
        async with self.context.db.session() as s:
            row = await s.get(Volume, volume_id)
            if row is None or row.status != "downloading":
                return
            ok = where is not None
            if where is not None:
                row.provider_location, row.disk_format = where
            row.status = (row.previous_status or "available") if ok else "error"
            row.previous_status = None
            row.updated_at = now()
        await self.context.notify(
            "reimage.end" if ok else "reimage.error", {"volume_id": volume_id}
        )

    async def extended(self, volume_id: str) -> None:
        async with self.context.db.session() as s:
            row = await s.get(Volume, volume_id)
            if row is None:
                return
            if row.target_size is not None:
                row.size = row.target_size
            row.target_size = None
            attached = await s.scalar(
                select(Attachment.id).where(Attachment.volume_id == volume_id)
            )
            row.status = "in-use" if attached else "available"
            row.updated_at = now()
        await self.context.notify("resize.end", {"volume_id": volume_id})

    async def deleted(self, volume_id: str) -> None:
        async with self.context.db.session() as s:
            row = await s.get(Volume, volume_id)
            if row is None:
                return
            snaps = list(await s.scalars(select(Snapshot).where(Snapshot.volume_id == volume_id)))
            for snap in snaps:
                await s.delete(snap)
            await self.pools.release(s, row.host, row.size)
            await s.delete(row)
        await self.context.notify("delete.end", {"volume_id": volume_id})

    async def failed(self, volume_id: str, action: str, reason: str) -> None:
        async with self.context.db.session() as s:
            row = await s.get(Volume, volume_id)
            if row is None:
                return
            row.status = ERROR_OF.get(action, "error")
            if action == "extend_volume" and row.target_size is not None:
                await self.pools.release(s, row.host, row.target_size - row.size)
                row.target_size = None
            if action == "extend_volume" and row.previous_status == "in-use":
                row.status = "in-use"  # the guest kept its size: still usable
            row.previous_status = None
            row.updated_at = now()
            action_id = messages.ACTIONS.get(action, messages.SCHEDULE_ALLOCATE)
            await messages.record(s, row.project_id, row.id, action_id, messages.DRIVER_FAILED)
        log.warning("volume %s: %s failed: %s", volume_id, action, reason)

    async def on_host(self, host: str) -> list[Volume]:
        """The volumes placed on ``host``'s pools (for its agent's start-up reconcile)."""
        async with self.context.db.session() as s:
            return list(await s.scalars(select(Volume).where(Volume.host.like(f"{host}@%"))))

    async def begin_upload(
        self, ctx: RequestContext, volume_id: str, image_name: str, disk_format: str,
        container_format: str, force: bool,
    ) -> tuple[Volume, str]:  # fmt: skip
        """``os-volume_upload_image``: a queued image the host's agent fills from the
        volume; the volume is ``uploading`` meanwhile."""
        images = self.context.image
        if images is None:
            raise errors.BadRequest("The image service is not running in this cloud.")
        async with self.context.db.session() as s:
            row = await visible_volume(s, ctx, volume_id)
            allowed = ("available", "in-use") if force else ("available",)
            if row.status not in allowed:
                raise verr.InvalidVolume(
                    reason=f"Volume {volume_id} status must be available or in-use if "
                    f"force is set, but current status is: {row.status}."
                )
            props = {k: v for k, v in (row.image_metadata or {}).items() if k not in IMAGE_CORE}
            image_id = await images.create_queued_image(
                name=image_name, owner=row.project_id, disk_format=disk_format,
                properties=props,
            )  # fmt: skip
            row.status = "uploading"
            row.updated_at = now()
            host = row.host
        await self.context.bus.cast(
            volume_topic(host_of(host or "")), "upload_image",
            {"id": volume_id, "image_id": image_id, "disk_format": disk_format},
        )  # fmt: skip
        return row, image_id

    async def uploaded(self, volume_id: str) -> None:
        async with self.context.db.session() as s:
            row = await s.get(Volume, volume_id)
            if row is None:
                return
            attached = await s.scalar(
                select(Attachment.id).where(Attachment.volume_id == volume_id)
            )
            row.status = "in-use" if attached else "available"
            row.updated_at = now()

    async def servers_of(self, volume_id: str) -> list[str]:
        async with self.context.db.session() as s:
            found = await s.scalars(
                select(Attachment.instance_uuid).where(
                    Attachment.volume_id == volume_id, Attachment.attach_status == "attached"
                )
            )
            return [u for u in found if u]

    async def retype(self, ctx: RequestContext, volume_id: str, new_type: str, policy: str) -> None:
        """Another type for the volume: at once when its pool suits the new type's
        ``volume_backend_name``; a move to another backend is refused (no migration yet)."""
        async with self.context.db.session() as s:
            await self.quotas.lock(s, ctx.project_id or "")
            row = await visible_volume(s, ctx, volume_id)
            if row.status not in ("available", "in-use"):
                raise verr.InvalidVolume(
                    reason=f"Volume status must be available or in-use, but it is {row.status}."
                )
            vtype = await find_type(s, ctx, new_type)
            if vtype.id == row.volume_type_id:
                raise verr.InvalidInput(reason="Retype requested to the same volume type.")
            backend = vtype.extra_specs.get("volume_backend_name")
            pool_backend = (row.host or "").split("@", 1)[-1].split("#", 1)[0]
            if backend is not None and backend != pool_backend:
                why = "migration_policy is never" if policy == "never" else "no other backend"
                raise errors.BadRequest(
                    f"Invalid volume: volume {volume_id} would move from backend "
                    f"{pool_backend} to {backend}: {why}."
                )
            if vtype.extra_specs.get("multiattach") == "<is> True":
                row.multiattach = True
            await self.quotas.check(
                s, row.project_id, vtype.name, {"volumes": 1, "gigabytes": row.size}
            )
            row.volume_type_id = vtype.id
            row.updated_at = now()
