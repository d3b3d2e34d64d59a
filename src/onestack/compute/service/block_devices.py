"""Boot from volume: the volume mappings of ``POST /servers`` (``block_device_mapping_v2``).

At the API each mapping is checked against the block storage and image services with Nova's
400s (the volume exists and is available, a root volume is bootable, an image exists and fits
the volume asked for). The boot then, before it places the server, has the block storage
service make the volumes the mappings ask for (from an image, a snapshot, or blank) in the
server's project, waits for each to be ``available``, and reserves every volume for the server:
each becomes one of the server's attachments (``compute_volume_attachment``; the root disk has
``boot_index`` 0). The host's agent starts the guest on them and says they are attached. The
block storage service is reached only through its facade (``VolumeAPI``)."""

from __future__ import annotations

import asyncio
import math
import time
import uuid as uuidlib
from typing import Any

from sqlalchemy import select

from onestack.common import errors
from onestack.common.context import RequestContext
from onestack.common.logging import get_logger
from onestack.compute import models
from onestack.compute.service.base import ComputeContext
from onestack.compute.service.records import touch
from onestack.compute.service.volumes import next_device
from onestack.volume.facade import VolumeAPI

log = get_logger(__name__)

GiB = 1024**3
# Nova's block_device_allocate_retries (60) times its interval (3 s): a volume made from a
# large image may take minutes.
CREATE_TIMEOUT = 180.0


class VolumeNotReady(Exception):
    """A volume the boot made did not become available: the server goes to ERROR."""


def _bdm_invalid(details: str) -> errors.BadRequest:
    return errors.BadRequest(f"Block Device Mapping is Invalid: {details}")


async def check(
    context: ComputeContext,
    ctx: RequestContext,
    backend: VolumeAPI,
    mappings: list[dict[str, Any]],
    flavor: dict[str, Any],
    image_ref: str = "",
) -> None:
    """Nova's API checks of the volume mappings (400s); nothing is changed. With an
    ``imageRef`` beside a root volume Nova takes the boot metadata from that image, not the
    volume: the volume need not be bootable (it may be blank), the image must exist."""
    if image_ref:
        await _check_boot_image(context, ctx, image_ref, flavor)
    for bdm in mappings:
        source, ref = bdm["source_type"], bdm["uuid"]
        root = bdm["boot_index"] == 0 and not image_ref
        if source == "volume":
            try:
                vol = await backend.get(ctx, ref)
            except errors.NotFound:
                raise _bdm_invalid(f"failed to get volume {ref}.") from None
            usable = vol["status"] == "available" or (
                vol["multiattach"] and vol["status"] in ("in-use", "reserved")
            )
            if not usable:
                raise errors.BadRequest(
                    f"Invalid volume: volume '{ref}' status must be 'available'. "
                    f"Currently in '{vol['status']}'"
                )
            if root and not vol["bootable"]:
                raise errors.BadRequest(f"Block Device {ref} is not bootable.")
            if root and flavor["memory_mb"] < int(vol["image_metadata"].get("min_ram") or 0):
                raise errors.BadRequest("Flavor's memory is too small for requested image.")
        elif source == "snapshot":
            try:
                snap = await backend.snapshot(ctx, ref)
            except errors.NotFound:
                raise _bdm_invalid(f"failed to get snapshot {ref}.") from None
            if bdm["volume_size"] is not None and bdm["volume_size"] < snap["size"]:
                raise errors.BadRequest(
                    f"Invalid input received: Volume size {bdm['volume_size']}GB cannot be "
                    f"smaller than the snapshot size {snap['size']}GB."
                )
        elif source == "image":
            await _check_image(context, ctx, bdm, flavor if root else None)


