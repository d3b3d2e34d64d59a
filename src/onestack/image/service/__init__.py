"""The image service layer: the only code that writes image tables. Other services reach it
through ``image.facade.ImageAPI``."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from onestack.common import errors
from onestack.common.bus import Bus
from onestack.common.context import RequestContext
from onestack.common.db import Database
from onestack.common.pagination import PageParams
from onestack.common.policy import Enforcer
from onestack.config import ImageSettings
from onestack.image.drivers.base import ImageStore
from onestack.image.drivers.cache import LocalCache
from onestack.image.models import Image, ImageProperty
from onestack.image.service.as_caller import AsCaller
from onestack.image.service.base import ImageContext
from onestack.image.service.cache import ImageCache
from onestack.image.service.data import Download, ImageData, Spawn, file_chunks, sha512_of
from onestack.image.service.images import Images, PatchOp, parse_patch
from onestack.image.service.members import Members
from onestack.image.service.metadef_items import MetadefItems
from onestack.image.service.metadefs import Metadefs
from onestack.image.service.records import ImageRecord, MemberRecord, TaskRecord
from onestack.image.service.task_api import Tasks
from onestack.image.service.tasks import image_tasks
from onestack.image.views import image_view

__all__ = [
    "Download",
    "ImageRecord",
    "ImageService",
    "MemberRecord",
    "PatchOp",
    "parse_patch",
]


class ImageService(AsCaller):
    def __init__(
        self,
        db: Database,
        bus: Bus,
        settings: ImageSettings,
        store: ImageStore,
        staging: ImageStore,
        spawn: Spawn,
        cache: LocalCache,
        enforcer: Enforcer | None = None,
    ) -> None:
        self.settings = settings
        self.enforcer = enforcer
        self.base = ImageContext(
            db=db, bus=bus, settings=settings, store=store, staging=staging, cache=cache
        )
        self.cache = ImageCache(self.base)
        self.images = Images(self.base)
        self.data = ImageData(self.base, spawn)
        self.members = Members(self.base)
        self.metadefs = Metadefs(db)
        self.metadef_items = MetadefItems(db)
        self.tasks = Tasks(self.base, self.images, self.data, spawn)

    @property
    def store(self) -> ImageStore:
        return self.base.store

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
    ) -> dict[str, Any]:
        """Copy ``path`` into the store as an active image (hashing it on the way) and
        return its Glance view; an active image of that name with the same sha512 is
        returned instead of a second copy (its ``min_ram``/``min_disk`` and ``properties``
        brought up to date).
        Older images of that name and owner are then hidden (``os_hidden``): the name keeps
        meaning one image to ``--image NAME``, and servers booted from them keep working."""
        async with self.base.db.session() as s:
            found = await s.execute(
                select(Image.id, Image.os_hash_value).where(
                    Image.name == name,
                    Image.status == "active",
                    Image.owner.is_(None) if owner is None else Image.owner == owner,
                )
            )
            same_name = found.all()
        image_id = None
        if same_name:
            digest = await asyncio.to_thread(sha512_of, path)
            image_id = next((i for i, value in same_name if value == digest), None)
        if image_id is not None:
            # The same file registered by an older OneStack: it gets today's properties (a
            # kernel_id its build kept apart, say).
            rec = await self.images.get(None, image_id)
            have = dict(getattr(rec, "properties", {}) or {})
            stale = [PatchOp("add", k, v) for k, v in properties.items() if have.get(k) != v]
            if stale:
                await self.images.update(None, image_id, stale)
        else:
            image_id = await self._copy_in(
                path,
                {
                    "name": name,
                    "disk_format": disk_format,
                    "container_format": container_format,
                    "visibility": visibility,
                    "owner": owner,
                    "min_ram": min_ram,
                    "min_disk": min_disk,
                },
                properties,
            )
        await self._settle(image_id, [i for i, _ in same_name], min_ram, min_disk)
        return image_view(await self.images.get(None, image_id))

    async def _copy_in(self, path: Path, core: dict[str, Any], properties: dict[str, str]) -> str:
        rec = await self.images.create(None, core, dict(properties))
        size = (await asyncio.to_thread(path.stat)).st_size
        try:
            await self.data.upload(None, rec.id, file_chunks(path), declared_size=size)
        except BaseException:
            await asyncio.shield(self.images.delete(None, rec.id))
            raise
        return rec.id

    async def _settle(
        self, image_id: str, same_name: list[str], min_ram: int, min_disk: int
    ) -> None:
        async with self.base.db.session() as s:
            row = await s.get(Image, image_id)
            if row is not None:
                row.min_ram, row.min_disk, row.os_hidden = min_ram, min_disk, False
            for other in same_name:
                older = await s.get(Image, other)
                if older is not None and other != image_id:
                    older.os_hidden = True

    async def create_queued_image(
        self, *, name: str, owner: str, disk_format: str, properties: dict[str, str]
    ) -> str:
        """A private image with no data yet (a server snapshot, say); its id."""
        core: dict[str, Any] = {
            "name": name,
            "disk_format": disk_format,
            "container_format": "bare",
            "visibility": "private",
            "owner": owner,
        }
        rec = await self.images.create(None, core, dict(properties))
        return rec.id

    async def upload_local_file(self, image_id: str, path: Path, disk_format: str) -> None:
        """Fill a queued image with a local file's bytes (hashing them on the way)."""
        async with self.base.db.session() as s:
            row = await s.get(Image, image_id)
            if row is not None and row.disk_format != disk_format:
                row.disk_format = disk_format
        size = (await asyncio.to_thread(path.stat)).st_size
        await self.data.upload(None, image_id, file_chunks(path), declared_size=size)

    async def get_image(self, ctx: RequestContext | None, image_id: str) -> ImageRecord:
        return await self.images.get(ctx, image_id)

    async def delete_image(self, image_id: str) -> None:
        await self.images.delete(None, image_id)

    # --- what Nova's image proxy (compute below 2.36) asks, as the caller ------------------
    async def list_images(
        self,
        ctx: RequestContext,
        query: dict[str, str],
        limit: int | None = None,
        marker: str | None = None,
    ) -> list[ImageRecord]:
        page = PageParams(limit=limit, marker=marker, sort=(("created_at", "desc"),))
        return await self.images.listing(ctx, query, [], page)

    async def set_image_properties(
        self, ctx: RequestContext, image_id: str, values: dict[str, str], remove: list[str]
    ) -> ImageRecord:
        ops = [PatchOp("remove", key) for key in remove]
        ops += [PatchOp("add", key, value) for key, value in values.items()]
        return await self.images.update(ctx, image_id, ops)

    async def delete_image_as(self, ctx: RequestContext, image_id: str) -> None:
        await self.images.delete(ctx, image_id)

    async def owned_with_properties(self, owner: str, properties: dict[str, str]) -> list[str]:
        """The ids of ``owner``'s images carrying every one of ``properties``, newest first
        (what a server backup's rotation counts)."""
        stmt = select(Image.id).where(Image.owner == owner, Image.status != "deleted")
        for name, value in properties.items():
            prop = aliased(ImageProperty)
            stmt = stmt.join(prop, prop.image_id == Image.id).where(
                prop.name == name, prop.value == value
            )
        async with self.base.db.session() as s:
            rows = await s.scalars(stmt.order_by(Image.created_at.desc(), Image.id.desc()))
            return list(rows)

    async def open_image_data(self, image_id: str) -> Path:
        """A local path holding the active image's bytes (read-only for the caller)."""
        return (await self.open_image(image_id))[1]

    async def open_image(self, image_id: str) -> tuple[ImageRecord, Path]:
        """The image (its properties, its format) and a local path holding its bytes, as
        ``open_image_data`` gives it: one lookup of the image, not two (a boot needs both)."""
        rec = await self.images.get(None, image_id)
        if rec.status != "active" or rec.location is None:
            raise errors.Conflict(f"Image {image_id} has no data (status {rec.status}).")
        if rec.store != self.store.name:
            raise errors.ServiceUnavailable(reason=f"the image store {rec.store} is not enabled")
        cached = self.base.cache.copy(rec.id, rec.size)
        if cached is not None:
            await asyncio.to_thread(self.base.cache.hit, cached)
            return rec, cached
        path = await self.store.local_file(rec.location)
        if path is None:
            raise errors.ServiceUnavailable(reason="the image store keeps no local files")
        return rec, path

    async def usage(self, project_id: str | None) -> dict[str, int]:
        """A project's images: how many, their bytes, how many are receiving data."""
        async with self.base.db.session() as s:
            count, total = (
                await s.execute(
                    select(func.count(), func.coalesce(func.sum(Image.size), 0)).where(
                        Image.owner == project_id
                    )
                )
            ).one()
            receiving: int | None = await s.scalar(
                select(func.count()).where(
                    Image.owner == project_id,
                    Image.status.in_(("saving", "uploading", "importing")),
                )
            )
        return {"count": int(count), "bytes": int(total or 0), "receiving": int(receiving or 0)}

    async def image_tasks(self, image_id: str) -> list[TaskRecord]:
        """The import tasks of an image the caller has been allowed to see."""
        return await image_tasks(self.base.db, image_id)

    async def recover(self) -> int:
        return await self.data.recover()
