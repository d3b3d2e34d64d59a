"""What other services may ask of the block storage service (``runtime.service(VolumeAPI)``).

Compute attaches volumes to servers through it: it reserves a volume for a server, learns
where the volume's data is on the hosts, and says when the guest has it and when it is gone.
A create over the project's quota raises ``OverQuota`` (Cinder's 413), re-exported here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from onestack.common import errors
from onestack.common.context import RequestContext
from onestack.common.pagination import PageParams
from onestack.volume.errors import OverQuota

__all__ = ["VOLUME_NOTIFICATIONS", "OverQuota", "VolumeAPI", "VolumeFacade"]

# The topic of the block storage service's notifications (``volume.attach.end``, ...), which
# higher services may subscribe to.
VOLUME_NOTIFICATIONS = "notifications.volume"

if TYPE_CHECKING:
    from onestack.volume.service import VolumeService


class VolumeAPI(Protocol):
    """- ``get(ctx, volume_id)``: the volume as the caller sees it (``id``, ``status``,
      ``size``, ``bootable``, ``image_metadata``, ...); a 404 error when the caller cannot see
      it (``ctx`` None: the cloud itself, which sees every volume).
    - ``reserve(volume_id, instance_uuid)``: mark it ``reserved`` for the server (400 when it
      cannot be attached); the new attachment's id.
    - ``local_attachment(volume_id)``: where the volume's data is on the hosts,
      ``{"path": str, "format": "qcow2" | "raw"}``.
    - ``attached(volume_id, instance_uuid, attachment_id, device)``: the guest has it.
    - ``detached(volume_id, attachment_id)``: the attachment is gone (or never completed).

    A server booted from volumes (``block_device_mapping_v2``) has compute ``create`` them
    (from an image, a snapshot, or blank) in the server's project and wait for ``available``.
    """

    async def get(self, ctx: RequestContext | None, volume_id: str) -> dict[str, Any]: ...

    async def volumes(
        self, ctx: RequestContext, *, limit: int | None, offset: int
    ) -> list[dict[str, Any]]:
        """The caller's project's volumes, newest first, as ``get`` shows each (with
        ``availability_zone``, ``created_at``, ``description``, ``snapshot_id``, ``metadata``
        and the ``attachments`` the guests have: ``id``, ``server_id``, ``device``)."""

    async def create(
        self,
        ctx: RequestContext,
        *,
        size: int | None,
        name: str | None = None,
        image_id: str | None = None,
        snapshot_id: str | None = None,
        volume_type: str | None = None,
        availability_zone: str | None = None,
        description: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> str:
        """A new volume of ``ctx``'s project (``creating``: poll ``get`` for ``available``);
        its id. Quota, unknown image or snapshot, bad size: the block storage errors."""

    async def snapshot(self, ctx: RequestContext, snapshot_id: str) -> dict[str, Any]:
        """The snapshot as the caller sees it (``id``, ``status``, ``size``, ``volume_id``,
        ``name``, ``description``, ``created_at``); 404 otherwise."""

    async def snapshots(
        self, ctx: RequestContext, *, limit: int | None, offset: int
    ) -> list[dict[str, Any]]:
        """The caller's project's snapshots, newest first, as ``snapshot`` shows each."""

    async def create_snapshot(
        self,
        ctx: RequestContext,
        volume_id: str,
        *,
        name: str | None,
        description: str | None,
        force: bool = True,
    ) -> dict[str, Any]:
        """A snapshot of the volume, as ``snapshot`` shows it; ``force``: even while it is
        attached (Cinder's ``force``), as the snapshot of a server booted from volumes takes it.
        """

    async def delete_snapshot_as(self, ctx: RequestContext, snapshot_id: str) -> None:
        """Delete the snapshot as ``ctx`` may (``DELETE /snapshots/{id}``: its 404 and 400s)."""

    async def create_backup(
        self, ctx: RequestContext, volume_id: str, *, name: str | None, force: bool = False
    ) -> dict[str, Any]:
        """A full backup of the volume as ``ctx`` may (``POST /backups``: its 404, 400 and
        413s), as ``backup`` shows it: ``creating`` until the backup service has it."""

    async def backup(self, ctx: RequestContext, backup_id: str) -> dict[str, Any]:
        """The backup as the caller sees it (``id``, ``status``, ``volume_id``, ``name``,
        ``size``, ``fail_reason``); 404 otherwise."""

    async def reimage(self, volume_id: str, image_id: str) -> None:
        """Rewrite the volume from the image even while attached (Cinder's ``os-reimage``
        with ``reimage_reserved``, what Nova's 2.93 rebuild asks once the guest is off): its
        status is ``downloading`` until done, then what it was (``error`` if it failed)."""

    async def snapshot_taken(self, snapshot_id: str, volume_id: str) -> bool:
        """The hypervisor has taken the volume's snapshot it was asked for (Nova's
        ``os-assisted-volume-snapshots`` reporting ``os-update_snapshot_status``): a
        ``creating`` snapshot of that volume becomes ``available``. False when the volume
        service has no such snapshot waiting."""

    async def reserve(self, volume_id: str, instance_uuid: str) -> str: ...

    async def local_attachment(self, volume_id: str) -> dict[str, Any]: ...

    async def attached(
        self, volume_id: str, instance_uuid: str, attachment_id: str, device: str
    ) -> None: ...

    async def detached(self, volume_id: str, attachment_id: str) -> None: ...

    async def delete(self, volume_id: str) -> None:
        """Delete the volume (a server's ``delete_on_termination``), attachments gone."""

    async def extended(self, volume_id: str, *, ok: bool) -> None:
        """The guest has the grown volume (``volume.resize.attached``), or could not."""

    async def delete_as(self, ctx: RequestContext, volume_id: str) -> None:
        """Delete the volume as ``ctx`` may (``DELETE /volumes/{id}``: its 404 and 400s)."""


class VolumeFacade:
    """``VolumeAPI`` over the service layer."""

    def __init__(self, svc: VolumeService) -> None:
        self.svc = svc

    async def get(self, ctx: RequestContext | None, volume_id: str) -> dict[str, Any]:
        loaded = await self.svc.volumes.get(ctx, volume_id)
        return _volume(loaded.rows[0], loaded.types, loaded.attachments)

    async def volumes(
        self, ctx: RequestContext, *, limit: int | None, offset: int
    ) -> list[dict[str, Any]]:
        from onestack.volume.service.volumes import ListQuery

        page = PageParams(limit, None, (("created_at", "desc"), ("id", "desc")))
        loaded = await self.svc.volumes.listing(ctx, ListQuery(page=page, offset=offset))
        return [_volume(r, loaded.types, loaded.attachments) for r in loaded.rows]

    async def create(
        self,
        ctx: RequestContext,
        *,
        size: int | None,
        name: str | None = None,
        image_id: str | None = None,
        snapshot_id: str | None = None,
        volume_type: str | None = None,
        availability_zone: str | None = None,
        description: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> str:
        from onestack.volume.service.volumes import CreateRequest

        req = CreateRequest(
            size=size,
            name=name,
            description=description,
            metadata=dict(metadata or {}),
            image_id=image_id,
            snapshot_id=snapshot_id,
            volume_type=volume_type,
            availability_zone=availability_zone,
        )
        return (await self.svc.volumes.create(ctx, req)).rows[0].id

    async def snapshot(self, ctx: RequestContext, snapshot_id: str) -> dict[str, Any]:
        return _snapshot(await self.svc.snapshots.get(ctx, snapshot_id))

    async def snapshots(
        self, ctx: RequestContext, *, limit: int | None, offset: int
    ) -> list[dict[str, Any]]:
        page = PageParams(limit, None, (("created_at", "desc"), ("id", "desc")))
        return [
            _snapshot(r) for r in await self.svc.snapshots.listing(ctx, page, False, {}, offset)
        ]

    async def create_snapshot(
        self,
        ctx: RequestContext,
        volume_id: str,
        *,
        name: str | None,
        description: str | None,
        force: bool = True,
    ) -> dict[str, Any]:
        snap = await self.svc.snapshots.create(ctx, volume_id, name, description, {}, force=force)
        return _snapshot(snap)

    async def delete_snapshot_as(self, ctx: RequestContext, snapshot_id: str) -> None:
        await self.svc.snapshots.delete(ctx, snapshot_id)

    async def create_backup(
        self, ctx: RequestContext, volume_id: str, *, name: str | None, force: bool = False
    ) -> dict[str, Any]:
        row = await self.svc.backups.create(
            ctx, volume_id, name, None, incremental=False, force=force, metadata={}
        )
        return _backup(row)

    async def backup(self, ctx: RequestContext, backup_id: str) -> dict[str, Any]:
        return _backup(await self.svc.backups.get(ctx, backup_id))

    async def reimage(self, volume_id: str, image_id: str) -> None:
        await self.svc.volumes.reimage(None, volume_id, image_id, reserved=True)

    async def snapshot_taken(self, snapshot_id: str, volume_id: str) -> bool:
        try:
            row = await self.svc.snapshots.get(None, snapshot_id)
        except errors.NotFound:
            return False
        if row.volume_id != volume_id or row.status != "creating":
            return False
        await self.svc.snapshots.set_state(snapshot_id, "available")
        return True

    async def reserve(self, volume_id: str, instance_uuid: str) -> str:
        return await self.svc.attachments.reserve(volume_id, instance_uuid)

    async def local_attachment(self, volume_id: str) -> dict[str, Any]:
        return await self.svc.attachments.where(volume_id)

    async def attached(
        self, volume_id: str, instance_uuid: str, attachment_id: str, device: str
    ) -> None:
        await self.svc.attachments.attached(volume_id, instance_uuid, attachment_id, device)

    async def detached(self, volume_id: str, attachment_id: str) -> None:
        await self.svc.attachments.detached(volume_id, attachment_id)

    async def delete(self, volume_id: str) -> None:
        await self.svc.volumes.delete(None, volume_id, force=True)

    async def delete_as(self, ctx: RequestContext, volume_id: str) -> None:
        await self.svc.volumes.delete(ctx, volume_id)

    async def extended(self, volume_id: str, *, ok: bool) -> None:
        if ok:
            await self.svc.actions.extended(volume_id)
        else:
            await self.svc.actions.failed(volume_id, "extend_volume", "the guest could not grow")


def _volume(row: Any, types: dict[str, Any], attachments: dict[str, list[Any]]) -> dict[str, Any]:
    vtype = types.get(row.volume_type_id)
    atts = attachments.get(row.id, [])
    servers = [a.instance_uuid for a in atts if a.instance_uuid]
    return {
        "id": row.id,
        "status": row.status,
        "size": row.size,
        "multiattach": row.multiattach,
        "bootable": row.bootable,
        "project_id": row.project_id,
        "user_id": row.user_id,
        "name": row.name,
        "volume_type": vtype.name if vtype is not None else None,
        "image_id": getattr(row, "image_id", None),
        "instance_id": servers[0] if servers else None,  # metering's volume resource
        "image_metadata": dict(row.image_metadata or {}),
        "availability_zone": row.availability_zone,
        "created_at": row.created_at,
        "description": row.description,
        "snapshot_id": row.snapshot_id,
        "metadata": dict(row.meta or {}),
        "attachments": [
            {"id": a.id, "server_id": a.instance_uuid, "device": a.mountpoint}
            for a in atts
            if a.attach_status == "attached" and a.instance_uuid
        ],
    }


def _snapshot(snap: Any) -> dict[str, Any]:
    return {
        "id": snap.id,
        "status": snap.status,
        "size": snap.size,
        "volume_id": snap.volume_id,
        "name": snap.name,
        "description": snap.description,
        "created_at": snap.created_at,
    }


def _backup(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "status": row.status,
        "volume_id": row.volume_id,
        "name": row.name,
        "size": row.size,
        "fail_reason": row.fail_reason,
    }