async def _check_boot_image(
    context: ComputeContext, ctx: RequestContext, ref: str, flavor: dict[str, Any]
) -> None:
    """The ``imageRef`` of a server whose root disk is a volume: its size is the volume's
    business, so only its existence, status and ``min_ram`` count (Nova's ``_get_image`` and
    ``_validate_flavor_image`` for a volume-backed root)."""
    image_id = ref.rstrip("/").rsplit("/", 1)[-1]
    try:
        image = await context.image.get_image(ctx, image_id)
    except errors.NotFound:
        raise errors.BadRequest(f"Image {image_id} could not be found.") from None
    if image.status != "active":
        raise errors.BadRequest(f"Image {image_id} is not active.")
    if flavor["memory_mb"] < int(image.min_ram or 0):
        raise errors.BadRequest("Flavor's memory is too small for requested image.")


async def _check_image(
    context: ComputeContext, ctx: RequestContext, bdm: dict[str, Any], flavor: dict[str, Any] | None
) -> None:
    ref = bdm["uuid"]
    try:
        image = await context.image.get_image(ctx, ref)
    except errors.NotFound:
        raise _bdm_invalid(f"failed to get image {ref}.") from None
    if image.status != "active":
        raise errors.BadRequest(f"Image {ref} is not active.")
    if flavor is not None and flavor["memory_mb"] < int(image.min_ram or 0):
        raise errors.BadRequest("Flavor's memory is too small for requested image.")
    size = bdm["volume_size"]
    if size is None:
        return  # the volume gets the size the image needs
    dest = size * GiB
    need = max(int(image.virtual_size or image.size or 0), int(image.min_disk or 0) * GiB)
    if need > dest:
        raise errors.BadRequest(
            "Volume is smaller than the minimum size specified in image metadata. Volume size "
            f"is {dest} bytes, minimum size is {need} bytes."
        )


def owner_context(row: models.Instance) -> RequestContext:
    """The server's owner, as the block storage service sees the boot's calls (the volumes
    belong to the server's project and count against its quota)."""
    return RequestContext(
        request_id=f"req-{uuidlib.uuid4()}",
        user_id=row.user_id,
        project_id=row.project_id,
        roles=("member", "reader"),
    )


async def root_attachment(context: ComputeContext, uuid: str) -> models.VolumeAttachment | None:
    """The server's root volume (``boot_index`` 0), if it boots from one."""
    async with context.db.session() as s:
        att: models.VolumeAttachment | None = await s.scalar(
            select(models.VolumeAttachment).where(
                models.VolumeAttachment.instance_uuid == uuid,
                models.VolumeAttachment.boot_index == 0,
            )
        )
        return att


async def refuse_image_of_volume_backed(context: ComputeContext, uuid: str, action: str) -> None:
    """A snapshot (or shelve) of a server booted from a volume would copy an overlay it does
    not have: refused with a 400 that says what to do instead, never an image left broken."""
    if await root_attachment(context, uuid) is not None:
        raise errors.BadRequest(
            f"Cannot '{action}' a server booted from a volume here: snapshot its volume "
            "instead (openstack volume snapshot create, or image create --volume)."
        )


