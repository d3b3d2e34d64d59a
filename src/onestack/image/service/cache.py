"""Glance's cache management API (``/v2/cache``, image API 2.14) over this host's image cache
(``drivers.cache.LocalCache``): what is cached and queued, queueing an active image, dropping
copies. A prefetcher (Glance's ``cache_prefetcher``) copies each queued image from the store
into the cache, woken at once by a queueing in this process and every ``interval`` seconds for
queueings made by another API worker on the host. Cached copies are what boots and downloads
read (``ImageService.open_image``, ``ImageData.download``)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from onestack.common import errors
from onestack.common.logging import get_logger
from onestack.image.models import Image
from onestack.image.service.base import ImageContext, valid_id

log = get_logger(__name__)
CLEAR_TARGETS = ("cache", "queue", "both")


class ImageCache:
    def __init__(self, base: ImageContext) -> None:
        self.base = base
        self.cache = base.cache
        self._wake = asyncio.Event()

    async def status(self) -> dict[str, Any]:
        copies = await asyncio.to_thread(self.cache.entries)
        queued = await asyncio.to_thread(self.cache.queued)
        return {
            "cached_images": [
                {
                    "image_id": c.image_id,
                    "hits": c.hits,
                    "last_accessed": c.last_accessed,
                    "last_modified": c.last_modified,
                    "size": c.size,
                }
                for c in copies
            ],
            "queued_images": queued,
        }

    async def _image(self, image_id: str) -> Image:
        row = None
        if valid_id(image_id):
            async with self.base.db.session() as s:
                row = await s.get(Image, image_id)
        if row is None:
            raise errors.NotFound(f"No image found with ID {image_id}")
        return row

    async def queue(self, image_id: str) -> None:
        row = await self._image(image_id)
        if row.status != "active":
            raise errors.BadRequest("Only images with status active can be targeted for queueing")
        if self.cache.copy(image_id, row.size) is None:
            await asyncio.to_thread(self.cache.enqueue, image_id)
            self._wake.set()

    async def delete(self, image_id: str) -> None:
        await self._image(image_id)
        await asyncio.to_thread(self.cache.delete, image_id)

    async def clear(self, target: str | None) -> None:
        target = target or "both"
        if target not in CLEAR_TARGETS:
            raise errors.BadRequest(
                "If provided 'x-image-cache-clear-target' must be 'cache', 'queue' or empty string."
            )
        await asyncio.to_thread(
            self.cache.clear, target in ("cache", "both"), target in ("queue", "both")
        )

    # -- the prefetcher ---------------------------------------------------------------------
    async def prefetch_forever(self, interval: float) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=interval)
            self._wake.clear()
            try:
                await self.prefetch()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("image cache: prefetch round failed")

    async def prefetch(self) -> int:
        """Copy every queued image into the cache; how many were cached."""
        done = 0
        for image_id in await asyncio.to_thread(self.cache.queued):
            async with self.base.db.session() as s:
                row = await s.get(Image, image_id)
                location, size, status = (
                    (row.location, row.size, row.status) if row else (None, None, "")
                )
                store = row.store if row else None
            if status != "active" or location is None or store != self.base.store.name:
                log.info("image cache: %s is no longer cachable, dropped from the queue", image_id)
                await asyncio.to_thread(self.cache.dequeue, image_id)
                continue
            try:
                await self.cache.fill(image_id, self.base.store.read(location), size)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("image cache: caching image %s failed; it stays queued", image_id)
                continue
            await asyncio.to_thread(self.cache.dequeue, image_id)
            async with self.base.db.session() as s:
                gone = await s.get(Image, image_id) is None
            if gone:  # deleted while it was copied: its delete found no copy to remove
                await asyncio.to_thread(self.cache.delete, image_id)
                continue
            done += 1
        return done
