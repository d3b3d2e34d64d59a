"""Database engine, sessions and column types that behave alike on SQLite, PostgreSQL, MariaDB."""

from __future__ import annotations

import asyncio
import contextvars
import fcntl
import json
import uuid
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import DateTime, Delete, MetaData, event, exc, make_url, text
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from onestack.common import errors

# Stable constraint names so Alembic migrations can refer to them on every engine.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


KEY_RANGE = 2**63  # a BIGINT key (an INTEGER one on SQLite) holds less than this


def int_key(raw: str) -> int | None:
    """``raw`` (a path's id) as an integer key a column can hold, or None when it is not one
    (look-ups then find nothing instead of overflowing the driver)."""
    if not (raw.isascii() and raw.strip().lstrip("-").isdigit()):
        return None
    value = int(raw)
    return value if -KEY_RANGE <= value < KEY_RANGE else None


def new_id() -> str:
    return uuid.uuid4().hex


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class UTCDateTime(TypeDecorator[datetime]):
    """Naive UTC with microseconds on every engine (MariaDB's DATETIME drops them otherwise)."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name in ("mysql", "mariadb"):
            from sqlalchemy.dialects import mysql  # not imported on the other engines' starts

            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def json_loads(text: str | bytes) -> Any:
    """JSON columns' reader: orjson (a server list decodes thousands of values), ``json`` for
    what orjson refuses and ``json.dumps`` may have written (NaN, integers past 64 bits)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def _sqlite_file(url: str) -> bool:
    """Whether a SQLite URL names a database file (a pooled one), not one in memory."""
    database = make_url(url).database
    return bool(database) and database != ":memory:" and "mode=memory" not in url


def create_engine(url: str, echo: bool = False, pool_size: int = 10) -> AsyncEngine:
    kwargs: dict[str, Any] = {"echo": echo, "json_deserializer": json_loads}
    if url.startswith("sqlite"):
        if url.startswith("sqlite+aiosqlite:"):
            from onestack.common import sqlite_async  # not imported on the other engines

            kwargs["module"] = sqlite_async.dbapi()
        if _sqlite_file(url):
            # No bound on connections: writers wait for SQLite's one write lock inside their
            # connection (the busy timeout), so when the pool's every connection is such a
            # writer, a lock holder needing one more (a read through another session) waited
            # for them and they for it until their timeout: 503s after 10 s. SQLite
            # connections cost no server; the busy timeout bounds the waits.
            kwargs.update(pool_size=pool_size, max_overflow=-1)
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
    if url.startswith(("mysql", "mariadb")):
        kwargs["pool_recycle"] = 3600
        # PostgreSQL's default: each statement sees what committed before it. A check made
        # under a lock (quotas, claims) must count the rows its predecessors committed, which
        # REPEATABLE READ's snapshot from the transaction's first read would hide.
        kwargs["isolation_level"] = "READ COMMITTED"
    return create_async_engine(url, **kwargs)


# Exclusive deletes: a unit of work that deletes a row it loaded, which a concurrent one
# deleted first, matches no row. SQLAlchemy only warns about that; here it fails the whole
# unit of work (``Database.session`` answers 404), so that of N concurrent deletes of one
# resource exactly one succeeds and nothing the losers did besides is kept.
_GONE = r"DELETE statement on table .* expected to delete \d+ row\(s\); \d+ were matched"
warnings.filterwarnings("error", message=_GONE, category=exc.SAWarning)


class RowGone(errors.NotFound):
    template = "The resource could not be found: another request deleted it."


async def delete_one(session: AsyncSession, stmt: Delete, gone: Exception | None = None) -> None:
    """Run ``stmt``, the DELETE of one resource's row, in ``session``: 404 (``gone``) when it
    matched no row because a concurrent delete won (the unit of work is rolled back)."""
    result = await session.execute(stmt)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise gone or RowGone()


ADMISSION = 2.0  # seconds a first session waits for its turn (see Database)

