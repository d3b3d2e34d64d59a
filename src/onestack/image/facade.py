"""What other services may ask of the image service: ``runtime.service(ImageAPI)``.

- ``register_local_image(...)`` copies a local file into the store as an active image,
  idempotently (same name and same sha512: the existing image is returned, its properties
  brought up to date), with the ``min_ram``/``min_disk`` it needs; older images of that name
  and owner become hidden.
- ``open_image(image_id)`` gives the image's record and a *path on this host* holding its
  bytes (the file store keeps one file per image); ``open_image_data`` the path alone. Treat
  the path as read-only (compute makes its qcow2 overlays on top of it); it stays valid while
  the image exists.
- ``create_queued_image``, ``upload_local_file`` and ``delete_image`` make and fill images from
  local files (server snapshots, shelving, backups).
- ``create_image_as``, ``import_image_as``, ``update_image_as``, ``show_image_as`` and
  ``delete_image_as`` do what the API's calls do, as the user ``ctx`` under Glance's policy;
  the image as a dict is its Glance view (``GET /v2/images/{id}``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from onestack.common.context import RequestContext
from onestack.image.service.records import ImageRecord

__all__ = ["IMAGE_NOTIFICATIONS", "ImageAPI", "ImageRecord"]

# The topic of the image service's notifications (``image.create``, ``image.delete``, ...),
# which higher services may subscribe to.
IMAGE_NOTIFICATIONS = "notifications.image"


class ImageAPI(Protocol):
    async def get_image(self, ctx: RequestContext | None, image_id: str) -> ImageRecord:
        """The image as ``ctx`` may see it (404 otherwise); any image for ``None``."""
        ...

    async def open_image(self, image_id: str) -> tuple[ImageRecord, Path]: ...

    async def open_image_data(self, image_id: str) -> Path: ...

    async def register_local_image(
        self,
        *,
        name: str,
        path: Path,
        disk_format: str,
        container_format: str,
        visibility: str,
        owner: str | None,
        properties: dict[str, str],
        min_ram: int = 0,
        min_disk: int = 0,
    ) -> dict[str, Any]: ...

    async def create_queued_image(
        self, *, name: str, owner: str, disk_format: str, properties: dict[str, str]
    ) -> str: ...

    async def upload_local_file(self, image_id: str, path: Path, disk_format: str) -> None: ...

    async def delete_image(self, image_id: str) -> None: ...

    async def owned_with_properties(self, owner: str, properties: dict[str, str]) -> list[str]:
        """The ids of ``owner``'s images carrying every one of ``properties``, newest first."""
        ...

    async def list_images(
        self,
        ctx: RequestContext,
        query: dict[str, str],
        limit: int | None = None,
        marker: str | None = None,
    ) -> list[ImageRecord]:
        """The images ``ctx`` sees, filtered as Glance's list (``query``), newest first."""
        ...

    async def set_image_properties(
        self, ctx: RequestContext, image_id: str, values: dict[str, str], remove: list[str]
    ) -> ImageRecord:
        """Remove then set extra properties, as the image's owner (``ctx``) may."""
        ...

    async def delete_image_as(self, ctx: RequestContext, image_id: str) -> None:
        """Delete an image as ``ctx`` may (Glance's owner and protection checks)."""
        ...

    async def create_image_as(self, ctx: RequestContext, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /v2/images`` with ``body`` (core attributes and extra properties)."""
        ...

    async def import_image_as(
        self, ctx: RequestContext, image_id: str, method: str, uri: str | None = None
    ) -> None:
        """``POST /v2/images/{id}/import``; the import goes on after the return (poll the
        image: ``active``, or ``queued`` with ``os_glance_failed_import`` when it failed)."""
        ...

    async def update_image_as(
        self, ctx: RequestContext, image_id: str, values: dict[str, Any], remove: list[str]
    ) -> dict[str, Any]:
        """Remove the extra properties ``remove`` (those present), then set ``values`` (core
        attributes, ``tags`` as a whole list, or extra properties)."""
        ...

    async def show_image_as(self, ctx: RequestContext, image_id: str) -> dict[str, Any]: ...
