"""The ``object`` store: image data as objects in the object service (``[image] store =
object``), as Glance's swift store keeps it: one object per image, ``images/<image id>`` in
the image service's own account (``.image``, which no project's token reaches).

An upload is one streamed object PUT: the object service writes it under a temporary name and
renames it into place on ``commit``, so a crash mid-upload leaves no object (its reconcile
scan removes the temporary file): this store has no temporary data of its own.

Booting needs a local file (QEMU opens a path). ``local_file`` keeps a read-only copy of the
image in the host's image cache (``cache``, beside the file store's directory), fetched from
the object store the first time a server boots from it (or when an admin queues the image for
caching) and removed with the image. So boots after the first start from a local file as with
the ``file`` store; the first one waits for one copy of the image over the object service's
streaming read.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

from onestack.image.drivers.base import Chunk, ImageStore, StoreWriter
from onestack.image.drivers.cache import LocalCache

if TYPE_CHECKING:
    from onestack.object.facade import ObjectAPI, ObjectUpload

ACCOUNT = ".image"
CONTAINER = "images"


class ObjectWriter(StoreWriter):
    def __init__(self, store: ObjectImageStore, image_id: str) -> None:
        self.store = store
        self.image_id = image_id
        self.upload: ObjectUpload | None = None

    async def write(self, data: Chunk) -> None:
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

    def __init__(self, objects: ObjectAPI, cache: LocalCache) -> None:
        self.objects = objects
        self.cache = cache
        self._ready = False

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
        self.cache.delete(name)

    async def temporary_ids(self) -> set[str]:
        return set()

    async def clean_temporary(self, image_id: str) -> int:
        return 0

    async def discard(self, image_id: str) -> None:
        await self.objects.delete(ACCOUNT, CONTAINER, image_id)

    async def local_file(self, location: str) -> Path | None:
        """The cached local copy of the image (fetched once, see the module's note)."""
        name = self._name(location)
        size = await self.objects.size(ACCOUNT, CONTAINER, name)
        if size is None:
            return None
        return await self.cache.fill(name, self.objects.read(ACCOUNT, CONTAINER, name), size)