# How many sessions the running task (and the tasks it started) holds open.
_open_sessions: contextvars.ContextVar[int] = contextvars.ContextVar("open_sessions", default=0)


class Database:
    """One engine and session factory per process."""

    def __init__(self, url: str, echo: bool = False, pool_size: int = 10) -> None:
        self.url = url
        self.engine = create_engine(url, echo=echo, pool_size=pool_size)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        # PostgreSQL and MariaDB: a bounded pool (pool_size + as many overflow). A session
        # opened while the task holds one (a write transaction reading through another
        # session, a quota lock holder asking another service) needs a second connection;
        # when every connection was held by such first sessions, all waited for the pool's
        # timeout and failed. First sessions are admitted up to pool_size, so the overflow
        # is left to the sessions they open. SQLite's pool is unbounded (create_engine).
        self._first: asyncio.Semaphore | None = (
            None if url.startswith("sqlite") else asyncio.Semaphore(pool_size)
        )

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A unit of work: commits on success, rolls back on error; DB errors become ours."""
        depth = _open_sessions.get()
        admitted = False
        if self._first is not None and not depth:
            # Not forever: a first session waiting on another task's (a bus call's handler)
            # must not wait for the permit that task holds; past ADMISSION it takes its
            # chance with the pool as before.
            try:
                async with asyncio.timeout(ADMISSION):
                    await self._first.acquire()
                admitted = True
            except TimeoutError:
                pass
        try:
            async with self._session(depth) as session:
                yield session
        finally:
            if admitted:
                assert self._first is not None
                self._first.release()

    @asynccontextmanager
    async def _session(self, depth: int) -> AsyncIterator[AsyncSession]:
        token = _open_sessions.set(depth + 1)
        try:
            async with self._unit_of_work() as session:
                yield session
        finally:
            _open_sessions.reset(token)

    @asynccontextmanager
    async def _unit_of_work(self) -> AsyncIterator[AsyncSession]:
        async with self.sessionmaker() as session:
            try:
                yield session
                await session.commit()
            except exc.IntegrityError as err:
                await session.rollback()
                raise errors.Conflict(
                    "Conflict occurred attempting to store the resource: it already exists "
                    "or refers to one that does not."
                ) from err
            except (exc.OperationalError, exc.TimeoutError) as err:  # TimeoutError: the pool's
                await session.rollback()
                raise errors.ServiceUnavailable(reason="the database is unavailable") from err
            except exc.SAWarning as err:
                await session.rollback()
                if "expected to delete" in str(err):
                    raise RowGone() from err
                raise
            except BaseException:
                await session.rollback()
                raise

    async def close(self) -> None:
        await self.engine.dispose()


STARTUP_LOCK_KEY = 0x0E57AC  # any constant shared by every OneStack process on a database


@asynccontextmanager
async def startup_lock(db: Database, lock_file: Path) -> AsyncIterator[None]:
    """One process at a time through migrations and bootstrap, across hosts where the
    engine allows it (PostgreSQL advisory lock, MariaDB GET_LOCK), else a file lock."""
    dialect = db.engine.dialect.name
    if dialect == "sqlite":
        lock_file.parent.mkdir(parents=True, exist_ok=True)
        with open(lock_file, "a+") as f:  # noqa: ASYNC230 - a local lock file opens at once
            await asyncio.to_thread(fcntl.flock, f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)
        return
    async with db.engine.connect() as conn:
        if dialect == "postgresql":
            await conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": STARTUP_LOCK_KEY})
        else:
            got = await conn.scalar(text("SELECT GET_LOCK('onestack-startup', 300)"))
            if got != 1:
                raise errors.ServiceUnavailable(reason="another process holds the start-up lock")
        await conn.commit()
        try:
            yield
        finally:
            if dialect == "postgresql":
                await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": STARTUP_LOCK_KEY})
            else:
                await conn.execute(text("SELECT RELEASE_LOCK('onestack-startup')"))
            await conn.commit()
