"""The host's image cache: whole copies only, their hits, the queue, clearing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from onestack.image.drivers.cache import LocalCache


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def broken() -> AsyncIterator[bytes]:
    yield b"half"
    raise OSError("the store went away")


async def test_a_copy_is_whole_or_absent(tmp_path: Path) -> None:
    cache = LocalCache(tmp_path / "cache")
    with pytest.raises(OSError):
        await cache.fill("img-1", broken(), 8)
    assert cache.copy("img-1", None) is None
    assert list((tmp_path / "cache").iterdir()) == [tmp_path / "cache" / "queue"]
    path = await cache.fill("img-1", chunks(b"abcd", b"efgh"), 8)
    assert path.read_bytes() == b"abcdefgh" and cache.copy("img-1", 8) == path
    assert cache.copy("img-1", 9) is None  # not the image's size: not its copy
    # A complete copy is kept, its source left unread.
    assert await cache.fill("img-1", broken(), 8) == path
    cache.hit(path)
    (entry,) = cache.entries()
    assert (entry.image_id, entry.size) == ("img-1", 8)
    assert entry.hits in (0, 1)  # 0 where the file system has no user xattrs


async def test_queue_delete_and_clear(tmp_path: Path) -> None:
    cache = LocalCache(tmp_path / "cache")
    cache.enqueue("a")
    cache.enqueue("b")
    assert cache.queued() == ["a", "b"] or sorted(cache.queued()) == ["a", "b"]
    await cache.fill("a", chunks(b"x"), 1)
    cache.dequeue("a")
    assert cache.queued() == ["b"]
    cache.clear(cache=False, queue=True)
    assert cache.queued() == [] and [e.image_id for e in cache.entries()] == ["a"]
    cache.enqueue("a")
    assert cache.delete("a") and not cache.delete("a")
    assert cache.entries() == [] and cache.queued() == []
    with pytest.raises(ValueError):
        cache.path("../etc")
