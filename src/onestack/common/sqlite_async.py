"""SQLite under asyncio with one thread round trip per statement.

SQLAlchemy's aiosqlite adapter makes an aiosqlite cursor (a round trip to the connection's
thread), executes (another), fetches (another) and closes it (another): four hand-offs
between the event loop and the thread for each SELECT, each a wake-up of the other side
that a loaded machine schedules late. Here one function, run in the connection's thread,
makes a sqlite3 cursor, executes, fetches every row and closes it: one hand-off. The rows
are what the adapter buffered anyway (its cursor is not a server-side one).

Writers take the process's ``WriteGate`` before SQLite's write lock (see there)."""

from __future__ import annotations

import asyncio
import collections
import re
import sqlite3
import time
from collections.abc import Sequence
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

from onestack.common.logging import get_logger

log = get_logger(__name__)

Ran = tuple[Any, int, int | None, list[Any] | None]

# The statements before which sqlite3 opens a transaction: SQLite's write lock is taken there
# and held until the commit or rollback.
WRITE = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)
# s: writers queued in order all get their turn; the bound only ends one waiting for itself
# (a deadlock). 1,000 boots 16 at a time at load 20 queued writers up to 6.7 s.
GATE_TIMEOUT = 30.0
HELD_LONG = 5.0  # s: a write transaction held this long is logged (the others wait for it)


class WriteGate:
    """The process's writers of one database, one at a time in the order they came.

    Waiting in SQLite's busy handler is no queue: each waiter sleeps and retries (up to
    100 ms apart) and whoever retries just after a commit wins, however long the others
    waited. 1,000 boots 16 at a time on a loaded host (each boot a dozen short write
    transactions in background tasks) made writers wait past the 10 s busy timeout while
    no transaction held the lock over 1.05 s: 19 ``POST /servers`` answered 503 and builds
    failed. Here they queue in order; SQLite's busy timeout is left to other processes."""

    def __init__(self) -> None:
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.waiting = 0  # writers queued

    async def acquire(self) -> asyncio.Lock:
        """The lock taken (release it); past ``GATE_TIMEOUT``, ``database is locked`` as
        SQLite answers past its busy timeout."""
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:  # an asyncio lock serves one loop
            self._lock, self._loop = asyncio.Lock(), loop
        lock = self._lock
        self.waiting += 1
        try:
            async with asyncio.timeout(GATE_TIMEOUT):
                await lock.acquire()
        except TimeoutError:
            raise sqlite3.OperationalError("database is locked") from None
        finally:
            self.waiting -= 1
        return lock


def _run(conn: aiosqlite.Connection, operation: str, parameters: Any, many: bool) -> Ran:
    """In the connection's thread: the statement's description, row count, last row id and
    rows (None for a statement without a result)."""
    cursor = conn._conn.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else None
        return description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ("_arraysize", "_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection) -> None:
        # No aiosqlite cursor: it would cost a round trip to make and one to close.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None
        self._arraysize = 1

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    async def _async_soft_close(self) -> None:
        return None  # nothing open: the statement's cursor closed in its thread

    def close(self) -> None:
        self._rows.clear()

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        try:
            return await_(self._trip(operation, parameters, False))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    def executemany(self, operation: Any, seq_of_parameters: Sequence[Any]) -> Any:
        try:
            return await_(self._trip(operation, seq_of_parameters, True))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    async def _trip(self, operation: Any, parameters: Any, many: bool) -> None:
        conn: OneTripConnection = self._adapt_connection  # type: ignore[assignment]
        if conn._gate_held is None and WRITE.match(operation):
            await conn._enter_write()
        async with self._adapt_connection._execute_mutex:
            ran: Ran = await self._connection._execute(
                _run, self._connection, operation, parameters, many
            )
        self._description, self._rowcount, self._lastrowid, rows = ran
        self._rows = collections.deque(rows or ())


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ("_gate_held", "_gate_since")
    _cursor_cls = OneTripCursor  # type: ignore[assignment]
    dbapi: OneTripDBAPI

    def __init__(self, dbapi: OneTripDBAPI, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self._gate_held: asyncio.Lock | None = None  # the write gate, while in a transaction
        self._gate_since = 0.0

    async def _enter_write(self) -> None:
        self._gate_held = await self.dbapi.gate.acquire()
        self._gate_since = time.monotonic()

    def _release(self) -> None:
        held, self._gate_held = self._gate_held, None
        if held is None:
            return
        held.release()
        took = time.monotonic() - self._gate_since
        if took > HELD_LONG:
            log.warning("a write transaction held the database %.1f s", took)

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._release()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._release()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._release()

    def terminate(self) -> None:
        try:
            super().terminate()
        finally:
            self._release()


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """The aiosqlite DBAPI adapter whose connections use ``OneTripCursor`` (passed to
    ``create_async_engine`` as its ``module``): one per engine, with the engine's
    ``WriteGate``."""

    def __init__(self, aiosqlite: Any, sqlite: Any) -> None:
        super().__init__(aiosqlite, sqlite)
        self.gate = WriteGate()

    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        adapted = super().connect(*arg, **kw)
        return OneTripConnection(self, adapted._connection)


def dbapi() -> OneTripDBAPI:
    return OneTripDBAPI(aiosqlite, sqlite3)
