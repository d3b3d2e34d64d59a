"""A large upload's lanes (``common/pipeline.py``), through the object disk store's writer
(md5 and write) and on their own: order, bounded memory, errors and aborts."""

from __future__ import annotations

import asyncio
import errno
import hashlib
import os
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from onestack.common.dataio import diskwrite
from onestack.common.dataio.pipeline import Block, Pipeline
from onestack.common.dataio.workers import Workers
from onestack.object.drivers.disk.store import WRITE_BUFFER, DiskStore

MIB = 1024 * 1024


@pytest.fixture
async def disk(tmp_path: Path) -> AsyncIterator[DiskStore]:
    made = DiskStore(tmp_path / "objects", suffix_dirs=False)
    await made.create_container("AUTH_a", "c", {}, "Policy-0", 1.0)
    yield made
    await made.close()


@pytest.fixture
def pool() -> Iterator[Workers]:
    made = Workers(4, "test-lanes")
    yield made
    made.shutdown()


async def put(disk: DiskStore, name: str, data: bytes, step: int, ts: float = 1.0) -> str:
    writer = disk.writer("AUTH_a", "c", name)
    for i in range(0, len(data), step):
        await writer.write(data[i : i + step])
    info = await writer.commit(content_type="x", metadata={}, timestamp=ts)
    return info.etag


async def read(disk: DiskStore, name: str) -> bytes:
    opened = await disk.open_object("AUTH_a", "c", name)
    try:
        return b"".join([bytes(b) async for b in opened.read()])
    finally:
        await opened.close()


async def test_blocks_of_more_chunks_than_one_writev_takes(disk: DiskStore) -> None:
    data = os.urandom(3 * MIB + 7)  # 512-byte chunks: 2,048 to a block, IOV_MAX is 1,024
    etag = await put(disk, "tiny-chunks", data, 512)
    assert etag == hashlib.md5(data, usedforsecurity=False).hexdigest()
    assert await read(disk, "tiny-chunks") == data


async def test_a_failed_write_keeps_the_old_object_and_leaves_no_file(
    disk: DiskStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    await put(disk, "o", b"old", 3)
    real = diskwrite.write_chunks
    calls = 0

    def full_disk(fd: int, chunks: Block) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(fd, chunks)

    monkeypatch.setattr(diskwrite, "write_chunks", full_disk)
    writer = disk.writer("AUTH_a", "c", "o")
    with pytest.raises(OSError) as failed:
        for _ in range(16):  # the error comes back at a later write or at the commit
            await writer.write(b"n" * WRITE_BUFFER)
        await writer.commit(content_type="x", metadata={}, timestamp=2.0)
    assert failed.value.errno == errno.ENOSPC
    await writer.abort()
    assert await read(disk, "o") == b"old"
    assert not list(disk.layout.temp_files())


async def test_an_aborted_upload_leaves_the_old_object_and_no_file(disk: DiskStore) -> None:
    await put(disk, "o", b"old", 3)
    writer = disk.writer("AUTH_a", "c", "o")
    for _ in range(6):
        await writer.write(os.urandom(WRITE_BUFFER))
    await writer.abort()
    assert await read(disk, "o") == b"old"
    assert not list(disk.layout.temp_files())


async def test_lanes_keep_the_order_and_the_loop_waits_past_the_limit(pool: Workers) -> None:
    digested: list[bytes] = []
    written: list[bytes] = []
    gate = threading.Event()

    def write(block: Block) -> None:
        assert gate.wait(20)
        written.extend(bytes(c) for c in block)

    lanes = Pipeline(pool, (lambda block: digested.extend(bytes(c) for c in block), write), 2)
    await lanes.put([b"a", b"b"], 2)  # at the limit: no wait
    third = asyncio.ensure_future(lanes.put([b"c"], 1))
    for _ in range(2000):  # the digest lane runs ahead of the held write lane (>= 20 s)
        if len(digested) == 3:
            break
        await asyncio.sleep(0.01)
    assert digested == [b"a", b"b", b"c"]
    assert not third.done()  # 3 bytes in flight over a limit of 2: the loop waits
    gate.set()
    await asyncio.wait_for(third, 20)
    await asyncio.wait_for(lanes.drain(), 20)
    assert written == [b"a", b"b", b"c"]


async def test_a_lane_error_is_raised_and_the_other_lane_stops(pool: Workers) -> None:
    digested: list[bytes] = []

    def write(block: Block) -> None:
        raise OSError(errno.EIO, "I/O error")

    lanes = Pipeline(pool, (lambda block: digested.extend(bytes(c) for c in block), write), 1 << 30)
    await lanes.put([b"a"], 1)
    with pytest.raises(OSError):
        await asyncio.wait_for(lanes.drain(), 20)
    with pytest.raises(OSError):
        await lanes.put([b"b"], 1)
    await asyncio.wait_for(lanes.settle(), 20)
    assert b"b" not in digested


async def test_a_closed_pool_fails_the_upload_and_the_abort_ends() -> None:
    closed = Workers(2, "test-closed")
    closed.shutdown()
    lanes = Pipeline(closed, (lambda block: None, lambda block: None), 1 << 30)
    with pytest.raises(RuntimeError):
        await lanes.put([b"a"], 1)
    await asyncio.wait_for(lanes.settle(), 20)
