"""The ``disk`` store: object files (``files.py``) and one listing database per account
(``listings.py``) under one directory.

Order of writes, so that a crash at any instant leaves nothing the reconcile scan cannot
mend: a PUT renames the object file into place *then* lists it; a DELETE removes the file
*then* unlists it. So a crash leaves at worst a file not (yet) listed, or a listing row whose
file is gone: ``reconcile`` lists the one and unlists the other.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import os
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, TypeVar

from onestack.common.dataio import diskwrite
from onestack.common.dataio.pipeline import Block, Pipeline
from onestack.common.dataio.workers import Workers, settle
from onestack.object.drivers.base import (
    AccountInfo,
    Chunk,
    ContainerEntry,
    ContainerInfo,
    EtagMismatch,
    Expiring,
    Listing,
    NotFound,
    ObjectEntry,
    ObjectInfo,
    ObjectStore,
    ObjectWriter,
    OpenObject,
    Subdir,
    listed_type,
)
from onestack.object.drivers.disk import files, queries
from onestack.object.drivers.disk.expiring import ExpiringQueue
from onestack.object.drivers.disk.listings import Listed, Listings

T = TypeVar("T")

WRITE_BUFFER = 1024 * 1024  # bytes gathered into a block before its md5 and write
IN_FLIGHT = 8 * WRITE_BUFFER  # bytes of one upload queued for or in its md5 and write
WRITEBACK_STEP = 8 * WRITE_BUFFER  # bytes written before the kernel is told to flush them
NOWAIT = hasattr(os, "RWF_NOWAIT")
READ_BLOCK = 4 * 1024 * 1024
# A small body's md5 is taken without letting go of the GIL: OpenSSL's md5 lets go of it
# from 2 KiB up for a few µs of hashing, and under 16 clients each PUT's thread then had
# to take it back after the other threads' turns. CPython's own md5 keeps it (~10 µs for
# 4 KiB, OpenSSL's ~9).
HELD_MD5 = 64 * 1024
try:
    from _md5 import md5 as builtin_md5
except ImportError:  # a Python built without its own hashes: OpenSSL's, as for large ones
    builtin_md5 = None


def _delete_at(metadata: dict[str, str]) -> float | None:
    raw = metadata.get("x-delete-at")
    return float(raw) if raw else None


class DiskWriter(ObjectWriter):
    def __init__(self, store: DiskStore, account: str, container: str, name: str) -> None:
        self.store = store
        self.account, self.container, self.name = account, container, name
        self.digest = files.object_hash(account, container, name)
        self.final = store.layout.data_path(self.digest)
        self.temp = store.layout.temp_path(self.digest)
        self.size = 0
        self.etag = ""
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._fd: int | None = None
        self._buffer: list[Chunk] = []
        self._buffered = 0
        self._lanes: Pipeline | None = None  # made at the first full block
        self._appender = diskwrite.Appender(WRITEBACK_STEP)  # the write lane's

    def _open(self) -> int:
        if self._fd is None:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
            try:
                self._fd = os.open(self.temp, flags, 0o600)
            except FileNotFoundError:  # the first object of its directory
                self.store.layout.make_suffix_dir(os.path.dirname(self.temp))
                self._fd = os.open(self.temp, flags, 0o600)
        return self._fd

    def _hash(self, block: Block) -> None:
        for chunk in block:
            self._md5.update(chunk)

    def _append(self, block: Block) -> None:
        self._appender.append(self._open(), block)

    async def write(self, data: Chunk) -> None:
        if not data:
            return
        self.size += len(data)
        self._buffer.append(data)
        self._buffered += len(data)
        if self._buffered >= WRITE_BUFFER:
            block, size = self._buffer, self._buffered
            self._buffer, self._buffered = [], 0
            if self._lanes is None:
                self._lanes = Pipeline(self.store.pool, (self._hash, self._append), IN_FLIGHT)
            await self._lanes.put(block, size)

    def _finish(
        self,
        loop: asyncio.AbstractEventLoop,
        fut: asyncio.Future[None],
        rest: bytes,
        meta: dict[str, Any],
        expect_md5: str | None,
        listed_size: int | None,
    ) -> None:
        """Write the rest and the trailer, flush, rename into place unless a newer version
        is there, and list it: all on this I/O thread, one hand-off per PUT. ``fut`` is
        settled on ``loop`` once the row is committed, by this thread or by the one that
        commits it with others (``Listings.list_soon``)."""
        replaced: list[int] = []
        try:
            if self._place(rest, meta, expect_md5, replaced):
                info = files.info_from(meta, None)
                if _delete_at(info.metadata) is None:
                    size = info.size if listed_size is None else listed_size
                    row = queries.put_row(
                        self.container,
                        info.name,
                        info.timestamp,
                        size,
                        listed_type(info),
                        info.etag,
                        None,
                    )
                    missing = functools.partial(files.remove, self.final)
                    self.store.listings.list_soon(self.account, row, Listed(loop, fut, missing))
                    return
                self.store.list_now(self.account, self.container, info, listed_size)
        except BaseException as exc:
            settle(loop, fut, False, exc)
            return
        finally:
            for old in replaced:  # freed (unless read meanwhile) as the row commits
                with contextlib.suppress(OSError):  # the PUT is settled, or will be
                    os.close(old)
        settle(loop, fut, True, None)

    def _place(
        self, rest: bytes, meta: dict[str, Any], expect_md5: str | None, replaced: list[int]
    ) -> bool:
        """The file written, flushed and renamed into place with its directory flushed;
        False when a newer version is there (ours is overwritten at once: nothing to list).
        The version it replaces is left open in ``replaced``, freed when the caller closes
        it: in the rename, under the stripe's lock, freeing its blocks (a discard, with
        ``-o discard``) took ~0.1-0.45 ms here before the PUT could be listed."""
        fd = self._open()
        if self._lanes is None and len(rest) <= HELD_MD5 and builtin_md5 is not None:
            md5 = builtin_md5(rest).hexdigest()  # the whole body: nothing hashed before
        else:
            self._md5.update(rest)
            md5 = self._md5.hexdigest()
        if expect_md5 is not None and expect_md5 != md5:
            raise EtagMismatch(md5)
        meta["md5"] = md5
        meta.setdefault("etag", md5)
        trailer = files.encode_trailer(meta)
        # The rest of the body and the trailer in one call (a small object: its only write).
        written = os.writev(fd, [rest, trailer])
        if written < len(rest) + len(trailer):  # a short write: the remainder the slow way
            diskwrite.write_all(fd, (rest + trailer)[written:])
        version = files.version_ns(meta["ts"])
        os.utime(fd, ns=(version, version))  # after the last write: writes set the mtime
        os.fsync(fd)
        os.close(fd)
        self._fd = None
        with self.store.stripe(self.digest):
            try:
                old = os.open(self.final, os.O_RDONLY | os.O_CLOEXEC)
            except FileNotFoundError:
                pass
            else:
                replaced.append(old)
                if files.newer_open(old, meta["ts"]):
                    os.unlink(self.temp)
                    return False  # a newer version is there: ours is overwritten at once
            # A POST's sidecar of the old version stays: it names that version, so it no
            # longer applies (a POST replaces it, the reconcile scan removes it).
            files.place(self.temp, self.final, sync=False)
        # The rename made durable outside the lock: the lock only keeps compare-and-rename
        # whole, and other uploads of its 256th of the names need not wait for the disk.
        self.store.layout.sync_dir(os.path.dirname(self.final))
        return True

    async def commit(
        self,
        *,
        content_type: str,
        metadata: dict[str, str],
        timestamp: float,
        etag: str = "",
        expect_md5: str | None = None,
        listed_size: int | None = None,
    ) -> ObjectInfo:
        if self._lanes is not None:
            await self._lanes.drain()
        rest = b"".join(self._buffer)
        self._buffer = []
        meta: dict[str, Any] = {
            "account": self.account,
            "container": self.container,
            "name": self.name,
            "ts": timestamp,
            "size": self.size,
            "ct": content_type,
            "meta": metadata,
        }
        if etag:
            meta["etag"] = etag
        if listed_size is not None:
            meta["lsize"] = listed_size
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        # Spawned: no future of the pool's, whose settling would wake the loop once more.
        self.store.pool.spawn(self._finish, loop, fut, rest, meta, expect_md5, listed_size)
        try:
            await fut
        except BaseException:
            await self.abort()
            raise
        self.etag = meta["etag"]
        return files.info_from(meta, None)

    async def abort(self) -> None:
        if self._lanes is not None:
            await self._lanes.settle()

        def drop() -> None:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
            files.remove(self.temp)

        await self.store.run(drop)


class SmallObject(OpenObject):
    def __init__(self, info: ObjectInfo, body: bytes | memoryview) -> None:
        self.info = info
        self.body = body

    async def read(self, offset: int = 0, length: int | None = None) -> AsyncIterator[Chunk]:
        end = len(self.body) if length is None else min(len(self.body), offset + length)
        if end > offset:
            yield memoryview(self.body)[offset:end]

    async def close(self) -> None:
        pass


class LargeObject(OpenObject):
    def __init__(self, store: DiskStore, info: ObjectInfo, fd: int, body_size: int) -> None:
        self.info = info
        self.store = store
        self.fd: int | None = fd
        self.body_size = body_size

    async def read(self, offset: int = 0, length: int | None = None) -> AsyncIterator[Chunk]:
        """Blocks mapped on a worker thread, one ahead of the one being sent."""
        fd = self.fd
        if fd is None:
            return
        end = self.body_size if length is None else min(self.body_size, offset + length)

        def fetch(at: int) -> asyncio.Future[memoryview] | None:
            want = min(READ_BLOCK, end - at)
            return None if want <= 0 else self.store.run_soon(files.map_block, fd, at, want)

        ahead = fetch(offset)
        try:
            while ahead is not None:
                block = await ahead
                ahead = None
                if not block:
                    break
                offset += len(block)
                ahead = fetch(offset)
                yield block
        finally:
            if ahead is not None:
                await asyncio.gather(ahead, return_exceptions=True)

    def file_region(self, offset: int, length: int) -> int | None:
        # The body starts the file (its metadata trails it): offsets are the object's.
        if self.fd is None or offset < 0 or offset + length > self.body_size:
            return None
        return self.fd

    async def close(self) -> None:
        if self.fd is not None:
            fd, self.fd = self.fd, None
            os.close(fd)


class DiskStore(ObjectStore):
    name = "disk"

    def __init__(self, root: Path, io_threads: int = 16, *, suffix_dirs: bool = True) -> None:
        self.layout = files.Layout(root, suffix_dirs)
        self.listings = Listings(root / "accounts")
        self.pool = Workers(io_threads, "object-io")
        self.expiring = ExpiringQueue(root / "expiring.db", self.listings.writer_executor)
        self._stripes = [threading.Lock() for _ in range(256)]

    # --- plumbing --------------------------------------------------------------------
    def stripe(self, digest: str) -> threading.Lock:
        """The lock of the objects whose hash starts like ``digest`` (compare and rename)."""
        return self._stripes[int(digest[:2], 16)]

    def run_soon(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        return self.pool.call(fn, *args)

    def run(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """``fn(*args)`` on an I/O thread, awaited (a future: no coroutine of its own)."""
        return self.pool.call(fn, *args)

    def list_now(
        self, account: str, container: str, info: ObjectInfo, listed_size: int | None
    ) -> None:
        """List a stored object, on this (I/O) thread; ``NotFound`` (and the object removed)
        when its container went while its bytes came."""
        delete_at = _delete_at(info.metadata)
        size = info.size if listed_size is None else listed_size
        row = queries.put_row(
            container, info.name, info.timestamp, size, listed_type(info), info.etag, delete_at
        )
        try:
            self.listings.apply_now(account, row)
        except NotFound:
            files.remove(self.layout.data_path(files.object_hash(account, container, info.name)))
            raise
        if delete_at is not None:
            self.expiring.add_now(
                Expiring(account, container, info.name, delete_at, info.timestamp)
            )

    async def listed(
        self, account: str, container: str, info: ObjectInfo, listed_size: int | None
    ) -> None:
        delete_at = _delete_at(info.metadata)
        try:
            await self.listings.write(
                account,
                queries.put_row(
                    container,
                    info.name,
                    info.timestamp,
                    info.size if listed_size is None else listed_size,
                    listed_type(info),
                    info.etag,
                    delete_at,
                ),
            )
        except NotFound:
            # The container went while the bytes came: the object goes with it.
            digest = files.object_hash(account, container, info.name)
            await self.run(files.remove, self.layout.data_path(digest))
            raise
        if delete_at is not None:
            await self.expiring.add(
                Expiring(account, container, info.name, delete_at, info.timestamp)
            )

    # --- accounts --------------------------------------------------------------------
    async def account_info(self, account: str) -> AccountInfo | None:
        return await self.listings.read(account, queries.account_info)

    async def update_account(
        self, account: str, metadata: dict[str, str], timestamp: float
    ) -> None:
        await self.listings.write(
            account, queries.update_account(account, metadata, timestamp), create=True
        )

    async def list_containers(
        self, account: str, listing: Listing
    ) -> list[ContainerEntry | Subdir]:
        got = await self.listings.read(account, lambda conn: queries.list_containers(conn, listing))
        return got or []

    # --- containers ------------------------------------------------------------------
    async def create_container(
        self, account: str, container: str, metadata: dict[str, str], policy: str, timestamp: float
    ) -> bool:
        return await self.listings.write(
            account,
            queries.create_container(account, container, metadata, policy, timestamp),
            create=True,
        )

    async def container_info(self, account: str, container: str) -> ContainerInfo | None:
        return await self.listings.read(
            account, lambda conn: queries.container_info(conn, container)
        )

    async def update_container(
        self, account: str, container: str, metadata: dict[str, str], timestamp: float
    ) -> None:
        await self.listings.write(account, queries.update_container(container, metadata, timestamp))

    async def delete_container(self, account: str, container: str) -> None:
        await self.listings.write(account, queries.delete_container(container))

    async def list_objects(
        self, account: str, container: str, listing: Listing
    ) -> list[ObjectEntry | Subdir]:
        got = await self.listings.read(
            account, lambda conn: queries.list_objects(conn, container, listing)
        )
        if got is None:
            raise NotFound(container)
        return got

    async def list_objects_json(
        self, account: str, container: str, listing: Listing
    ) -> bytes | None:
        if listing.delimiter:  # folding directories is the walk's (list_objects)
            return None
        got = await self.listings.read(
            account, lambda conn: queries.list_objects_json(conn, container, listing)
        )
        if not got:  # no database, or no such container
            raise NotFound(container)
        if b";symlink_target=" in got:  # symlinks' rows show their targets: the long way
            return None
        return got

    # --- objects ---------------------------------------------------------------------
    def writer(self, account: str, container: str, name: str) -> ObjectWriter:
        return DiskWriter(self, account, container, name)

    def _open(self, path: str) -> OpenObject:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            raise NotFound(str(path)) from None
        try:
            size = os.fstat(fd).st_size
            if size <= files.SMALL:
                whole = os.pread(fd, size, 0)
                meta, body_size = files.read_trailer(fd, size, whole)
                os.close(fd)
                fd = -1
                info = files.info_from(meta, files.read_sidecar(path))
                return SmallObject(info, whole[:body_size])
            meta, body_size = files.read_trailer(fd, size)
            info = files.info_from(meta, files.read_sidecar(path))
            # Read ahead generously: a large object is read from start to end.
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_SEQUENTIAL)
            return LargeObject(self, info, fd, body_size)
        except files.Corrupt:
            raise NotFound(str(path)) from None
        except BaseException:
            if fd >= 0:
                os.close(fd)
            raise

    def _open_cached(self, path: str) -> OpenObject | None:
        """A small object read without leaving the event loop, when its bytes are in the
        page cache (``RWF_NOWAIT``: the read fails rather than wait for the disk); None
        when a worker thread must read it. Saves the thread hand-off of most small GETs."""
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            raise NotFound(path) from None
        try:
            size = os.fstat(fd).st_size
            if size > files.SMALL:
                return None
            whole = bytearray(size)
            try:
                if os.preadv(fd, [whole], 0, os.RWF_NOWAIT) != size:
                    return None
            except BlockingIOError:
                return None
        finally:
            os.close(fd)
        try:
            meta, body_size = files.read_trailer(-1, size, whole)
        except files.Corrupt:
            raise NotFound(path) from None
        info = files.info_from(meta, files.read_sidecar(path))
        return SmallObject(info, memoryview(whole)[:body_size])

    async def open_object(self, account: str, container: str, name: str) -> OpenObject:
        path = self.layout.data_path(files.object_hash(account, container, name))
        if NOWAIT:
            found = self._open_cached(path)
            if found is not None:
                return found
        return await self.run(self._open, path)

    def _info(self, path: str) -> ObjectInfo:
        found = files.stored_version(path)
        if found is None:
            raise NotFound(str(path))
        return files.info_from(found[0], files.read_sidecar(path))

    async def object_info(self, account: str, container: str, name: str) -> ObjectInfo:
        digest = files.object_hash(account, container, name)
        return await self.run(self._info, self.layout.data_path(digest))

    async def update_object(
        self,
        account: str,
        container: str,
        name: str,
        *,
        content_type: str,
        metadata: dict[str, str],
        timestamp: float,
    ) -> ObjectInfo:
        digest = files.object_hash(account, container, name)
        path = self.layout.data_path(digest)

        def post() -> tuple[ObjectInfo, int | None]:
            with self.stripe(digest):
                found = files.stored_version(path)
                if found is None:
                    raise NotFound(name)
                sidecar = {
                    "data_ts": found[0]["ts"],
                    "ts": timestamp,
                    "ct": content_type,
                    "meta": metadata,
                }
                files.write_sidecar(self.layout, path, sidecar)
                return files.info_from(found[0], sidecar), found[0].get("lsize")

        info, listed_size = await self.run(post)
        await self.listed(account, container, info, listed_size)
        return info

    async def delete_object(
        self, account: str, container: str, name: str, timestamp: float
    ) -> ObjectInfo:
        digest = files.object_hash(account, container, name)
        path = self.layout.data_path(digest)

        def delete() -> ObjectInfo:
            with self.stripe(digest):
                found = files.stored_version(path)
                if found is None:
                    raise NotFound(name)
                info = files.info_from(found[0], files.read_sidecar(path))
                files.remove(path)
            self.layout.sync_dir(os.path.dirname(path))
            return info

        try:
            info = await self.run(delete)
        except NotFound:
            # Nothing on disk: a listing row left by a crash goes too.
            await self.listings.write(account, queries.delete_row(container, name))
            raise
        await self.listings.write(account, queries.delete_row(container, name, info.timestamp))
        return info

    # --- the agent's work --------------------------------------------------------------
    async def due(self, now: float, limit: int = 1000) -> list[Expiring]:
        return await self.expiring.due(now, limit)

    async def forget_due(self, entry: Expiring) -> None:
        await self.expiring.forget(entry)

    async def reconcile(self) -> dict[str, int]:
        from onestack.object.drivers.disk.scan import reconcile

        return await reconcile(self)

    async def audit(self, bytes_per_second: int) -> dict[str, int]:
        from onestack.object.drivers.disk.scan import audit

        return await audit(self, bytes_per_second)

    async def close(self) -> None:
        await self.listings.close()
        self.expiring.close()
        self.pool.shutdown()
        self.layout.close()
