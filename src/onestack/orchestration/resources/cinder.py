"""Cinder's resource types: volumes through the block storage facade (``VolumeAPI``), their
attachments to servers through compute's (``ComputeAPI``), as the stack's owner."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from onestack.common import errors
from onestack.compute.facade import ComputeAPI
from onestack.orchestration.errors import ResourceFailure
from onestack.orchestration.resources.base import Context, Created, Plugin, Prop
from onestack.orchestration.resources.nova import image_id
from onestack.volume.facade import VolumeAPI

WAIT = 300.0  # seconds a volume may take to settle


async def wait_status(c: Context, volume_id: str, wanted: str, failing: set[str]) -> dict[str, Any]:
    volumes = c.runtime.service(VolumeAPI)
    deadline = time.monotonic() + WAIT
    while True:
        shown = await volumes.get(c.ctx, volume_id)
        if shown["status"] == wanted:
            return shown
        if shown["status"] in failing or time.monotonic() > deadline:
            raise ResourceFailure(f"Volume {volume_id} went to status {shown['status']}")
        await asyncio.sleep(0.3)


class Volume(Plugin):
    type_name = "OS::Cinder::Volume"
    description = "A resource that implements Cinder volumes."
    properties = {
        "size": Prop("integer", description="The size of the volume in GB."),
        "name": Prop("string", update_allowed=True, description="A name used to distinguish it."),
        "description": Prop("string", update_allowed=True),
        "image": Prop("string", description="If specified, the name or ID of the image."),
        "volume_type": Prop("string"),
        "availability_zone": Prop("string"),
        "snapshot_id": Prop("string"),
        "metadata": Prop("map", update_allowed=True),
        "multiattach": Prop("boolean"),
        "read_only": Prop("boolean", update_allowed=True),
    }
    attributes = {
        "size": "The size of the volume in GB.",
        "status": "The current status of the volume.",
        "display_name": "Name of the volume.",
        "volume_type": "The type of the volume mapping to a backend, if any.",
        "bootable": "Boolean indicating if the volume can be booted or not.",
        "attachments": "A string representation of the list of attachments of the volume.",
        "multiattach": "Boolean indicating whether allow the volume to be attached more than once.",
    }

    async def create(self, c: Context, props: dict[str, Any]) -> Created:
        image = await image_id(c, str(props["image"])) if props.get("image") else None
        volume_id = await c.runtime.service(VolumeAPI).create(
            c.ctx,
            size=props.get("size"),
            name=props.get("name") or f"{c.stack_name}-{c.resource_name}",
            image_id=image,
            snapshot_id=props.get("snapshot_id"),
            volume_type=props.get("volume_type"),
            availability_zone=props.get("availability_zone"),
        )
        try:
            shown = await wait_status(c, volume_id, "available", {"error"})
        except ResourceFailure as exc:
            from onestack.orchestration.resources.nova import ServerFailed

            raise ServerFailed(volume_id, exc.reason) from None
        return Created(volume_id, _attributes(shown))

    async def refresh(
        self, c: Context, physical_id: str, data: dict[str, Any]
    ) -> dict[str, Any] | None:
        return _attributes(await c.runtime.service(VolumeAPI).get(c.ctx, physical_id))

    async def snapshot_delete(
        self, c: Context, physical_id: str, data: dict[str, Any], state: tuple[str, str]
    ) -> None:
        """Heat's: a backup of the volume, unless its create or update failed, waited for
        until available; then the volume is deleted, the backup kept."""
        if state not in (("CREATE", "FAILED"), ("UPDATE", "FAILED")):
            await _backup(c, physical_id)
        await self.delete(c, physical_id, data)

    async def delete(self, c: Context, physical_id: str, data: dict[str, Any]) -> None:
        volumes = c.runtime.service(VolumeAPI)
        await volumes.delete_as(c.ctx, physical_id)
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            try:
                shown = await volumes.get(c.ctx, physical_id)
            except errors.NotFound:
                return
            if shown["status"] == "error_deleting":
                raise ResourceFailure(f"Volume {physical_id} could not be deleted")
            await asyncio.sleep(0.3)
        raise ResourceFailure(f"Volume {physical_id} was not deleted in time")


async def _backup(c: Context, volume_id: str) -> None:
    """Heat's _create_backup (a volume already gone has none) and its wait: a backup that
    does not become available fails the delete, the volume kept."""
    volumes = c.runtime.service(VolumeAPI)
    try:
        made = await volumes.create_backup(c.ctx, volume_id, name=None)
    except errors.NotFound:
        return
    deadline = time.monotonic() + WAIT
    while (shown := await volumes.backup(c.ctx, made["id"]))["status"] != "available":
        if shown["status"] != "creating" or time.monotonic() > deadline:
            raise ResourceFailure(
                f"Volume backup failed - Unknown status {shown['status']} due to "
                f'"{shown.get("fail_reason") or "Unknown"}"'
            )
        await asyncio.sleep(0.3)


def _attributes(shown: dict[str, Any]) -> dict[str, Any]:
    return {
        "size": shown["size"],
        "status": shown["status"],
        "display_name": shown.get("name"),
        "volume_type": shown.get("volume_type"),
        "bootable": shown.get("bootable"),
        "multiattach": shown.get("multiattach"),
        "attachments": [shown["instance_id"]] if shown.get("instance_id") else [],
    }


class VolumeAttachment(Plugin):
    type_name = "OS::Cinder::VolumeAttachment"
    description = "Resource for associating volume to instance."
    properties = {
        "instance_uuid": Prop("string", required=True, description="The ID of the server."),
        "volume_id": Prop("string", required=True, description="The ID of the volume."),
        "mountpoint": Prop("string", description="The location where the volume is exposed."),
    }

    async def create(self, c: Context, props: dict[str, Any]) -> Created:
        server, volume = str(props["instance_uuid"]), str(props["volume_id"])
        await c.runtime.service(ComputeAPI).attach_volume(
            c.ctx, server, volume, props.get("mountpoint")
        )
        await wait_status(c, volume, "in-use", {"error", "error_attaching", "available"})
        return Created(volume, data={"server": server, "volume": volume})

    async def delete(self, c: Context, physical_id: str, data: dict[str, Any]) -> None:
        server = str(data.get("server") or data.get("instance_uuid"))
        await c.runtime.service(ComputeAPI).detach_volume(c.ctx, server, physical_id)
        with contextlib.suppress(errors.NotFound):
            await wait_status(c, physical_id, "available", {"error", "error_detaching"})


PLUGINS: tuple[type[Plugin], ...] = (Volume, VolumeAttachment)
