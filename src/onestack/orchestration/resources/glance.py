"""Glance's ``OS::Glance::WebImage``: an image whose data the image service fetches from a URL
(the ``web-download`` import), through the image facade (``ImageAPI``) as the stack's owner.
The create waits for the image to be ``active``; an import that fails (the image back to
``queued`` with ``os_glance_failed_import``) fails the resource, the image kept for the
delete."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from typing import Any

from onestack.common import errors
from onestack.image.facade import ImageAPI
from onestack.orchestration.errors import not_allowed
from onestack.orchestration.resources.base import Context, Created, Plugin, Prop
from onestack.orchestration.resources.nova import ServerFailed

WAIT = 600.0  # seconds an import may take (Heat has only the stack's timeout)
_UUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
DISK_FORMATS = ("ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop")
CONTAINER_FORMATS = ("ami", "ari", "aki", "bare", "ovf", "ova", "docker")
VISIBILITIES = ("public", "private", "community", "shared")
# Image attributes the properties name one to one (the rest: location, extra_properties).
_PLAIN = (
    "name", "id", "min_disk", "min_ram", "protected", "disk_format", "container_format",
    "visibility", "tags", "architecture", "kernel_id", "os_distro", "os_version", "owner",
    "ramdisk_id",
)  # fmt: skip


class WebImage(Plugin):
    type_name = "OS::Glance::WebImage"
    description = "A resource managing images in Glance using web-download import."
    properties = {
        "location": Prop("string", required=True, description="URL of the image's data."),
        "name": Prop("string", description="Name for the image."),
        "id": Prop("string", description="The image ID (Glance makes one if not given)."),
        "disk_format": Prop("string", required=True, description="Disk format of image."),
        "container_format": Prop("string", required=True, description="Container format."),
        "min_disk": Prop("integer", default=0, description="Disk (GB) needed to boot it."),
        "min_ram": Prop("integer", default=0, description="RAM (MB) needed to boot it."),
        "protected": Prop("boolean", default=False, description="Whether it can be deleted."),
        "visibility": Prop("string", default="private", update_allowed=True),
        "tags": Prop("list", update_allowed=True, description="List of image tags."),
        "architecture": Prop("string", update_allowed=True),
        "kernel_id": Prop("string", update_allowed=True, description="ID of a kernel image."),
        "ramdisk_id": Prop("string", update_allowed=True, description="ID of a ramdisk image."),
        "os_distro": Prop("string", update_allowed=True),
        "os_version": Prop("string", update_allowed=True),
        "owner": Prop("string", update_allowed=True, description="Owner of the image."),
        "extra_properties": Prop(
            "map", default={}, update_allowed=True, description="Arbitrary image properties."
        ),
    }
    # The engine answers ``show`` with every attribute: they are the image's Glance view.
    attributes = {"show": "Detailed information about the image."}

    @classmethod
    def check_properties(cls, props: dict[str, Any], path: str, literal: set[str]) -> str:
        found = super().check_properties(props, path, literal)
        if found:
            return found
        allowed = {
            "disk_format": DISK_FORMATS,
            "container_format": CONTAINER_FORMATS,
            "visibility": VISIBILITIES,
        }
        for name, values in allowed.items():
            if name in literal and props.get(name) is not None and props[name] not in values:
                return f"{path}.{name}: {not_allowed(props[name], values)}"
        for name in ("min_disk", "min_ram"):
            value = props.get(name)
            if name in literal and isinstance(value, int) and value < 0:
                return f"{path}.{name}: {value} is out of range (min: 0, max: None)"
        for name in ("kernel_id", "ramdisk_id"):
            value = props.get(name)
            if name in literal and value is not None and not _UUID.match(str(value)):
                return f'{path}.{name}: "{value}" does not match pattern "{_UUID.pattern}"'
        container, disk = props.get("container_format"), props.get("disk_format")
        both = {"container_format", "disk_format"} <= literal
        if both and container in ("ami", "ari", "aki") and disk != container:
            return (
                "Invalid mix of disk and container formats. When setting a disk or container "
                "format to one of 'aki', 'ari', or 'ami', the container and disk formats must "
                "match."
            )
        return ""

    async def create(self, c: Context, props: dict[str, Any]) -> Created:
        images = c.runtime.service(ImageAPI)
        body = {k: props[k] for k in _PLAIN if props.get(k) is not None}
        body.update({str(k): str(v) for k, v in (props.get("extra_properties") or {}).items()})
        made = await images.create_image_as(c.ctx, body)
        image_id = str(made["id"])
        try:
            await images.import_image_as(c.ctx, image_id, "web-download", str(props["location"]))
        except errors.OneStackError as exc:
            raise ServerFailed(image_id, f"{type(exc).__name__}: {exc}") from None
        shown = await _wait_active(c, image_id)
        return Created(image_id, shown)

    async def refresh(
        self, c: Context, physical_id: str, data: dict[str, Any]
    ) -> dict[str, Any] | None:
        return await c.runtime.service(ImageAPI).show_image_as(c.ctx, physical_id)

    async def update(
        self,
        c: Context,
        physical_id: str,
        data: dict[str, Any],
        old: dict[str, Any],
        new: dict[str, Any],
    ) -> dict[str, Any]:
        values = {
            k: new[k]
            for k in _PLAIN
            if k not in ("tags", "extra_properties") and new.get(k) != old.get(k)
        }
        values = {k: v for k, v in values.items() if v is not None}
        if (new.get("tags") or []) != (old.get("tags") or []):
            values["tags"] = list(new.get("tags") or [])
        cleared = [k for k in _PLAIN if old.get(k) is not None and new.get(k) is None]
        before = {str(k): str(v) for k, v in (old.get("extra_properties") or {}).items()}
        after = {str(k): str(v) for k, v in (new.get("extra_properties") or {}).items()}
        values.update({k: v for k, v in after.items() if before.get(k) != v})
        remove = [k for k in before if k not in after] + cleared
        shown = await c.runtime.service(ImageAPI).update_image_as(
            c.ctx, physical_id, values, remove
        )
        return shown

    async def delete(self, c: Context, physical_id: str, data: dict[str, Any]) -> None:
        with contextlib.suppress(errors.NotFound):
            await c.runtime.service(ImageAPI).delete_image_as(c.ctx, physical_id)


async def _wait_active(c: Context, image_id: str) -> dict[str, Any]:
    images = c.runtime.service(ImageAPI)
    deadline = time.monotonic() + WAIT
    while True:
        shown = await images.show_image_as(c.ctx, image_id)
        if shown["status"] == "active":
            return shown
        if shown.get("os_glance_failed_import") or shown["status"] in ("killed", "deleted"):
            raise ServerFailed(image_id, f"Image {image_id}: the import from its location failed")
        if time.monotonic() > deadline:
            raise ServerFailed(image_id, f"Image {image_id} is not active after {WAIT:.0f} s")
        await asyncio.sleep(0.3)


PLUGINS: tuple[type[Plugin], ...] = (WebImage,)
