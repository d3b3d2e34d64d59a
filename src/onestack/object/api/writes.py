"""Storing an object, the one way every write takes (PUT, copies, versions, form POST,
archive extraction, the image store): the body streams into the store's writer; nothing
replaces the old object unless every byte came and its md5 is the one asked for."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager

from onestack.common import filelock
from onestack.object import errors
from onestack.object.api.http import now_ts
from onestack.object.drivers import base
from onestack.object.drivers.base import Chunk, ContainerInfo, ObjectInfo
from onestack.object.service import ObjectService

UPLOAD_EXCEEDS_QUOTA = "Upload exceeds quota."
CONTAINER_QUOTAS = ("x-container-meta-quota-bytes", "x-container-meta-quota-count")
ACCOUNT_QUOTAS = ("x-account-quota-bytes", "x-account-meta-quota-bytes", "x-account-quota-count")


async def store_object(
    svc: ObjectService,
    account: str,
    container: str,
    name: str,
    chunks: AsyncIterator[Chunk],
    *,
    length: int | None,
    content_type: str,
    metadata: dict[str, str],
    expect_md5: str | None = None,
    etag: str = "",
    listed_size: int | None = None,
    timestamp: float | None = None,
    quota: ContainerInfo | None = None,
) -> ObjectInfo:
    """Store the object; with ``quota`` (the container's info), Swift's quotas are counted
    again once every byte came, under the account's commit lock (``_commit_lock``)."""
    writer = svc.store.writer(account, container, name)
    limit = svc.settings.max_file_size
    try:
        async for chunk in chunks:
            await writer.write(chunk)
            if writer.size > limit:
                raise errors.TooLarge()
            if length is not None and writer.size > length:
                raise errors.BadRequest("The body is longer than its Content-Length.")
        if length is not None and writer.size < length:
            raise errors.ClientDisconnect()  # the body ended short: keep the old object
        commit = functools.partial(
            writer.commit,
            content_type=content_type,
            metadata=metadata,
            timestamp=timestamp or now_ts(),
            etag=etag,
            expect_md5=expect_md5,
            listed_size=listed_size,
        )
        if quota is None or not await has_quota(svc, account, quota):
            return await commit()
        async with _commit_lock(svc, account):
            await check_quotas(svc, account, quota, writer.size)
            return await commit()
    except base.EtagMismatch:
        raise errors.Unprocessable() from None
    except base.NotFound:
        raise errors.NotFound() from None
    except BaseException:
        await writer.abort()
        raise


async def single(data: bytes) -> AsyncIterator[Chunk]:
    if data:
        yield data


# A quota's check passes for every upload that begins while the others stream in: an
# account with a quota commits one object at a time, each counted again just before, across
# every API process on the host whose disk holds the store (`onestack api` scale-out).
def _commit_lock(svc: ObjectService, account: str) -> AbstractAsyncContextManager[None]:
    name = hashlib.sha256(account.encode()).hexdigest()[:32]
    return filelock.held(svc.lock_dir / f"commit-{name}")


async def has_quota(svc: ObjectService, account: str, container: ContainerInfo) -> bool:
    """Whether the container or its account has a quota (the account as cached)."""
    if any(key in container.metadata for key in CONTAINER_QUOTAS):
        return True
    acct = await svc.account(account)
    return acct is not None and any(key in acct.metadata for key in ACCOUNT_QUOTAS)


async def check_quotas(
    svc: ObjectService, account: str, container: ContainerInfo, length: int, count: int = 1
) -> None:
    """Swift's container_quotas and account_quotas: 413 when ``length`` more bytes (and
    ``count`` more objects) would pass a quota."""
    meta = container.metadata
    quota_bytes = meta.get("x-container-meta-quota-bytes")
    quota_count = meta.get("x-container-meta-quota-count")
    if quota_bytes or quota_count:
        fresh = await svc.store.container_info(account, container.name)
        if fresh is not None:
            if quota_bytes and fresh.bytes_used + length > int(quota_bytes):
                raise errors.TooLarge(UPLOAD_EXCEEDS_QUOTA)
            if quota_count and fresh.object_count + count > int(quota_count):
                raise errors.TooLarge(UPLOAD_EXCEEDS_QUOTA)
    acct = await svc.account(account)
    if acct is None:
        return
    acct_bytes = acct.metadata.get("x-account-quota-bytes") or acct.metadata.get(
        "x-account-meta-quota-bytes"
    )
    acct_count = acct.metadata.get("x-account-quota-count")
    if acct_bytes or acct_count:
        fresh_acct = await svc.store.account_info(account)
        if fresh_acct is not None:
            if acct_bytes and fresh_acct.bytes_used + length > int(acct_bytes):
                raise errors.TooLarge(UPLOAD_EXCEEDS_QUOTA)
            if acct_count and fresh_acct.object_count + count > int(acct_count):
                raise errors.TooLarge(UPLOAD_EXCEEDS_QUOTA)
