"""The snapshot of a server booted from volumes, as Nova's ``snapshot_volume_backed``: no disk
image to copy, so each attached volume is snapshotted (forced: they are in use) and the new
image carries only the mappings that rebuild the server from those snapshots
(``block_device_mapping``, ``bdm_v2``, ``root_device_name``), with no data of its own."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from sqlalchemy import select

from onestack.common import errors
from onestack.common.context import RequestContext
from onestack.compute import models
from onestack.compute.service.base import ComputeContext


async def snapshot_volume_backed(
    context: ComputeContext,
    ctx: RequestContext,
    row: models.Instance,
    name: str,
    properties: dict[str, str],
) -> str:
    """The new image's id: active, zero bytes, its mappings naming one snapshot per volume."""
    async with context.db.session() as s:
        attachments = list(
            await s.scalars(
                select(models.VolumeAttachment)
                .where(models.VolumeAttachment.instance_uuid == row.uuid)
                .order_by(models.VolumeAttachment.created_at)
            )
        )
    backend = context.volume
    if backend is None:  # a server with volumes outlived the service that made them
        raise errors.Conflict("The block storage service is not running: no volume snapshots.")
    mappings: list[dict[str, Any]] = []
    for att in attachments:
        volume = await backend.get(None, att.volume_id)
        snap = await backend.create_snapshot(
            ctx, att.volume_id, name=f"snapshot for {name}", description=volume.get("description")
        )
        mappings.append(_from_snapshot(att, snap))
    image_id: str = await context.image.create_queued_image(
        name=name,
        owner=row.project_id,
        disk_format="raw",
        properties={
            **properties,
            "block_device_mapping": json.dumps(mappings),
            "bdm_v2": "True",
            "root_device_name": "/dev/vda",
        },
    )
    # An image with no bytes is still active (Nova's force_activate): its data is the snapshots.
    await context.image.upload_local_file(image_id, Path(os.devnull), "raw")
    return image_id


def _from_snapshot(att: models.VolumeAttachment, snap: dict[str, Any]) -> dict[str, Any]:
    """Nova's ``snapshot_from_bdm``: the attachment as a mapping that makes a volume anew."""
    return {
        "source_type": "snapshot",
        "destination_type": "volume",
        "snapshot_id": snap["id"],
        "volume_id": None,
        "image_id": None,
        "volume_size": snap["size"],
        "boot_index": att.boot_index,
        "delete_on_termination": att.delete_on_termination,
        "device_name": att.device_name,
        "device_type": "disk",
        "disk_bus": None,
        "guest_format": None,
        "no_device": None,
        "tag": att.tag,
        "volume_type": None,
    }


async def assisted_snapshot(
    context: ComputeContext, volume_id: str, snapshot_id: str, *, deleting: bool = False
) -> None:
    """Nova's ``volume_snapshot_create``/``_delete`` (``os-assisted-volume-snapshots``): the
    hypervisor's half of a snapshot the volume service takes of a volume a server has
    attached. The volume service's own driver copies the data, so compute checks the server
    can be asked (attached, on a host, no task running: Nova's 400s) and reports a snapshot
    waiting in ``creating`` as taken; one the volume service does not know is acknowledged
    as Nova's API does, whose hypervisor works after the answer."""
    async with context.db.session() as s:
        att = await s.scalar(
            select(models.VolumeAttachment).where(models.VolumeAttachment.volume_id == volume_id)
        )
        row = None if att is None else await s.scalar(
            select(models.Instance).where(
                models.Instance.uuid == att.instance_uuid, models.Instance.deleted.is_(False)
            )
        )  # fmt: skip
    if row is None:
        raise errors.BadRequest(f"No volume Block Device Mapping with id {volume_id}.")
    if row.host is None:
        raise errors.BadRequest(f"Instance {row.uuid} is not ready")
    if row.task_state is not None:
        raise errors.BadRequest(
            f"Instance {row.uuid} in task_state {row.task_state}. Cannot "
            f"volume_snapshot_{'delete' if deleting else 'create'} while the instance is in "
            "this state."
        )
    backend = context.volume
    if backend is None:
        raise errors.BadRequest(f"No volume Block Device Mapping with id {volume_id}.")
    if not deleting:
        await backend.snapshot_taken(snapshot_id, volume_id)
