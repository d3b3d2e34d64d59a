"""Object versioning (Swift's versioned_writes): a container with ``X-Versions-Location: V``
(stack mode) or ``X-History-Location: V`` (history mode) keeps each overwritten object in V
as ``<length of name, 3 hex digits><name>/<timestamp>``.

- stack: a DELETE brings the newest older version back (and takes it out of V);
- history: a DELETE copies the object to V, writes a delete marker there, and deletes it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from onestack.object import errors
from onestack.object.api import writes
from onestack.object.api.http import SwiftRequest, fmt_ts, now_ts
from onestack.object.api.metadata import expired
from onestack.object.drivers import base
from onestack.object.drivers.base import ContainerInfo, Listing, ObjectEntry, OpenObject
from onestack.object.service import ObjectService

DELETE_MARKER = "application/x-deleted;swift_versions_deleted=1"


def location(container: ContainerInfo) -> tuple[str, str] | None:
    """(mode, versions container) of a versioned container."""
    meta = container.metadata
    if meta.get("x-versions-location"):
        return "stack", meta["x-versions-location"]
    if meta.get("x-history-location"):
        return "history", meta["x-history-location"]
    return None


def prefix_of(name: str) -> str:
    return f"{len(name.encode()):03x}{name}/"


async def _archive(
    svc: ObjectService, account: str, versions: str, name: str, opened: OpenObject
) -> None:
    info = opened.info

    async def body() -> AsyncIterator[base.Chunk]:
        async for chunk in opened.read():
            yield chunk

    manifest = bool(info.metadata.get("x-static-large-object"))
    await writes.store_object(
        svc,
        account,
        versions,
        prefix_of(name) + fmt_ts(info.timestamp),
        body(),
        length=info.size,
        content_type=info.content_type,
        metadata=dict(info.metadata),
        etag=info.etag if manifest else "",
        listed_size=int(info.metadata["x-object-sysmeta-slo-size"]) if manifest else None,
    )


async def _versions_container(svc: ObjectService, account: str, versions: str) -> None:
    if await svc.container(account, versions) is None:
        raise errors.PreconditionFailed(f"The versions container {versions} does not exist.")


async def before_write(
    svc: ObjectService,
    req: SwiftRequest,
    container: ContainerInfo,
    name: str,
    account: str | None = None,
) -> None:
    """Keep the object about to be overwritten, if its container keeps versions."""
    where = location(container)
    if where is None:
        return
    account = account or req.account
    _, versions = where
    await _versions_container(svc, account, versions)
    try:
        opened = await svc.store.open_object(account, container.name, name)
    except base.NotFound:
        return
    try:
        if not expired(opened.info) and opened.info.content_type != DELETE_MARKER:
            await _archive(svc, account, versions, name, opened)
    finally:
        await opened.close()


async def _newest(svc: ObjectService, account: str, versions: str, name: str) -> ObjectEntry | None:
    try:
        found = await svc.store.list_objects(
            account, versions, Listing(limit=1, prefix=prefix_of(name), reverse=True)
        )
    except base.NotFound:
        return None
    entry = found[0] if found else None
    return entry if isinstance(entry, ObjectEntry) else None


async def on_delete(svc: ObjectService, req: SwiftRequest, container: ContainerInfo) -> bool:
    """Do a versioned container's DELETE; False when the container keeps no versions."""
    where = location(container)
    if where is None:
        return False
    mode, versions = where
    account, name = req.account, req.obj
    if mode == "history":
        await before_write(svc, req, container, name)
        from onestack.object.api.objects import delete_one

        try:
            await delete_one(svc, account, container.name, name)
        finally:
            await writes.store_object(
                svc,
                account,
                versions,
                prefix_of(name) + fmt_ts(now_ts()),
                writes.single(b""),
                length=0,
                content_type=DELETE_MARKER,
                metadata={},
            )
        return True
    newest = await _newest(svc, account, versions, name)
    if newest is None:
        return False
    opened = await svc.store.open_object(account, versions, newest.name)
    try:
        manifest = bool(opened.info.metadata.get("x-static-large-object"))

        async def body() -> AsyncIterator[base.Chunk]:
            async for chunk in opened.read():
                yield chunk

        await writes.store_object(
            svc,
            account,
            container.name,
            name,
            body(),
            length=opened.info.size,
            content_type=opened.info.content_type,
            metadata=dict(opened.info.metadata),
            etag=opened.info.etag if manifest else "",
            listed_size=int(opened.info.metadata["x-object-sysmeta-slo-size"])
            if manifest
            else None,
        )
    finally:
        await opened.close()
    await svc.store.delete_object(account, versions, newest.name, now_ts())
    return True
