"""The object store seam: one contract for every driver (fake, disk), and the disk store's
crash repairs (reconcile scan, md5 audit with quarantine)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from onestack.object.api.listing import render_objects
from onestack.object.drivers import base
from onestack.object.drivers.base import Listing, ObjectEntry, ObjectStore, Subdir
from onestack.object.drivers.disk import files, listings
from onestack.object.drivers.disk.store import DiskStore
from onestack.object.drivers.fake import FakeStore


@pytest.fixture(params=["fake", "disk"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ObjectStore]:
    made: ObjectStore = (
        FakeStore()
        if request.param == "fake"
        else DiskStore(tmp_path / "objects", suffix_dirs=False)
    )
    yield made
    await made.close()


async def put(
    store: ObjectStore, c: str, name: str, data: bytes, ts: float = 1.0, **meta: str
) -> base.ObjectInfo:
    writer = store.writer("AUTH_a", c, name)
    await writer.write(data)
    return await writer.commit(content_type="text/plain", metadata=dict(meta), timestamp=ts)


async def read(
    store: ObjectStore, c: str, name: str, offset: int = 0, length: int | None = None
) -> bytes:
    opened = await store.open_object("AUTH_a", c, name)
    try:
        return b"".join([bytes(x) async for x in opened.read(offset, length)])
    finally:
        await opened.close()


async def names(store: ObjectStore, c: str, **q: object) -> list[str]:
    got = await store.list_objects("AUTH_a", c, Listing(**q))  # type: ignore[arg-type]
    return [e.name for e in got]


async def test_objects_round_trip_and_count(store: ObjectStore) -> None:
    assert await store.create_container("AUTH_a", "c", {"x-container-meta-a": "1"}, "Policy-0", 1.0)
    assert not await store.create_container("AUTH_a", "c", {}, "Policy-0", 2.0)
    info = await put(store, "c", "o", b"hello", **{"x-object-meta-k": "v"})
    assert info.etag == hashlib.md5(b"hello", usedforsecurity=False).hexdigest() and info.size == 5
    assert await read(store, "c", "o") == b"hello"
    assert await read(store, "c", "o", 1, 3) == b"ell"
    got = await store.object_info("AUTH_a", "c", "o")
    assert got.metadata == {"x-object-meta-k": "v"}
    c = await store.container_info("AUTH_a", "c")
    assert c is not None and (c.object_count, c.bytes_used) == (1, 5)
    a = await store.account_info("AUTH_a")
    assert a is not None and (a.container_count, a.object_count, a.bytes_used) == (1, 1, 5)
    await put(store, "c", "o", b"hi", ts=2.0)
    c = await store.container_info("AUTH_a", "c")
    assert c is not None and (c.object_count, c.bytes_used) == (1, 2)
    with pytest.raises(base.ContainerNotEmpty):
        await store.delete_container("AUTH_a", "c")
    await store.delete_object("AUTH_a", "c", "o", 3.0)
    with pytest.raises(base.NotFound):
        await store.open_object("AUTH_a", "c", "o")
    await store.delete_container("AUTH_a", "c")
    assert await store.container_info("AUTH_a", "c") is None


async def test_md5_mismatch_stores_nothing(store: ObjectStore) -> None:
    await store.create_container("AUTH_a", "c", {}, "Policy-0", 1.0)
    await put(store, "c", "o", b"old")
    writer = store.writer("AUTH_a", "c", "o")
    await writer.write(b"new")
    with pytest.raises(base.EtagMismatch):
        await writer.commit(content_type="x", metadata={}, timestamp=2.0, expect_md5="0" * 32)
    assert await read(store, "c", "o") == b"old"


async def test_post_replaces_metadata(store: ObjectStore) -> None:
    await store.create_container("AUTH_a", "c", {}, "Policy-0", 1.0)
    await put(store, "c", "o", b"x", **{"x-object-meta-a": "1"})
    await store.update_object(
        "AUTH_a", "c", "o", content_type="text/x", metadata={"x-object-meta-b": "2"}, timestamp=5.0
    )
    info = await store.object_info("AUTH_a", "c", "o")
    assert info.metadata == {"x-object-meta-b": "2"} and info.content_type == "text/x"
    assert info.meta_timestamp == 5.0 and info.timestamp == 1.0
    entries = await store.list_objects("AUTH_a", "c", Listing())
    assert isinstance(entries[0], ObjectEntry) and entries[0].content_type == "text/x"
    await put(store, "c", "o", b"y", ts=6.0)  # a new PUT drops the POST's metadata
    assert (await store.object_info("AUTH_a", "c", "o")).metadata == {}


async def test_listing_walk(store: ObjectStore) -> None:
    await store.create_container("AUTH_a", "c", {}, "Policy-0", 1.0)
    for n in ["a/1", "a/2", "a/b/3", "b", "c/1", "d", "é"]:
        await put(store, "c", n, b"x")
    assert await names(store, "c") == ["a/1", "a/2", "a/b/3", "b", "c/1", "d", "é"]
    assert await names(store, "c", delimiter="/") == ["a/", "b", "c/", "d", "é"]
    assert await names(store, "c", delimiter="/", prefix="a/") == ["a/1", "a/2", "a/b/"]
    assert await names(store, "c", delimiter="/", limit=2) == ["a/", "b"]
    assert await names(store, "c", delimiter="/", marker="a/") == ["b", "c/", "d", "é"]
    assert await names(store, "c", marker="a/2", end_marker="d") == ["a/b/3", "b", "c/1"]
    assert await names(store, "c", reverse=True, limit=3) == ["é", "d", "c/1"]
    assert await names(store, "c", reverse=True, delimiter="/") == ["é", "d", "c/", "b", "a/"]
    assert await names(store, "c", prefix="a/", reverse=True) == ["a/b/3", "a/2", "a/1"]
    subdirs = await store.list_objects("AUTH_a", "c", Listing(delimiter="/"))
    assert isinstance(subdirs[0], Subdir)


async def test_expiring_queue(store: ObjectStore) -> None:
    await store.create_container("AUTH_a", "c", {}, "Policy-0", 1.0)
    await put(store, "c", "soon", b"x", **{"x-delete-at": "100"})
    await put(store, "c", "later", b"x", **{"x-delete-at": "200"})
    due = await store.due(150.0)
    assert [e.name for e in due] == ["soon"]
    assert await names(store, "c", now=150.0) == ["later"]
    await store.forget_due(due[0])
    assert await store.due(150.0) == []


async def test_json_listing_as_the_rows_render(store: ObjectStore) -> None:
    """A store's own JSON listing says what the rows rendered by the API say (for any
    bounds, order and expiry), byte for byte but for JSON's choice of escapes."""
    await store.create_container("AUTH_a", "c", {}, "Policy-0", 1.0)
    odd = ['q"uote', "back\\slash", "new\nline", "tab\t\x01", "é/ü", "%2F?#+ sp"]
    for i, n in enumerate(["a/1", "a/2", "a/b/3", "b", "c/1", "d", *odd]):
        await put(store, "c", n, b"x" * i, ts=1764900000.12345 + i * 0.99999)
    await put(store, "c", "gone", b"x", **{"x-delete-at": "100"})
    for q in (
        {},
        {"now": 150.0},
        {"prefix": "a/"},
        {"marker": "a/2", "end_marker": "d"},
        {"reverse": True, "limit": 3},
        {"prefix": "a/", "reverse": True, "marker": "a/b"},
        {"marker": "z", "end_marker": "a"},
    ):
        listing = Listing(**q)  # type: ignore[arg-type]
        fast = await store.list_objects_json("AUTH_a", "c", listing)
        if fast is None:  # the store has no JSON of its own (the fake)
            assert isinstance(store, FakeStore)
            return
        rows = await store.list_objects("AUTH_a", "c", listing)
        body, _ = render_objects(rows, "json", "c", False)
        assert json.loads(fast) == json.loads(body), q
    assert await store.list_objects_json("AUTH_a", "c", Listing(delimiter="/")) is None
    with pytest.raises(base.NotFound):
        await store.list_objects_json("AUTH_a", "nope", Listing())


