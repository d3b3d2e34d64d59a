"""Image data: upload (PUT file), stage and import (glance-direct, web-download), download,
and the local registration other services use. Every path writes through ``ingest`` (one
pass, hashed) and moves the image's status with compare-and-set updates, so two uploads
never race and a failure always puts the image back to ``queued``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, literal, select, update

from onestack.common import errors
from onestack.common.context import RequestContext
from onestack.common.db import utcnow
from onestack.common.logging import get_logger
from onestack.common.quota import lock_quota
from onestack.image.drivers.base import Chunk
from onestack.image.drivers.file import FileStore
from onestack.image.faults import Gone, OverQuota, RangeNotSatisfiable
from onestack.image.formats import virtual_size
from onestack.image.models import Image, ImageProperty
from onestack.image.service.base import ImageContext, is_admin, require_owner, visible_row
from onestack.image.service.ingest import HASH_ALGO, Ingested, ingest
from onestack.image.service.owners import Owner, is_dead
from onestack.image.service.records import ImageRecord
from onestack.image.service.tasks import fail_tasks, finish_task, new_import_task
from onestack.image.service.web import fetch, import_filter

log = get_logger(__name__)

IMPORT_METHODS = ("glance-direct", "web-download")
# The stores an import failed to reach, as Glance names them after a failed import.
FAILED_IMPORT = "os_glance_failed_import"
RECEIVING = ("saving", "uploading", "importing")
READ_BLOCK = 1024 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")

Spawn = Callable[[Coroutine[Any, Any, None], str], None]


@dataclass(frozen=True)
class Download:
    chunks: AsyncIterator[Chunk]
    total: int  # the image's size
    offset: int
    length: int
    checksum: str | None
    partial: bool  # a Range was honoured: 206
    # A local file holding the whole image (the image cache's copy, or the store's own
    # file), which the server may send itself (``sendfile``) instead of ``chunks``.
    path: Path | None = None


def parse_range(header: str | None, total: int) -> tuple[int, int] | None:
    """``Range: bytes=a-b`` (one range) → (offset, length); None for the whole image."""
    if not header:
        return None
    m = _RANGE.match(header.strip())
    if m is None or (not m.group(1) and not m.group(2)):
        return None  # multiple or malformed ranges: RFC 9110 lets us send it all
    first, last = m.group(1), m.group(2)
    if not first:  # suffix: the last N bytes
        n = int(last)
        if n == 0:
            raise RangeNotSatisfiable(size=total)
        start = max(0, total - n)
        return start, total - start
    start = int(first)
    end = min(int(last), total - 1) if last else total - 1
    if start >= total or end < start:
        raise RangeNotSatisfiable(size=total)
    return start, end - start + 1


async def file_chunks(
    path: Path, block: int = READ_BLOCK, offset: int = 0, length: int | None = None
) -> AsyncIterator[bytes]:
    fd = await asyncio.to_thread(os.open, path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        left = length
        while left is None or left > 0:
            want = block if left is None else min(block, left)
            data = await asyncio.to_thread(os.pread, fd, want, offset)
            if not data:
                return
            offset += len(data)
            if left is not None:
                left -= len(data)
            yield data
    finally:
        os.close(fd)


def sha512_of(path: Path) -> str:
    sha = hashlib.sha512()
    with open(path, "rb") as f:
        while block := f.read(READ_BLOCK):
            sha.update(block)
    return sha.hexdigest()


class ImageData:
    def __init__(self, base: ImageContext, spawn: Spawn) -> None:
        self.base = base
        self.db = base.db
        self.settings = base.settings
        self.spawn = spawn
        # Written beside every status this process moves an image into while data arrives.
        self.owner = str(Owner.this_process())
        self.uri_filter = import_filter(base.settings)

    # --- status moves -----------------------------------------------------------------------
    async def _claim(
        self, ctx: RequestContext | None, image_id: str, to: str, need_formats: bool
    ) -> tuple[Image, int, bool]:
        """Move a queued image to ``to``; return the row, the byte limit, whether the limit
        is the project's quota (rather than the largest image allowed)."""
        async with self.db.session() as s:
            row = await visible_row(s, ctx, image_id)
            require_owner(ctx, row, "upload data to")
            if row.status != "queued":
                raise errors.Conflict(
                    f"Image status transition from {row.status} to {to} is not allowed"
                )
            if need_formats and (not row.disk_format or not row.container_format):
                raise errors.BadRequest(
                    "Properties disk_format, container_format must be set prior to saving data."
                )
            limit, by_quota = await self._limit(s, row.owner)
            done = await s.execute(
                update(Image)
                .where(Image.id == image_id, Image.status == "queued")
                .values(status=to, upload_owner=self.owner, updated_at=utcnow())
            )
            if done.rowcount != 1:  # type: ignore[attr-defined]
                raise errors.Conflict(f"Image {image_id} is already receiving data.")
            return row, limit, by_quota

    async def _limit(self, s: Any, owner: str | None) -> tuple[int, bool]:
        limit = self.settings.max_image_size
        quota = self.settings.quota_bytes
        if quota < 0 or owner is None:
            return limit, False
        used = await s.scalar(
            select(func.coalesce(func.sum(Image.size), 0)).where(Image.owner == owner)
        )
        remaining = max(0, quota - int(used or 0))
        return (remaining, True) if remaining < limit else (limit, False)

    async def _room(self, s: Any, image_id: str) -> int | None:
        """The bytes of the owner's quota the image may take (None: no quota), counted under
        the owner's quota lock (held until the activation commits): uploads that each fitted
        when they began cannot all become active past the quota."""
        quota = self.settings.quota_bytes
        owner = await s.scalar(select(Image.owner).where(Image.id == image_id))
        if quota < 0 or owner is None:
            return None
        await lock_quota(s, f"image:{owner}")
        used = await s.scalar(
            select(func.coalesce(func.sum(Image.size), 0)).where(
                Image.owner == owner, Image.id != image_id
            )
        )
        return max(0, quota - int(used or 0))

    async def _requeue(self, image_id: str, source: str) -> None:
        async with self.db.session() as s:
            await s.execute(
                update(Image)
                .where(Image.id == image_id, Image.status == source)
                .values(status="queued", staged=None, upload_owner=None, updated_at=utcnow())
            )

    async def _activate(
        self, image_id: str, source: str, got: Ingested, disk_format: str | None
    ) -> None:
        store = self.base.store
        try:
            vsize = virtual_size(disk_format, got.header, got.size)
        except errors.OneStackError:
            await store.delete(got.location)
            await self._requeue(image_id, source)
            raise
        async with self.db.session() as s:
            room = await self._room(s, image_id)
            fits = room is None or got.size <= room
            done = await s.execute(
                update(Image)
                .where(Image.id == image_id, Image.status == source, literal(fits))
                .values(
                    status="active",
                    size=got.size,
                    virtual_size=vsize,
                    checksum=got.checksum,
                    os_hash_algo=HASH_ALGO,
                    os_hash_value=got.os_hash_value,
                    store=store.name,
                    location=got.location,
                    staged=None,
                    upload_owner=None,
                    updated_at=utcnow(),
                )
            )
            activated = done.rowcount == 1  # type: ignore[attr-defined]
        if not activated and not fits:  # concurrent uploads used up the quota meanwhile
            await store.delete(got.location)
            await self._requeue(image_id, source)
            raise self._too_large(True)(room or 0)
        if not activated:  # deleted (or reset) while the data streamed in
            await store.delete(got.location)
            raise Gone(id=image_id)
        await self.base.notify("upload", image_id)

    @staticmethod
    def _too_large(by_quota: bool) -> Callable[[int], errors.OneStackError]:
        def make(limit: int) -> errors.OneStackError:
            if by_quota:
                return OverQuota(
                    what="Denying attempt to upload image because it exceeds the quota: "
                    f"{limit} bytes of the project's image quota remain."
                )
            return OverQuota(what=f"Image exceeds the largest image size allowed ({limit} bytes).")

        return make

    # --- upload -----------------------------------------------------------------------------
    async def upload(
        self,
        ctx: RequestContext | None,
        image_id: str,
        chunks: AsyncIterator[bytes],
        *,
        declared_size: int | None = None,
        declared_md5: str | None = None,
    ) -> None:
        """PUT /file: queued → saving → active; back to queued on any failure."""
        row, limit, by_quota = await self._claim(ctx, image_id, "saving", need_formats=True)
        try:
            if declared_size is not None and declared_size > limit:
                raise self._too_large(by_quota)(limit)
            got = await ingest(
                chunks,
                self.base.store.writer(image_id),
                limit=limit,
                too_large=self._too_large(by_quota),
                expected_size=declared_size,
                expected_md5=declared_md5,
            )
        except BaseException:
            await asyncio.shield(self._requeue(image_id, "saving"))
            raise
        await self._activate(image_id, "saving", got, row.disk_format)

    # --- interoperable import ---------------------------------------------------------------
    async def stage(
        self,
        ctx: RequestContext | None,
        image_id: str,
        chunks: AsyncIterator[bytes],
        *,
        declared_size: int | None = None,
    ) -> None:
        """PUT /stage: queued → uploading, the data in the staging area until the import."""
        _row, limit, by_quota = await self._claim(ctx, image_id, "uploading", need_formats=False)
        try:
            if declared_size is not None and declared_size > limit:
                raise self._too_large(by_quota)(limit)
            got = await ingest(
                chunks,
                self.base.staging.writer(image_id),
                limit=limit,
                too_large=self._too_large(by_quota),
                expected_size=declared_size,
            )
        except BaseException:
            await asyncio.shield(self._requeue(image_id, "uploading"))
            raise
        staged = {
            "location": got.location,
            "size": got.size,
            "checksum": got.checksum,
            "os_hash_value": got.os_hash_value,
            "header": got.header.hex(),
        }
        async with self.db.session() as s:
            done = await s.execute(
                update(Image)
                .where(Image.id == image_id, Image.status == "uploading")
                .values(staged=staged, updated_at=utcnow())
            )
            kept = done.rowcount == 1  # type: ignore[attr-defined]
        if not kept:
            await self.base.staging.delete(got.location)
            raise Gone(id=image_id)

    async def import_image(
        self,
        ctx: RequestContext | None,
        image_id: str,
        method: str,
        stores: list[str] | None,
        import_req: dict[str, Any] | None = None,
    ) -> None:
        """POST /import: glance-direct moves a staged image (``uploading``), web-download
        fetches the data of a ``queued`` one from ``method.uri``; either way the image is
        ``importing`` until the work, after the 202 under an ``api_image_import`` task, makes
        it ``active`` or, failing, ``queued`` again with ``os_glance_failed_import`` set."""
        if method not in IMPORT_METHODS:
            raise errors.BadRequest(f"Import method {method} is not available on this cloud.")
        for name in stores or []:
            if name != self.base.store.name:
                raise errors.Conflict(f"Store {name} is not available on this cloud.")
        request = import_req if import_req is not None else {"method": {"name": method}}
        uri = (request.get("method") or {}).get("uri")
        web = method == "web-download"
        if web and not self.uri_filter.allows(uri):
            raise errors.BadRequest(f"URI for web-download does not pass filtering: {uri}")
        source = "queued" if web else "uploading"
        async with self.db.session() as s:
            row = await visible_row(s, ctx, image_id)
            require_owner(ctx, row, "import data to")
            if web and row.status != "queued":
                raise errors.Conflict(
                    f"Image needs to be in 'queued' state to use 'web-download' method; "
                    f"its status is '{row.status}'."
                )
            if not web and (row.status != "uploading" or not row.staged):
                raise errors.Conflict(
                    f"Image {image_id} has to be staged (status 'uploading') before it is "
                    f"imported with glance-direct; its status is '{row.status}'."
                )
            if not row.disk_format or not row.container_format:
                raise errors.BadRequest(
                    "Properties disk_format, container_format must be set prior to import."
                )
            limit, by_quota = await self._limit(s, row.owner)
            done = await s.execute(
                update(Image)
                .where(Image.id == image_id, Image.status == source)
                .values(status="importing", upload_owner=self.owner, updated_at=utcnow())
            )
            if done.rowcount != 1:  # type: ignore[attr-defined]
                raise errors.Conflict(f"Image {image_id} is already being imported.")
            # A new attempt: the last one's failure no longer stands.
            await s.execute(
                delete(ImageProperty).where(
                    ImageProperty.image_id == image_id, ImageProperty.name == FAILED_IMPORT
                )
            )
            staged, disk_format = dict(row.staged or {}), row.disk_format
            task_id = new_import_task(s, ctx, image_id, row.owner, request, [self.base.store.name])
        if web:
            work = self._web_download(image_id, str(uri), disk_format, limit, by_quota)
        else:
            work = self._from_staging(image_id, staged, disk_format)
        self.spawn(self._finish_import(image_id, task_id, work), f"image-import-{image_id}")

    async def _finish_import(
        self, image_id: str, task_id: str, work: Coroutine[Any, Any, None]
    ) -> None:
        try:
            await work
        except Exception as exc:
            log.warning("import of image %s failed (%s); it goes back to queued", image_id, exc)
            await self._requeue(image_id, "importing")
            await self._mark_failed(image_id)
            await finish_task(self.db, task_id, image_id, str(exc) or type(exc).__name__)
            return
        await finish_task(self.db, task_id, image_id, None)

    async def _mark_failed(self, image_id: str) -> None:
        async with self.db.session() as s:
            row = await s.get(Image, image_id)
            if row is None or row.status != "queued":
                return  # deleted meanwhile, or already taken by another upload
            await s.merge(
                ImageProperty(image_id=image_id, name=FAILED_IMPORT, value=self.base.store.name)
            )

    async def _web_download(
        self, image_id: str, uri: str, disk_format: str | None, limit: int, by_quota: bool
    ) -> None:
        async with contextlib.aclosing(fetch(uri, self.uri_filter)) as chunks:
            got = await ingest(
                chunks,
                self.base.store.writer(image_id),
                limit=limit,
                too_large=self._too_large(by_quota),
            )
        await self._activate(image_id, "importing", got, disk_format)

    async def _from_staging(
        self, image_id: str, staged: dict[str, Any], disk_format: str | None
    ) -> None:
        source = Path(staged["location"])
        try:
            location = await self.base.store.adopt(image_id, source)
            if location is not None:
                got = Ingested(
                    location,
                    int(staged["size"]),
                    staged["checksum"],
                    staged["os_hash_value"],
                    bytes.fromhex(staged["header"]),
                )
            else:  # another filesystem or store: copy, hashing again on the way
                got = await ingest(
                    self.base.staging.read(staged["location"]),
                    self.base.store.writer(image_id),
                    limit=self.settings.max_image_size,
                    too_large=self._too_large(False),
                    expected_size=int(staged["size"]),
                    expected_md5=staged["checksum"],
                )
                await self.base.staging.delete(staged["location"])
            await self._activate(image_id, "importing", got, disk_format)
        except Exception:
            await self.base.staging.delete(staged["location"])
            raise

    # --- download ---------------------------------------------------------------------------
    def download(
        self, ctx: RequestContext | None, rec: ImageRecord, range_header: str | None
    ) -> Download | None:
        """The image's bytes (or one range of them); None when it has no data (204)."""
        if rec.status == "deactivated" and not is_admin(ctx):
            raise errors.Forbidden(
                "The requested image has been deactivated. Image data download is forbidden."
            )
        if rec.status not in ("active", "deactivated") or rec.location is None:
            return None
        if rec.size is None:
            return None
        if rec.store != self.base.store.name:
            raise errors.ServiceUnavailable(reason=f"the image store {rec.store} is not enabled")
        wanted = parse_range(range_header, rec.size)
        offset, length = wanted if wanted is not None else (0, rec.size)
        # A copy in this host's image cache is read instead of the store (and counted), as
        # Glance's cache middleware serves it.
        cached = self.base.cache.copy(rec.id, rec.size)
        chunks: AsyncIterator[Chunk]
        if cached is not None:
            self.base.cache.hit(cached)
            chunks = file_chunks(cached, offset=offset, length=length)
            path: Path | None = cached
        else:
            chunks = self.base.store.read(rec.location, offset, length)
            path = self.base.store.local_path(rec.location)
        return Download(chunks, rec.size, offset, length, rec.checksum, wanted is not None, path)

    # --- recovery ---------------------------------------------------------------------------
    async def recover(self) -> int:
        """Uploads that can never finish go back to queued, with what they left behind.

        Several API processes (on several hosts) share the database: an upload is reset only
        when its owner (``service/owners.py``) ran on this host and is gone, never while
        another process still receives it. Then temporary data of images no longer receiving
        anything (their upload ended without cleaning up: a crash) goes too. Returns how many
        images were reset."""
        async with self.db.session() as s:
            receiving = (
                await s.execute(
                    select(Image.id, Image.upload_owner).where(Image.status.in_(RECEIVING))
                )
            ).all()
        reset: list[str] = []
        for image_id, owner in receiving:
            if not is_dead(owner):
                continue
            async with self.db.session() as s:
                same_owner = (
                    Image.upload_owner.is_(None) if owner is None else Image.upload_owner == owner
                )
                done = await s.execute(
                    update(Image)
                    .where(Image.id == image_id, Image.status.in_(RECEIVING), same_owner)
                    .values(status="queued", staged=None, upload_owner=None, updated_at=utcnow())
                )
                if done.rowcount != 1:  # type: ignore[attr-defined]
                    continue  # someone else reset it first
                # Still inside the transaction: no upload can claim the image (its row is
                # held) until its leftovers are gone, so none of a new upload's files goes.
                await self._drop_leftovers(image_id, committed=True)
            reset.append(image_id)
        if reset:
            await fail_tasks(self.db, reset, "The process importing the image stopped.")
            log.warning("image data of %d interrupted upload(s) dropped: %s", len(reset), reset)
        await self._sweep()
        return len(reset)

    async def _drop_leftovers(self, image_id: str, committed: bool) -> None:
        """What an upload of ``image_id`` may have left: temporary and staged files, and with
        ``committed`` a file in the store that the row never took as its location."""
        store, staging = self.base.store, self.base.staging
        await store.clean_temporary(image_id)
        if committed:
            await store.discard(image_id)
        await staging.clean_temporary(image_id)
        await staging.discard(image_id)

    async def _sweep(self) -> None:
        """Temporary and staged data of images not receiving anything: an upload that ended
        without cleaning up (its process died, then the image was deleted or reset)."""
        found = await self.base.store.temporary_ids() | await self.base.staging.temporary_ids()
        if isinstance(self.base.staging, FileStore):
            found |= await self.base.staging.stored_ids()
        if not found:
            return
        async with self.db.session() as s:
            # Hold the rows of idle images first (a no-op write: no upload can claim them
            # until this commits), then read which images are receiving data.
            await s.execute(
                update(Image)
                .where(Image.id.in_(found), Image.status.not_in(RECEIVING))
                .values(upload_owner=None)
            )
            busy = set(
                await s.scalars(
                    select(Image.id).where(Image.id.in_(found), Image.status.in_(RECEIVING))
                )
            )
            for image_id in found - busy:
                await self._drop_leftovers(image_id, committed=False)

    async def recover_forever(self, interval: float) -> None:
        """``recover`` every ``interval`` seconds: the uploads of an API process that died
        on this host go back to queued without waiting for a restart here."""
        while True:
            await asyncio.sleep(interval)
            try:
                await self.recover()
            except errors.OneStackError:
                log.exception("image upload recovery failed; trying again in %ss", interval)
