"""One pass over an upload: hash (md5 and sha512), count, keep the header, write to a store.

The stream is read chunk by chunk and gathered into batches of ``BATCH`` bytes; while one
batch is hashed (two worker threads: hashlib releases the GIL) and written (a third), the
event loop collects the next one. At most two batches are in memory whatever the image size.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from onestack.common import errors
from onestack.image.drivers.base import Chunk, StoreWriter
from onestack.image.formats import HEADER_BYTES

BATCH = 4 * 1024 * 1024
HASH_ALGO = "sha512"


@dataclass(frozen=True)
class Ingested:
    location: str
    size: int
    checksum: str  # md5, Glance's legacy checksum
    os_hash_value: str  # sha512
    header: bytes  # the first HEADER_BYTES, for the virtual size


def normalize_md5(value: str) -> str:
    """``Content-MD5`` as hex (Glance's form) or base64 (RFC 1864) → lowercase hex."""
    value = value.strip()
    if len(value) == 32:
        return value.lower()
    import base64
    import binascii

    try:
        return base64.b64decode(value, validate=True).hex()
    except (binascii.Error, ValueError):
        raise errors.BadRequest(f"Invalid Content-MD5 header {value!r}.") from None


async def ingest(
    chunks: AsyncIterator[Chunk],
    writer: StoreWriter,
    *,
    limit: int,
    too_large: Callable[[int], errors.OneStackError],
    expected_size: int | None = None,
    expected_md5: str | None = None,
) -> Ingested:
    """Store the stream through ``writer``; commit only if the size and md5 match.

    ``limit`` is the most bytes accepted (``too_large(limit)`` is raised beyond it). On any
    failure, including the client going away, the writer is aborted: nothing is left behind.
    """
    md5 = hashlib.md5(usedforsecurity=False)
    sha = hashlib.sha512()
    header = bytearray()
    size = 0
    buf = bytearray()
    pending: asyncio.Future[Any] | None = None

    def flush(data: bytes) -> asyncio.Future[Any]:
        return asyncio.gather(
            asyncio.to_thread(md5.update, data),
            asyncio.to_thread(sha.update, data),
            writer.write(data),
        )

    try:
        async for chunk in chunks:
            if not chunk:
                continue
            size += len(chunk)
            if size > limit:
                raise too_large(limit)
            if len(header) < HEADER_BYTES:
                header += chunk[: HEADER_BYTES - len(header)]
            buf += chunk
            if len(buf) >= BATCH:
                if pending is not None:
                    await pending
                pending = flush(bytes(buf))
                buf.clear()
        if pending is not None:
            await pending
            pending = None
        if buf:
            await flush(bytes(buf))
        if expected_size is not None and size != expected_size:
            raise errors.BadRequest(
                f"Size of the uploaded data ({size}) does not match the declared size "
                f"({expected_size})."
            )
        checksum = md5.hexdigest()
        if expected_md5 is not None and checksum != expected_md5:
            raise errors.BadRequest(
                f"Checksum of the uploaded data ({checksum}) does not match the declared "
                f"checksum ({expected_md5})."
            )
        location = await writer.commit()
    except BaseException:
        if pending is not None:
            # Let the in-flight batch finish before the file it writes to goes away.
            await asyncio.shield(asyncio.wait([pending]))
        await asyncio.shield(writer.abort())
        raise
    return Ingested(location, size, checksum, sha.hexdigest(), bytes(header))