class BlockDevices:
    def __init__(self, context: ComputeContext) -> None:
        self.context = context

    async def prepare(self, uuid: str) -> None:
        """Make and reserve the volumes of a new server's mappings, in order. Idempotent: a
        boot taken over after a crash finds the volumes already made (their ids are kept in
        the server's request) and the attachments already recorded."""
        backend = self.context.volume
        async with self.context.db.session() as s:
            row = await s.scalar(select(models.Instance).where(models.Instance.uuid == uuid))
            if row is None:
                return
            mappings = [dict(b) for b in row.request.get("block_devices") or []]
            done = {
                a.volume_id: a
                for a in await s.scalars(
                    select(models.VolumeAttachment).where(
                        models.VolumeAttachment.instance_uuid == uuid
                    )
                )
            }
        if not mappings:
            return
        if backend is None:
            raise VolumeNotReady("the block storage service is not running in this cloud")
        ctx = owner_context(row)
        devices = ["/dev/vda"] + [a.device_name or "" for a in done.values()]
        for index, bdm in enumerate(mappings):
            volume_id = bdm.get("volume_id") or (
                bdm["uuid"] if bdm["source_type"] == "volume" else None
            )
            if volume_id is not None and volume_id in done:
                continue
            if volume_id is None:
                volume_id = await self._create(ctx, row, bdm)
                bdm["volume_id"] = volume_id
                await self._remember(uuid, index, volume_id)
            await self._wait(ctx, uuid, volume_id)
            # Nova's virt driver stores a bare name as the guest sees it ("vdb" → "/dev/vdb").
            named = bdm.get("device_name")
            device = (
                (named if named.startswith("/dev/") else f"/dev/{named}")
                if named
                else ("/dev/vda" if bdm["boot_index"] == 0 else next_device(devices))
            )
            devices.append(device)
            attachment_id = await backend.reserve(volume_id, uuid)
            async with self.context.db.session() as s:
                s.add(
                    models.VolumeAttachment(
                        id=attachment_id,
                        instance_uuid=uuid,
                        volume_id=volume_id,
                        device_name=device,
                        boot_index=bdm["boot_index"],
                        delete_on_termination=bool(bdm["delete_on_termination"]),
                        tag=bdm.get("tag"),
                    )
                )

    async def _create(self, ctx: RequestContext, row: models.Instance, bdm: dict[str, Any]) -> str:
        backend = self.context.volume
        assert backend is not None
        source = bdm["source_type"]
        try:
            return await backend.create(
                ctx,
                size=bdm["volume_size"],
                name=f"{row.uuid}-blank-vol" if source == "blank" else "",
                image_id=bdm["uuid"] if source == "image" else None,
                snapshot_id=bdm["uuid"] if source == "snapshot" else None,
                volume_type=bdm.get("volume_type"),
            )
        except errors.OneStackError as exc:
            raise VolumeNotReady(f"Build of instance {row.uuid} aborted: {exc.message}") from None

    async def _remember(self, uuid: str, index: int, volume_id: str) -> None:
        """Keep the id of a volume the boot made in the server's request (a retried boot
        must not make a second one)."""
        async with self.context.db.session() as s:
            row = await s.scalar(select(models.Instance).where(models.Instance.uuid == uuid))
            if row is None:
                return
            request = dict(row.request)
            bdms = [dict(b) for b in request.get("block_devices") or []]
            bdms[index]["volume_id"] = volume_id
            request["block_devices"] = bdms
            row.request = request
            touch(row)

    async def _wait(self, ctx: RequestContext, uuid: str, volume_id: str) -> None:
        """Until the volume is available (its creation is the block storage agent's); the
        server's row is touched meanwhile, so no other process takes the boot as stalled."""
        backend = self.context.volume
        assert backend is not None
        start = time.monotonic()
        delay, attempts, touched = 0.02, 0, start
        status = "unknown"
        while time.monotonic() - start < CREATE_TIMEOUT:
            attempts += 1
            status = (await backend.get(ctx, volume_id))["status"]
            if status in ("available", "in-use", "reserved"):
                return
            if status.startswith("error"):
                break
            if time.monotonic() - touched > 5:
                touched = time.monotonic()
                async with self.context.db.session() as s:
                    row = await s.scalar(
                        select(models.Instance).where(models.Instance.uuid == uuid)
                    )
                    if row is not None:
                        touch(row)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)
        waited = math.ceil(time.monotonic() - start)
        raise VolumeNotReady(
            f"Volume {volume_id} did not finish being created even after we waited {waited} "
            f"seconds or {attempts} attempts. And its status is {status}."
        )

    async def attached(self, uuid: str) -> None:
        """The guest runs on its volumes: each of the server's attachments is ``in-use``."""
        backend = self.context.volume
        if backend is None:
            return
        async with self.context.db.session() as s:
            atts = list(
                await s.scalars(
                    select(models.VolumeAttachment).where(
                        models.VolumeAttachment.instance_uuid == uuid
                    )
                )
            )
        for att in atts:
            await backend.attached(att.volume_id, uuid, att.id, att.device_name or "")

    async def root(self, uuid: str) -> models.VolumeAttachment | None:
        """The server's root volume (``boot_index`` 0), if it boots from one."""
        return await root_attachment(self.context, uuid)
