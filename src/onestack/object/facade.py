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

from onestack.common import errors
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

    async def account_usage(self, account: str) -> tuple[int, int, int] | None:
        """(containers, objects, bytes) of an account; None when nothing was ever written
        to it (metering's ``storage.objects*`` meters)."""
        ...

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


class ContainersAPI(Protocol):
    """Containers made for a project's stacks (orchestration's ``OS::Swift::Container``)."""

    async def create_container(
        self, account: str, container: str, metadata: dict[str, str]
    ) -> None:
        """Create it (or set the metadata of the existing one); header names as Swift's."""
        ...

    async def container_usage(self, account: str, container: str) -> tuple[int, int] | None:
        """(objects, bytes), or None without the container."""
        ...

    async def delete_container(self, account: str, container: str, *, purge: bool) -> None:
        """Delete it (``purge``: its objects first); 409 when not empty, 404 when gone."""
        ...


class ObjectFacade:
    def __init__(self, svc: ObjectService) -> None:
        self.svc = svc

    async def create_container(
        self, account: str, container: str, metadata: dict[str, str]
    ) -> None:
        meta = {k.lower(): v for k, v in metadata.items()}
        await self.svc.store.create_container(account, container, meta, POLICY, now_ts())
        self.svc.forget_container(account, container)

    async def container_usage(self, account: str, container: str) -> tuple[int, int] | None:
        info = await self.svc.store.container_info(account, container)
        return None if info is None else (info.object_count, info.bytes_used)

    async def delete_container(self, account: str, container: str, *, purge: bool) -> None:
        try:
            if purge:
                for entry in await self.svc.store.list_objects(
                    account, container, base.Listing(limit=10000)
                ):
                    if isinstance(entry, base.ObjectEntry):
                        await self.svc.store.delete_object(account, container, entry.name, now_ts())
            await self.svc.store.delete_container(account, container)
        except base.NotFound:
            raise errors.NotFound(f"Container {container} not found.") from None
        except base.ContainerNotEmpty:
            raise errors.Conflict(f"There was a conflict when trying to complete your request: "
                                  f"container {container} is not empty.") from None  # fmt: skip
        finally:
            self.svc.forget_container(account, container)

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

    async def account_usage(self, account: str) -> tuple[int, int, int] | None:
        info = await self.svc.store.account_info(account)
        if info is None:
            return None
        return info.container_count, info.object_count, info.bytes_used

    async def size(self, account: str, container: str, name: str) -> int | None:
        try:
            return (await self.svc.store.object_info(account, container, name)).size
        except base.NotFound:
            return None

    async def delete(self, account: str, container: str, name: str) -> None:
        with contextlib.suppress(base.NotFound):
            await self.svc.store.delete_object(account, container, name, now_ts())
