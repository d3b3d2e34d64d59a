"""What other services may ask of the object service: ``runtime.service(ObjectAPI)``.

The image service's ``object`` store keeps image data here (as Glance's swift store does),
volume backups will. Calls act as the service itself (no token, no ACL): the caller names
the account (``AUTH_<project>`` or a service account of its own, like ``.image``).

- ``ensure_container`` makes a container if it is missing;
- ``upload`` starts a streamed write: ``write`` chunks, then ``commit`` (atomic: the old
  object stays whole until then) or ``abort``;
- ``read`` streams an object's bytes (a range of them), ``size`` tells its length;
- ``delete`` removes one (a missing one is not an error).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Protocol

from onestack.object.api.http import now_ts
from onestack.object.api.metadata import POLICY
from onestack.object.drivers import base
from onestack.object.drivers.base import Chunk
from onestack.object.service import ObjectService

__all__ = ["Chunk", "ObjectAPI", "ObjectFacade", "ObjectUpload"]


class ObjectUpload(Protocol):
    @property
    def size(self) -> int: ...

    async def write(self, data: Chunk) -> None: ...

    async def commit(self) -> str:
        """Store the object; its md5."""
        ...

    async def abort(self) -> None: ...


class ObjectAPI(Protocol):
    async def ensure_container(self, account: str, container: str) -> None: ...

    def upload(
        self, account: str, container: str, name: str, content_type: str = ...
    ) -> ObjectUpload: ...

    def read(
        self, account: str, container: str, name: str, offset: int = 0, length: int | None = None
    ) -> AsyncIterator[Chunk]: ...

    async def size(self, account: str, container: str, name: str) -> int | None: ...

    async def delete(self, account: str, container: str, name: str) -> None: ...


class _Upload:
    def __init__(self, writer: base.ObjectWriter, content_type: str) -> None:
        self.writer = writer
        self.content_type = content_type

    @property
    def size(self) -> int:
        return self.writer.size

    async def write(self, data: Chunk) -> None:
        await self.writer.write(data)

    async def commit(self) -> str:
        info = await self.writer.commit(
            content_type=self.content_type, metadata={}, timestamp=now_ts()
        )
        return info.etag

    async def abort(self) -> None:
        await self.writer.abort()


class ObjectFacade:
    def __init__(self, svc: ObjectService) -> None:
        self.svc = svc

    async def ensure_container(self, account: str, container: str) -> None:
        if await self.svc.store.container_info(account, container) is None:
            await self.svc.store.create_container(account, container, {}, POLICY, now_ts())
            self.svc.forget_container(account, container)

    def upload(
        self,
        account: str,
        container: str,
        name: str,
        content_type: str = "application/octet-stream",
    ) -> ObjectUpload:
        return _Upload(self.svc.store.writer(account, container, name), content_type)

    async def read(
        self, account: str, container: str, name: str, offset: int = 0, length: int | None = None
    ) -> AsyncIterator[Chunk]:
        opened = await self.svc.store.open_object(account, container, name)
        try:
            async for chunk in opened.read(offset, length):
                yield chunk
        finally:
            await opened.close()

    async def size(self, account: str, container: str, name: str) -> int | None:
        try:
            return (await self.svc.store.object_info(account, container, name)).size
        except base.NotFound:
            return None

    async def delete(self, account: str, container: str, name: str) -> None:
        with contextlib.suppress(base.NotFound):
            await self.svc.store.delete_object(account, container, name, now_ts())