async def test_disk_store_makes_its_object_directories_at_start(tmp_path: Path) -> None:
    """As the service makes it (the unit tests' stores make them on first use instead)."""
    made = DiskStore(tmp_path / "objects")
    try:
        assert len(list(made.layout.objects.iterdir())) == 16**3
        await made.create_container("AUTH_a", "c", {}, "Policy-0", 1.0)
        await put(made, "c", "o", b"data")
        opened = await made.open_object("AUTH_a", "c", "o")
        assert opened.info.size == 4
        await opened.close()
    finally:
        await made.close()


# --- the disk store's repairs -----------------------------------------------------------------
@pytest.fixture
async def disk(tmp_path: Path) -> AsyncIterator[DiskStore]:
    made = DiskStore(tmp_path / "objects", suffix_dirs=False)
    await made.create_container("AUTH_a", "c", {}, "Policy-0", 1.0)
    yield made
    await made.close()


async def test_reconcile_lists_data_left_unlisted(disk: DiskStore) -> None:
    await put(disk, "c", "o", b"data")
    # A crash between the rename and the listing: the row is gone, the file is there.
    from onestack.object.drivers.disk import queries

    await disk.listings.write("AUTH_a", queries.delete_row("c", "o"))
    assert await names(disk, "c") == []
    fixed = await disk.reconcile()
    assert fixed["listed"] == 1
    assert await names(disk, "c") == ["o"]


