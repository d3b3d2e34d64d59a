"""The ``object`` store: image data as objects in the object service (``[image] store =
object``), as Glance's swift store keeps it: one object per image, ``images/<image id>`` in
the image service's own account (``.image``, which no project's token reaches).

An upload is one streamed object PUT: the object service writes it under a temporary name and
renames it into place on ``commit``, so a crash mid-upload leaves no object (its reconcile
scan removes the temporary file): this store has no temporary data of its own.

Booting needs a local file (QEMU opens a path). ``local_file`` keeps a read-only copy of the
image in ``cache/`` beside the file store's directory, fetched from the object store the first
time a server boots from it (written under a temporary name, flushed, renamed) and removed with
the image. So boots after the first start from a local file as with the ``file`` store; the
first one waits for one copy of the image over the object service's streaming read.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

from onestack.image.drivers.base import Chunk, ImageStore, StoreWriter

if TYPE_CHECKING:
    from onestack.object.facade import ObjectAPI, ObjectUpload

ACCOUNT = ".image"
CONTAINER = "images"


class ObjectWriter(StoreWriter):
    def __init__(self, store: ObjectImageStore, image_id: str) -> None:
        self.store = store
        self.image_id = image_id
        self.upload: ObjectUpload | None = None

    async def write(self, data: bytes) -> None:
        if self.upload is None:
            await self.store.ready()
            self.upload = self.store.objects.upload(ACCOUNT, CONTAINER, self.image_id)
        await self.upload.write(data)

    async def commit(self) -> str:
        if self.upload is None:  # an empty image is an empty object
            await self.write(b"")
        assert self.upload is not None
        await self.upload.commit()
        return f"{CONTAINER}/{self.image_id}"

    async def abort(self) -> None:
        if self.upload is not None:
            await self.upload.abort()


class ObjectImageStore(ImageStore):
    name = "object"
    description = "Image data in the object store (Swift API), as Glance's swift store keeps it."

    def __init__(self, objects: ObjectAPI, cache_dir: Path) -> None:
        self.objects = objects
        self.cache_dir = cache_dir
        cache_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._ready = False
        self._fetching: dict[str, asyncio.Lock] = {}

    async def ready(self) -> None:
        if not self._ready:
            await self.objects.ensure_container(ACCOUNT, CONTAINER)
            self._ready = True

    def _name(self, location: str) -> str:
        container, _, name = location.partition("/")
        if container != CONTAINER or not name or "/" in name:
            raise ValueError(f"location {location!r} is not in the object store")
        return name

    def writer(self, image_id: str) -> StoreWriter:
        return ObjectWriter(self, image_id)

    async def read(
        self, location: str, offset: int = 0, length: int | None = None
    ) -> AsyncIterator[Chunk]:
        async for chunk in self.objects.read(
            ACCOUNT, CONTAINER, self._name(location), offset, length
        ):
            yield chunk

    async def delete(self, location: str) -> None:
        name = self._name(location)
        await self.objects.delete(ACCOUNT, CONTAINER, name)
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(os.unlink, self.cache_dir / name)

    async def temporary_ids(self) -> set[str]:
        return set()

    async def clean_temporary(self, image_id: str) -> int:
        return 0

    async def discard(self, image_id: str) -> None:
        await self.objects.delete(ACCOUNT, CONTAINER, image_id)

    async def local_file(self, location: str) -> Path | None:
        """The cached local copy of the image (fetched once, see the module's note)."""
        name = self._name(location)
        target = self.cache_dir / name
        lock = self._fetching.setdefault(name, asyncio.Lock())
        async with lock:
            size = await self.objects.size(ACCOUNT, CONTAINER, name)
            if size is None:
                return None
            if target.exists() and target.stat().st_size == size:
                return target
            temp = self.cache_dir / f".{name}.{secrets.token_hex(4)}"
            fd = await asyncio.to_thread(os.open, temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            try:
                async for chunk in self.objects.read(ACCOUNT, CONTAINER, name):
                    await asyncio.to_thread(_write_all, fd, chunk)
                await asyncio.to_thread(os.fsync, fd)
            except BaseException:
                os.close(fd)
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temp)
                raise
            os.close(fd)
            await asyncio.to_thread(os.replace, temp, target)
        self._fetching.pop(name, None)
        return target


def _write_all(fd: int, data: Chunk) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
