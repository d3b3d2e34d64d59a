"""The SQLite engine's one-round-trip cursor (``common.sqlite_async``) behaves as the
aiosqlite adapter it replaces: rows, row counts of conditional updates, ids of inserts,
RETURNING, executemany, and the driver's errors mapped to the cloud's."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from sqlalchemy import Integer, String, insert, select, text, update
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from onestack.common import errors, sqlite_async
from onestack.common.db import Database
from onestack.common.sqlite_async import OneTripCursor


class Base(DeclarativeBase):  # not the cloud's metadata: its tables are the migrations'
    pass


class Thing(Base):
    __tablename__ = "test_sqlite_thing"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)


async def test_one_trip_cursor_keeps_the_adapter_behaviour(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(lambda c: Thing.__table__.create(c))  # type: ignore[attr-defined]
            raw = await conn.get_raw_connection()
            assert isinstance(raw.dbapi_connection.cursor(), OneTripCursor)  # type: ignore[union-attr]
        async with db.session() as s:
            s.add_all([Thing(name="a"), Thing(name="b")])
            await s.flush()
            ids = sorted(t.id for t in await s.scalars(select(Thing)))
            assert ids == [1, 2]
            await s.execute(insert(Thing), [{"name": "c"}, {"name": "d"}])  # executemany
            made = await s.scalar(insert(Thing).values(name="e").returning(Thing.id))
            assert made == 5
        async with db.session() as s:
            changed = await s.execute(
                update(Thing).where(Thing.name.in_(("a", "b"))).values(name=Thing.name + "x")
            )
            assert changed.rowcount == 2  # type: ignore[attr-defined]
            none = await s.execute(update(Thing).where(Thing.name == "zz").values(name="y"))
            assert none.rowcount == 0  # type: ignore[attr-defined]
            assert (await s.execute(text("SELECT count(*) FROM test_sqlite_thing"))).scalar() == 5
        with pytest.raises(errors.Conflict):
            async with db.session() as s:
                s.add(Thing(name="c"))
        async with db.session() as s:
            names = list(await s.scalars(select(Thing.name).order_by(Thing.id)))
        assert names == ["ax", "bx", "c", "d", "e"]
    finally:
        await db.close()


async def test_a_writer_reading_through_another_session_is_not_starved(tmp_path: Path) -> None:
    """Writers wait for SQLite's write lock in their pooled connections; one holding it that
    reads through another session needs one more connection. With the pool bounded (15) and
    every connection a waiting writer, both sides waited until the busy timeout (10 s) and
    the writers failed (503)."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(lambda c: Thing.__table__.create(c))  # type: ignore[attr-defined]

        async def write(i: int) -> None:
            async with db.session() as s:
                s.add(Thing(name=f"t{i}"))
                await s.flush()  # holds the write lock from here to the commit
                async with db.session() as other:
                    await other.scalar(select(Thing.id).limit(1))

        started = time.monotonic()
        failed = [
            e
            for e in await asyncio.gather(*(write(i) for i in range(40)), return_exceptions=True)
            if e is not None
        ]
        assert not failed and time.monotonic() - started < 9, failed  # under the 10 s busy timeout
        async with db.session() as s:
            assert len(list(await s.scalars(select(Thing)))) == 40
    finally:
        await db.close()


async def test_writers_queue_in_arrival_order_and_time_out_as_sqlite_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Writers wait for the process's write gate, first come first served: in SQLite's busy
    handler whoever retried first after a commit won, and under load some waited past the
    10 s busy timeout while no transaction held the lock over a second (503s). A writer
    the gate keeps waiting past its timeout fails as SQLite's would (503)."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(lambda c: Thing.__table__.create(c))  # type: ignore[attr-defined]
        holding, done = asyncio.Event(), asyncio.Event()

        async def holder() -> None:
            async with db.session() as s:
                s.add(Thing(name="first"))
                await s.flush()  # the write lock is held from here
                holding.set()
                await done.wait()

        async def write(i: int) -> None:
            async with db.session() as s:
                s.add(Thing(name=f"w{i}"))

        held = asyncio.create_task(holder())
        await holding.wait()
        gate = db.engine.dialect.dbapi.gate  # type: ignore[union-attr]
        writers = []
        for i in range(6):
            writers.append(asyncio.create_task(write(i)))
            while gate.waiting <= i:  # each queued before the next comes
                await asyncio.sleep(0.01)
        monkeypatch.setattr(sqlite_async, "GATE_TIMEOUT", 0.3)
        started = time.monotonic()
        with pytest.raises(errors.ServiceUnavailable):
            await write(99)
        assert time.monotonic() - started < 9  # the gate's timeout (0.3 s), not SQLite's (10 s)
        done.set()
        await asyncio.gather(held, *writers)
        async with db.session() as s:
            names = list(await s.scalars(select(Thing.name).order_by(Thing.id)))
        assert names == ["first", *(f"w{i}" for i in range(6))]
    finally:
        await db.close()
