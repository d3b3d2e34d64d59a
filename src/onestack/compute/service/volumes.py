"""``os-volume_attachments``: volumes of the block storage service attached to servers.

The block storage service is reached only through its facade (``VolumeAPI``, absent while
that service does not run). The compute side keeps the attachments (its block
device mappings, ``compute_volume_attachment``) and has the host's agent hot-plug the volume's
file into the guest.
"""

from __future__ import annotations

import string
import uuid as uuidlib

from sqlalchemy import select

from onestack.common import errors
from onestack.common.context import RequestContext
from onestack.common.logging import get_logger
from onestack.compute import models, states
from onestack.compute.service.base import ComputeContext, compute_topic
from onestack.compute.service.records import get_row, record_event, start_action
from onestack.compute.service.servers import check_lock, check_state
from onestack.volume.facade import VolumeAPI

log = get_logger(__name__)

ATTACH_STATES = (states.ACTIVE, states.PAUSED, states.STOPPED, states.SUSPENDED,
                 states.SHELVED_OFFLOADED)  # fmt: skip
# A shelved-offloaded server has no guest: its volumes are only recorded (Nova too), and its
# unshelve starts the guest with them.
NO_GUEST = (states.SHELVED_OFFLOADED,)
NO_VOLUME_SERVICE = "the block storage service is not running in this cloud"


class VolumeNotAttached(errors.NotFound):
    template = "Volume {volume_id} is not attached to server {uuid}."


def bdm_uuid(attachment_id: str) -> str:
    """The block device mapping's uuid (2.89): one mapping per attachment, so derived from it."""
    return str(uuidlib.uuid5(uuidlib.NAMESPACE_URL, f"onestack:bdm:{attachment_id}"))


def next_device(used: list[str]) -> str:
    """The first free ``/dev/vdX`` after the root disk (``vda``)."""
    taken = {d.rsplit("/", 1)[-1] for d in used if d}
    for letter in string.ascii_lowercase[1:]:
        if f"vd{letter}" not in taken:
            return f"/dev/vd{letter}"
    raise errors.BadRequest("No free disk device names for this server.")


