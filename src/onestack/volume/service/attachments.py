"""Attachments: a volume reserved for, attached to and detached from a server. Compute
drives them through the facade; old clients through the volume actions (``os-reserve``,
``os-attach``, ``os-begin_detaching``, ``os-detach``, ...)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from onestack.common import errors
from onestack.common.context import RequestContext
from onestack.volume import errors as verr
from onestack.volume.models import Attachment, Volume
from onestack.volume.service.base import VolumeContext, is_admin, now, valid_uuid, visible_volume
from onestack.volume.service.qos import Qos


async def _others(s: AsyncSession, volume_id: str, but: str | None = None) -> int:
    stmt = select(func.count()).select_from(Attachment).where(Attachment.volume_id == volume_id)
    if but is not None:
        stmt = stmt.where(Attachment.id != but)
    return int(await s.scalar(stmt) or 0)


def _settle(row: Volume, remaining: int) -> None:
    row.status = "in-use" if remaining else "available"
    row.updated_at = now()


class Attachments:
    def __init__(self, context: VolumeContext, qos: Qos) -> None:
        self.context = context
        self.qos = qos

    async def reserve_in(
        self, s: AsyncSession, row: Volume, instance_uuid: str | None, mode: str = "rw"
    ) -> Attachment:
        """A new ``reserved`` attachment: the volume must be available, or in use and
        multiattach (and not yet attached to this server)."""
        others = await _others(s, row.id)
        if row.status == "available" or (row.status in ("in-use", "reserved") and row.multiattach):
            pass
        elif row.status == "in-use" and not row.multiattach:
            raise verr.InvalidVolume(
                reason=f"Volume {row.id} status must be available to reserve, but the volume "
                "is in-use and not multiattach."
            )
        else:
            raise verr.InvalidVolume(
                reason=f"Volume status must be available or in-use to reserve, but the "
                f"current status is: {row.status}."
            )
        if instance_uuid is not None:
            same = await s.scalar(
                select(Attachment.id).where(
                    Attachment.volume_id == row.id, Attachment.instance_uuid == instance_uuid
                )
            )
            if same is not None:
                raise verr.InvalidVolume(
                    reason=f"Volume {row.id} is already attached to server {instance_uuid}."
                )
        att = Attachment(
            id=str(uuid.uuid4()), volume_id=row.id, instance_uuid=instance_uuid,
            attach_mode="ro" if row.readonly else mode, attach_status="reserved",
            created_at=now(),
        )  # fmt: skip
        s.add(att)
        row.status = "in-use" if others and row.status == "in-use" else "reserved"
        row.updated_at = now()
        return att

    async def reserve(self, volume_id: str, instance_uuid: str) -> str:
        async with self.context.db.session() as s:
            row = await visible_volume(s, None, volume_id)
            return (await self.reserve_in(s, row, instance_uuid)).id

    async def attached(
        self, volume_id: str, instance_uuid: str | None, attachment_id: str, device: str,
        host: str | None = None,
    ) -> None:  # fmt: skip
        async with self.context.db.session() as s:
            att = await s.get(Attachment, attachment_id)
            row = await s.get(Volume, volume_id)
            if att is None or row is None:
                raise errors.NotFound(f"Attachment {attachment_id} could not be found.")
            att.attach_status = "attached"
            att.mountpoint = device
            att.instance_uuid = instance_uuid or att.instance_uuid
            att.attached_host = host
            att.attach_time = now()
            row.status = "in-use"
            row.updated_at = now()
        await self.context.notify("attach.end", {"volume_id": volume_id})

    async def detached(self, volume_id: str, attachment_id: str) -> None:
        async with self.context.db.session() as s:
            att = await s.get(Attachment, attachment_id)
            if att is not None:
                await s.delete(att)
                await s.flush()
            row = await s.get(Volume, volume_id)
            if row is not None and row.status not in ("deleting", "error_deleting"):
                _settle(row, await _others(s, volume_id))
        await self.context.notify("detach.end", {"volume_id": volume_id})

    async def where(self, volume_id: str) -> dict[str, Any]:
        async with self.context.db.session() as s:
            row = await visible_volume(s, None, volume_id)
            if row.provider_location is None:
                raise verr.InvalidVolume(reason=f"Volume {volume_id} has no data yet.")
            type_id = row.volume_type_id
            where = {"path": row.provider_location, "format": row.disk_format or "raw"}
        return {**where, "qos": await self.qos.front_end(type_id)}

    # --- the volume actions of old clients ----------------------------------------------

    async def action(self, ctx: RequestContext, volume_id: str, name: str, args: Any) -> None:
        async with self.context.db.session() as s:
            row = await visible_volume(s, ctx, volume_id)
            if name == "os-reserve":  # an old client's reserve: Cinder says ``attaching``
                await self.reserve_in(s, row, None)
                if row.status == "reserved":
                    row.status = "attaching"
            elif name == "os-unreserve":
                for att in await self._with(s, row.id, ("reserved",)):
                    await s.delete(att)
                await s.flush()
                if row.status in ("reserved", "attaching"):
                    _settle(row, await _others(s, row.id))
            elif name == "os-force_detach":  # an admin's clean-up, whatever the status
                args = args if isinstance(args, dict) else {}
                wanted = args.get("attachment_id")
                for att in await self._with(
                    s, row.id, ("attached", "reserved", "attaching", "detaching")
                ):
                    if not wanted or att.id == wanted:
                        await s.delete(att)
                await s.flush()
                _settle(row, await _others(s, row.id))
            elif name == "os-begin_detaching":
                if row.status != "in-use":
                    raise verr.InvalidVolume(reason="Volume must be in-use to begin detaching.")
                row.status = "detaching"
            elif name == "os-roll_detaching":
                if row.status == "detaching":
                    row.status = "in-use"
            elif name == "os-attach":
                await self._attach(s, row, args)
            elif name == "os-detach":
                await self._detach(s, row, args)

    async def _with(
        self, s: AsyncSession, volume_id: str, statuses: tuple[str, ...]
    ) -> list[Attachment]:
        return list(
            await s.scalars(
                select(Attachment).where(
                    Attachment.volume_id == volume_id, Attachment.attach_status.in_(statuses)
                )
            )
        )

    async def _attach(self, s: AsyncSession, row: Volume, args: Any) -> None:
        args = args if isinstance(args, dict) else {}
        server = args.get("instance_uuid")
        host = args.get("host_name")
        if not server and not host:
            raise verr.InvalidInput(reason="Invalid request to attach volume to an invalid target")
        mode = args.get("mode", "rw")
        if mode not in ("rw", "ro"):
            raise verr.InvalidInput(reason="Invalid attach mode, must be 'rw' or 'ro'.")
        reserved = await self._with(s, row.id, ("reserved",))
        att = reserved[0] if reserved else await self.reserve_in(s, row, server, mode)
        att.instance_uuid = server
        att.attached_host = host
        att.mountpoint = args.get("mountpoint")
        att.attach_status = "attached"
        att.attach_time = now()
        row.status = "in-use"
        row.updated_at = now()

    async def _detach(self, s: AsyncSession, row: Volume, args: Any) -> None:
        args = args if isinstance(args, dict) else {}
        current = await self._with(s, row.id, ("attached", "reserved", "attaching", "detaching"))
        wanted = args.get("attachment_id")
        if wanted:
            current = [a for a in current if a.id == wanted]
        elif len(current) > 1:
            raise verr.InvalidVolume(reason="Volume is attached more than once: name the "
                                     "attachment_id to detach.")  # fmt: skip
        if not current:
            if row.status in ("available", "error"):  # Cinder: nothing to detach, no error
                return
            raise verr.InvalidVolume(reason=f"Volume {row.id} is not attached.")
        await s.delete(current[0])
        await s.flush()
        _settle(row, await _others(s, row.id))


class AttachmentsAPI:
    """The v3 attachments API (3.27): create (reserve), update with a connector (the
    connection info), complete (3.44), delete."""

    def __init__(self, context: VolumeContext, attachments: Attachments) -> None:
        self.context = context
        self.attachments = attachments

    async def create(
        self, ctx: RequestContext, volume_id: str, instance_uuid: str | None,
        connector: dict[str, Any] | None, mode: str,
    ) -> tuple[Attachment, Volume]:  # fmt: skip
        async with self.context.db.session() as s:
            row = await visible_volume(s, ctx, volume_id)
            att = await self.attachments.reserve_in(s, row, instance_uuid, mode)
            if connector is not None:
                att.connector = dict(connector)
                att.attach_status = "attaching"
                row.status = "attaching" if row.status == "reserved" else row.status
            return att, row

    async def get(self, ctx: RequestContext, attachment_id: str) -> tuple[Attachment, Volume]:
        async with self.context.db.session() as s:
            att = await s.get(Attachment, attachment_id) if valid_uuid(attachment_id) else None
            if att is None:
                raise errors.NotFound(f"Volume attachment {attachment_id} could not be found.")
            try:
                row = await visible_volume(s, ctx, att.volume_id)
            except verr.VolumeNotFound:
                raise errors.NotFound(
                    f"Volume attachment {attachment_id} could not be found."
                ) from None
            return att, row

    async def listing(self, ctx: RequestContext, filters: dict[str, str]) -> list[Attachment]:
        stmt = select(Attachment).join(Volume, Volume.id == Attachment.volume_id)
        if not is_admin(ctx):
            stmt = stmt.where(Volume.project_id == (ctx.project_id or ""))
        if "volume_id" in filters:
            stmt = stmt.where(Attachment.volume_id == filters["volume_id"])
        if "instance_id" in filters:
            stmt = stmt.where(Attachment.instance_uuid == filters["instance_id"])
        if "status" in filters:
            stmt = stmt.where(Attachment.attach_status == filters["status"])
        async with self.context.db.session() as s:
            return list(await s.scalars(stmt.order_by(Attachment.created_at)))

    async def update(
        self, ctx: RequestContext, attachment_id: str, connector: dict[str, Any]
    ) -> tuple[Attachment, Volume]:
        att, _ = await self.get(ctx, attachment_id)
        async with self.context.db.session() as s:
            found = await s.get(Attachment, att.id)
            row = await s.get(Volume, att.volume_id)
            assert found is not None and row is not None
            found.connector = dict(connector)
            if found.attach_status == "reserved":
                found.attach_status = "attaching"
            if row.status == "reserved":
                row.status = "attaching"
            found.updated_at = now()
            return found, row

    async def complete(self, ctx: RequestContext, attachment_id: str) -> None:
        att, _ = await self.get(ctx, attachment_id)
        host = (att.connector or {}).get("host")
        await self.attachments.attached(
            att.volume_id, att.instance_uuid, att.id, att.mountpoint or "", host
        )

    async def delete(self, ctx: RequestContext, attachment_id: str) -> str:
        att, _ = await self.get(ctx, attachment_id)
        await self.attachments.detached(att.volume_id, att.id)
        return att.volume_id