async def test_reconcile_unlists_rows_without_data(disk: DiskStore) -> None:
    await put(disk, "c", "o", b"data")
    os.unlink(disk.layout.data_path(files.object_hash("AUTH_a", "c", "o")))
    fixed = await disk.reconcile()
    assert fixed["unlisted"] == 1
    assert await names(disk, "c") == []
    c = await disk.container_info("AUTH_a", "c")
    assert c is not None and c.object_count == 0


async def test_a_torn_upload_leaves_the_old_object(disk: DiskStore) -> None:
    await put(disk, "c", "o", b"old")
    writer = disk.writer("AUTH_a", "c", "o")
    await writer.write(b"x" * (2 * 1024 * 1024))  # on disk under tmp/, then the process dies
    assert await read(disk, "c", "o") == b"old"
    for _ in range(1000):  # the block goes to the file on an I/O thread (>= 10 s: load)
        temps = list(disk.layout.temp_files())
        if temps and all(t.stat().st_size for t in temps):
            break
        await asyncio.sleep(0.01)
    assert temps
    old = 0.0
    for t in temps:
        os.utime(t, (old, old))
    fixed = await disk.reconcile()
    assert fixed["temporary_removed"] == len(temps)
    assert not list(disk.layout.temp_files())


async def test_audit_quarantines_a_corrupted_object(disk: DiskStore) -> None:
    await put(disk, "c", "good", b"fine")
    await put(disk, "c", "bad", b"original bytes")
    path = disk.layout.data_path(files.object_hash("AUTH_a", "c", "bad"))
    with open(path, "r+b") as f:
        f.write(b"X")  # one flipped byte in the body
    found = await disk.audit(bytes_per_second=100 * 1024 * 1024)
    assert found == {"checked": 2, "quarantined": 1}
    assert not os.path.exists(path)
    assert list(disk.layout.quarantine.iterdir())
    assert await names(disk, "c") == ["good"]
    with pytest.raises(base.NotFound):
        await disk.open_object("AUTH_a", "c", "bad")


async def test_an_older_write_never_replaces_a_newer_one(disk: DiskStore) -> None:
    await put(disk, "c", "o", b"newer", ts=10.0)
    await put(disk, "c", "o", b"older", ts=5.0)  # finished last, started first
    assert await read(disk, "c", "o") == b"newer"
    entries = await disk.list_objects("AUTH_a", "c", Listing())
    assert (
        isinstance(entries[0], ObjectEntry)
        and entries[0].size == 5
        and entries[0].timestamp == 10.0
    )


async def test_an_object_files_mtime_names_its_version(disk: DiskStore) -> None:
    await put(disk, "c", "o", b"first", ts=1733420000.12345)
    path = disk.layout.data_path(files.object_hash("AUTH_a", "c", "o"))
    assert os.stat(path).st_mtime_ns == 1733420000_12345_4321
    await put(disk, "c", "o", b"second", ts=1733420000.12346)  # older in place: replaced
    assert await read(disk, "c", "o") == b"second"
    assert os.stat(path).st_mtime_ns == 1733420000_12346_4321


