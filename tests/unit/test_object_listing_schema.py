"""The disk store's listing database keeps each row's JSON text (schema version 1): the
text follows every write of the row, and a database of the version before is upgraded when
it is first opened, by a reader as by a writer, without losing a row or a count."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from onestack.object.api.listing import render_objects
from onestack.object.drivers.base import Listing, NotFound
from onestack.object.drivers.disk import queries, schema
from onestack.object.drivers.disk.store import DiskStore

# The object table of version 0 (before ``json_row``): the rest of the schema is the same.
OBJECT_V0 = """
CREATE TABLE object (
    container TEXT NOT NULL,
    name TEXT NOT NULL,
    ts REAL NOT NULL,
    size INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    etag TEXT NOT NULL,
    delete_at REAL,
    PRIMARY KEY (container, name)
) WITHOUT ROWID"""
ROWS = [
    ("c", "a", 1764900000.5, 3, "text/plain", "e1", None),
    ("c", 'q"uo\\te é', 1764900001.000001, 0, "application/json", "e2", None),
    ("c", "z", 1764900002.25, 7, "x/y; charset=utf-8", "e3", 2000000000.0),
    ("d", "only", 1764900003.0, 11, "text/plain", "e4", None),
]


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[DiskStore]:
    made = DiskStore(tmp_path / "objects", suffix_dirs=False)
    yield made
    await made.close()


def make_v0(path: Path) -> None:
    """An account database as version 0 made it, filled through its triggers."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    for statement in (schema.ACCOUNT, schema.CONTAINER, OBJECT_V0, *schema.TRIGGERS):
        conn.execute(statement)
    conn.execute(
        "INSERT INTO account (id, name, created, put_timestamp) VALUES (0, ?, 1, 1)", ("AUTH_a",)
    )
    for name in ("c", "d"):
        conn.execute(
            "INSERT INTO container (name, created, put_timestamp, changed, policy)"
            " VALUES (?, 1, 1, 1, 'Policy-0')",
            (name,),
        )
    conn.executemany(
        f"INSERT INTO object ({schema.OBJECT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
        ROWS,
    )
    assert schema.version(conn) == 0
    conn.close()


async def json_as_rendered(store: DiskStore, container: str, **q: object) -> bytes:
    """The store's JSON listing, checked against the rows rendered by the API."""
    listing = Listing(**q)  # type: ignore[arg-type]
    fast = await store.listings.read(
        "AUTH_a", lambda conn: queries.list_objects_json(conn, container, listing)
    )
    assert fast is not None
    rows = await store.list_objects("AUTH_a", container, listing)
    body, _ = render_objects(rows, "json", container, False)
    assert json.loads(fast) == json.loads(body), q
    return fast


async def put(store: DiskStore, name: str, data: bytes, ts: float, ctype: str) -> None:
    writer = store.writer("AUTH_a", "c", name)
    await writer.write(data)
    await writer.commit(content_type=ctype, metadata={}, timestamp=ts)


async def db_version(store: DiskStore) -> int:
    found = await store.listings.read("AUTH_a", schema.version)
    assert found is not None
    return found


async def counts(store: DiskStore) -> tuple[int, int, int, int]:
    c = await store.container_info("AUTH_a", "c")
    account = await store.account_info("AUTH_a")
    assert c is not None and account is not None
    return c.object_count, c.bytes_used, account.object_count, account.bytes_used


async def test_a_version_0_database_is_upgraded_by_its_first_reader(store: DiskStore) -> None:
    make_v0(store.listings.path("AUTH_a"))
    text = await json_as_rendered(store, "c")  # the first open: a listing
    assert await db_version(store) == schema.VERSION
    assert [row["name"] for row in json.loads(text)] == ["a", 'q"uo\\te é', "z"]
    assert json.loads(text)[1]["last_modified"] == "2025-12-05T02:00:01.000001"
    for q in ({"reverse": True}, {"marker": "a", "limit": 1}, {"now": 2000000001.0}):
        await json_as_rendered(store, "c", **q)
    assert await counts(store) == (3, 10, 4, 21)  # moved, not counted again
    # The triggers came back with the table: writes keep counting.
    await put(store, "b", b"12345", 1764900004.0, "text/plain")
    with pytest.raises(NotFound):  # a row without a file (made by hand): the row goes
        await store.delete_object("AUTH_a", "c", "a", 1764900005.0)
    assert await counts(store) == (3, 12, 4, 23)
    names = [row["name"] for row in json.loads(await json_as_rendered(store, "c"))]
    assert names == ["b", 'q"uo\\te é', "z"]


async def test_a_version_0_database_is_upgraded_by_its_first_writer(store: DiskStore) -> None:
    make_v0(store.listings.path("AUTH_a"))
    await put(store, "new", b"xy", 1764900009.0, "text/plain")  # the first open: a write
    assert await db_version(store) == schema.VERSION
    assert await counts(store) == (4, 12, 5, 23)
    text = await json_as_rendered(store, "c")
    assert [row["name"] for row in json.loads(text)] == ["a", "new", 'q"uo\\te é', "z"]
    assert [row["name"] for row in json.loads(await json_as_rendered(store, "d"))] == ["only"]


async def test_the_stored_json_follows_every_write_of_the_row(store: DiskStore) -> None:
    await store.create_container("AUTH_a", "c", {}, "Policy-0", 1.0)
    assert await db_version(store) == schema.VERSION
    await put(store, "o", b"first", 1764900000.5, "text/plain")
    await put(store, "o", b"new", 1764900001.25, "application/x-new")
    await put(store, "o", b"older one", 1764900000.75, "text/older")  # left out: older
    (row,) = json.loads(await json_as_rendered(store, "c"))
    assert (row["bytes"], row["content_type"], row["last_modified"]) == (
        3,
        "application/x-new",
        "2025-12-05T02:00:01.250000",
    )
    await store.delete_object("AUTH_a", "c", "o", 1764900002.0)
    assert await json_as_rendered(store, "c") == b"[]"
