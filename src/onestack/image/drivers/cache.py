"""The image cache of this host: local copies of images, as Glance's image cache keeps them.

``DIR/<image id>`` is a complete copy (written under ``DIR/.<image id>.<random>``, flushed, then
renamed: the final name exists only for whole data); ``DIR/queue/<image id>`` marks an image
queued for caching (what Glance's cache prefetcher then fetches). Each copy's hits are kept in
an extended attribute of the file (Glance's xattr cache driver keeps them so too), where the
file system has them; its last access is its access time, set on each hit.

The object store's local copies (what QEMU boots from) are this cache's copies: a boot caches
the image, and a cached image is what the next boot and download read.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from onestack.image.drivers.base import Chunk

HITS = "user.onestack.hits"


@dataclass(frozen=True)
class CachedCopy:
    image_id: str
    size: int
    hits: int
    last_accessed: float
    last_modified: float


class LocalCache:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.queue_dir = root / "queue"
        self.queue_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._filling: dict[str, asyncio.Lock] = {}

    def path(self, image_id: str) -> Path:
        if not image_id or "/" in image_id or image_id.startswith("."):
            raise ValueError(f"{image_id!r} is not an image id")
        return self.root / image_id

    def copy(self, image_id: str, size: int | None) -> Path | None:
        """The complete copy of the image (``size`` bytes, when known), or None."""
        path = self.path(image_id)
        try:
            st = path.stat()
        except FileNotFoundError:
            return None
        return path if size is None or st.st_size == size else None

    async def fill(self, image_id: str, chunks: AsyncIterator[Chunk], size: int | None) -> Path:
        """Write the image's bytes as its copy (once at a time per image; a copy already
        complete is kept and ``chunks`` left unread)."""
        lock = self._filling.setdefault(image_id, asyncio.Lock())
        async with lock:
            done = self.copy(image_id, size)
            if done is not None:
                return done
            target = self.path(image_id)
            temp = self.root / f".{image_id}.{secrets.token_hex(4)}"
            fd = await asyncio.to_thread(os.open, temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            try:
                async for chunk in chunks:
                    await asyncio.to_thread(_write_all, fd, chunk)
                await asyncio.to_thread(os.fsync, fd)
            except BaseException:
                os.close(fd)
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temp)
                raise
            os.close(fd)
            await asyncio.to_thread(os.replace, temp, target)
        self._filling.pop(image_id, None)
        return target

    def hit(self, path: Path) -> None:
        """Count one use of a copy (a boot or a download served from it)."""
        with contextlib.suppress(OSError):
            hits = _hits(path)
            os.setxattr(path, HITS, str(hits + 1).encode())
        with contextlib.suppress(OSError):
            os.utime(path, (time.time(), path.stat().st_mtime))

    def entries(self) -> list[CachedCopy]:
        out = []
        for entry in sorted(os.scandir(self.root), key=lambda e: e.name):
            if entry.name.startswith(".") or not entry.is_file():
                continue
            try:
                st = entry.stat()
            except FileNotFoundError:  # deleted meanwhile
                continue
            out.append(
                CachedCopy(
                    entry.name, st.st_size, _hits(Path(entry.path)), st.st_atime, st.st_mtime
                )
            )
        return out

    def delete(self, image_id: str) -> bool:
        """Drop the image's copy and its place in the queue; whether it had either."""
        had = False
        for path in (self.path(image_id), self.queue_dir / image_id):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                had = True
        return had

    # -- the queue --------------------------------------------------------------------------
    def enqueue(self, image_id: str) -> None:
        (self.queue_dir / self.path(image_id).name).touch()

    def queued(self) -> list[str]:
        names = [e for e in os.scandir(self.queue_dir) if e.is_file()]
        return [e.name for e in sorted(names, key=lambda e: (e.stat().st_mtime, e.name))]

    def dequeue(self, image_id: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            (self.queue_dir / self.path(image_id).name).unlink()

    def clear(self, cache: bool, queue: bool) -> None:
        if queue:
            for image_id in self.queued():
                self.dequeue(image_id)
        if cache:
            for copy in self.entries():
                with contextlib.suppress(FileNotFoundError):
                    self.path(copy.image_id).unlink()


def _hits(path: Path) -> int:
    try:
        return int(os.getxattr(path, HITS))
    except (OSError, ValueError):
        return 0


def _write_all(fd: int, data: Chunk) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