async def test_a_file_without_the_version_mark_is_compared_by_its_trailer(
    disk: DiskStore,
) -> None:
    """A file an older release wrote has its write time as mtime: an older PUT must not
    take that for an older version."""
    await put(disk, "c", "o", b"newer", ts=10.0)
    path = disk.layout.data_path(files.object_hash("AUTH_a", "c", "o"))
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))  # 1.0 s: unmarked, below 5.0's
    await put(disk, "c", "o", b"older", ts=5.0)
    assert await read(disk, "c", "o") == b"newer"
    await put(disk, "c", "o", b"newest", ts=20.0)
    assert await read(disk, "c", "o") == b"newest"


async def test_puts_that_come_while_the_listing_is_held_are_listed_by_its_holder(
    disk: DiskStore,
) -> None:
    """A PUT's row left for the thread that holds the account's database (list_soon) is
    committed when that thread lets go, and only then is the PUT answered."""
    lock = disk.listings._lock("AUTH_a")
    lock.acquire()  # as a transaction of another thread would hold it
    puts = [asyncio.create_task(put(disk, "c", f"o{i}", b"x" * i)) for i in range(8)]
    try:
        for _ in range(500):  # every row queued: files in place, nothing answered
            if len(disk.listings._rows.get("AUTH_a", [])) == 8:
                break
            await asyncio.sleep(0.01)
        assert len(disk.listings._rows["AUTH_a"]) == 8
        assert not any(p.done() for p in puts)
    finally:
        lock.release()
    # The next holder commits them all: here a write of the writer thread.
    await disk.update_container("AUTH_a", "c", {"x-container-meta-k": "v"}, 2.0)
    await asyncio.wait_for(asyncio.gather(*puts), 10)
    assert await names(disk, "c") == [f"o{i}" for i in range(8)]
    c = await disk.container_info("AUTH_a", "c")
    assert c is not None and c.object_count == 8 and c.bytes_used == sum(range(8))


async def test_an_account_whose_rows_wait_for_a_holder_keeps_its_connection(
    disk: DiskStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Closing connections beyond the cap takes each one's lock; an account with rows
    queued for whoever holds its lock is left alone: a list_soon that found the lock taken
    by the eviction would have its rows stranded (the eviction commits none)."""
    await put(disk, "c", "o", b"first")
    lock = disk.listings._lock("AUTH_a")
    lock.acquire()
    waiting = asyncio.create_task(put(disk, "c", "p", b"second"))
    for _ in range(500):
        if disk.listings._rows.get("AUTH_a"):
            break
        await asyncio.sleep(0.01)
    lock.release()  # nobody has committed the row yet
    monkeypatch.setattr(listings, "READ_CONNECTIONS", 0)
    with disk.listings._guard:
        disk.listings._evict()
    monkeypatch.undo()
    assert "AUTH_a" in disk.listings._write_conns
    assert not waiting.done()
    await disk.update_container("AUTH_a", "c", {"x-container-meta-k": "v"}, 2.0)
    await asyncio.wait_for(waiting, 10)
    assert await names(disk, "c") == ["o", "p"]


async def test_an_overwrite_frees_the_old_version(disk: DiskStore) -> None:
    """The replaced version is held open past the rename (its blocks freed off the rename),
    then closed: no descriptor is left behind."""

    def fds() -> int:
        return len(os.listdir("/proc/self/fd"))

    await put(disk, "c", "o", b"first", ts=1.0)
    before = fds()
    for i in range(2, 12):
        await put(disk, "c", "o", b"v%d" % i, ts=float(i))
    await put(disk, "c", "o", b"older", ts=1.5)  # a newer one is there: nothing replaced
    assert fds() == before
    assert await read(disk, "c", "o") == b"v11"


async def test_large_objects_stream_in_blocks(disk: DiskStore) -> None:
    data = os.urandom(9 * 1024 * 1024 + 5)
    writer = disk.writer("AUTH_a", "c", "big")
    for i in range(0, len(data), 65536):
        await writer.write(data[i : i + 65536])
    info = await writer.commit(content_type="x", metadata={}, timestamp=1.0)
    assert info.etag == hashlib.md5(data, usedforsecurity=False).hexdigest()
    opened = await disk.open_object("AUTH_a", "c", "big")
    blocks = [bytes(b) async for b in opened.read()]
    await opened.close()
    assert b"".join(blocks) == data and len(blocks) > 1