class Volumes:
    def __init__(self, context: ComputeContext) -> None:
        self.context = context

    @property
    def backend(self) -> VolumeAPI | None:
        return self.context.volume

    async def listing(self, ctx: RequestContext, uuid: str) -> list[models.VolumeAttachment]:
        async with self.context.db.session() as s:
            await get_row(s, ctx, uuid)
            return list(
                await s.scalars(
                    select(models.VolumeAttachment)
                    .where(models.VolumeAttachment.instance_uuid == uuid)
                    .order_by(models.VolumeAttachment.created_at, models.VolumeAttachment.id)
                )
            )

    async def get(self, ctx: RequestContext, uuid: str, volume_id: str) -> models.VolumeAttachment:
        for att in await self.listing(ctx, uuid):
            if att.volume_id == volume_id:
                return att
        if self.backend is None:
            raise errors.NotFound(
                f"Volume {volume_id} is not attached to server {uuid} ({NO_VOLUME_SERVICE})."
            )
        raise VolumeNotAttached(volume_id=volume_id, uuid=uuid)

    async def attach(
        self,
        ctx: RequestContext,
        uuid: str,
        volume_id: str,
        *,
        device: str | None,
        tag: str | None,
        delete_on_termination: bool,
    ) -> models.VolumeAttachment:
        backend = self.backend
        if backend is None:
            raise errors.BadRequest(f"Cannot attach volume {volume_id}: {NO_VOLUME_SERVICE}.")
        async with self.context.db.session() as s:
            row = await get_row(s, ctx, uuid)
            check_lock(ctx, row)
            check_state(row, "attach_volume", ATTACH_STATES)
            current = list(
                await s.scalars(
                    select(models.VolumeAttachment).where(
                        models.VolumeAttachment.instance_uuid == uuid
                    )
                )
            )
        if row.host is None and row.vm_state not in NO_GUEST:
            raise errors.Conflict(f"Instance {uuid} has no host yet.")
        if any(a.volume_id == volume_id for a in current):
            raise errors.BadRequest(
                f"Invalid volume: volume {volume_id} is already attached to server {uuid}."
            )
        await backend.get(ctx, volume_id)
        device = device or next_device([a.device_name or "" for a in current])
        attachment_id = await backend.reserve(volume_id, uuid)
        att = models.VolumeAttachment(
            id=attachment_id,
            instance_uuid=uuid,
            volume_id=volume_id,
            device_name=device,
            boot_index=None,
            delete_on_termination=delete_on_termination,
            tag=tag,
        )
        async with self.context.db.session() as s:
            s.add(att)
            await start_action(s, ctx, await get_row(s, None, uuid), "attach_volume")
        try:
            where = await backend.local_attachment(volume_id)
            if row.vm_state in NO_GUEST or row.host is None:
                await backend.attached(volume_id, uuid, attachment_id, device)
                return att
            await self.context.bus.call(
                compute_topic(row.host),
                "attach_volume",
                {
                    "uuid": uuid,
                    "volume_id": volume_id,
                    "path": where["path"],
                    "format": where.get("format", "raw"),
                    "device": device,
                    "qos": where.get("qos", {}),
                },
                timeout=120,
            )
            await backend.attached(volume_id, uuid, attachment_id, device)
        except Exception as exc:
            log.warning("server %s: attaching volume %s failed: %s", uuid, volume_id, exc)
            await self._forget(attachment_id, uuid, "compute_attach_volume", str(exc))
            await backend.detached(volume_id, attachment_id)
            raise errors.InternalError(
                f"Failed to attach volume {volume_id} to server {uuid}."
            ) from None
        async with self.context.db.session() as s:
            await record_event(s, uuid, "compute_attach_volume", row.host)
        return att

    async def set_delete_on_termination(
        self, ctx: RequestContext, uuid: str, volume_id: str, value: bool
    ) -> None:
        """Nova's update of a mapping (2.85): a record of compute's, the guest sees no change."""
        att = await self.get(ctx, uuid, volume_id)
        async with self.context.db.session() as s:
            row = await s.get(models.VolumeAttachment, att.id)
            if row is None:
                raise VolumeNotAttached(volume_id=volume_id, uuid=uuid)
            row.delete_on_termination = value

    async def detach(self, ctx: RequestContext, uuid: str, volume_id: str) -> None:
        att = await self.get(ctx, uuid, volume_id)
        backend = self.backend
        if backend is None:
            raise errors.NotFound(f"Cannot detach volume {volume_id}: {NO_VOLUME_SERVICE}.")
        if att.boot_index == 0:
            raise errors.BadRequest("Cannot detach a root device volume")
        async with self.context.db.session() as s:
            row = await get_row(s, ctx, uuid)
            check_lock(ctx, row)
            check_state(row, "detach_volume", ATTACH_STATES)
            await start_action(s, ctx, row, "detach_volume")
        try:
            if row.host is not None:
                await self.context.bus.call(
                    compute_topic(row.host),
                    "detach_volume",
                    {"uuid": uuid, "volume_id": volume_id},
                    timeout=120,
                )
        except Exception as exc:
            log.warning("server %s: detaching volume %s failed: %s", uuid, volume_id, exc)
            async with self.context.db.session() as s:
                await record_event(s, uuid, "compute_detach_volume", row.host, str(exc))
            raise errors.InternalError(
                f"Failed to detach volume {volume_id} from server {uuid}."
            ) from None
        await self._forget(att.id, uuid, "compute_detach_volume")
        await backend.detached(volume_id, att.id)

    async def _forget(
        self, attachment_id: str, uuid: str, event: str, error: str | None = None
    ) -> None:
        async with self.context.db.session() as s:
            att = await s.get(models.VolumeAttachment, attachment_id)
            if att is not None:
                await s.delete(att)
            row = await s.scalar(select(models.Instance).where(models.Instance.uuid == uuid))
            await record_event(s, uuid, event, row.host if row else None, error)
