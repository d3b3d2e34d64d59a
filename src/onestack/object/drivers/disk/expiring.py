"""The expirer's queue of the disk store: ``expiring.db``, one row per object version that
carries an ``X-Delete-At`` (Swift keeps these in its hidden ``.expiring_objects`` account)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from concurrent.futures import Executor
from pathlib import Path

from onestack.object.drivers.base import Expiring

SCHEMA = """
CREATE TABLE IF NOT EXISTS queue (
    delete_at REAL NOT NULL,
    account TEXT NOT NULL,
    container TEXT NOT NULL,
    name TEXT NOT NULL,
    ts REAL NOT NULL,
    PRIMARY KEY (account, container, name, ts)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS queue_due ON queue (delete_at);
"""


class ExpiringQueue:
    def __init__(self, path: Path, executor: Executor) -> None:
        self.path = path
        self.executor = executor
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()  # the writer thread and I/O threads share the connection

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(SCHEMA)
            self._conn = conn
        return self._conn

    def run_now(self, sql: str, args: tuple[object, ...]) -> list[tuple]:
        with self._lock:
            return self._db().execute(sql, args).fetchall()

    async def _run(self, sql: str, args: tuple[object, ...]) -> list[tuple]:
        return await asyncio.get_running_loop().run_in_executor(
            self.executor, self.run_now, sql, args
        )

    def add_now(self, entry: Expiring) -> None:
        self.run_now(
            "INSERT OR REPLACE INTO queue VALUES (?, ?, ?, ?, ?)",
            (entry.delete_at, entry.account, entry.container, entry.name, entry.timestamp),
        )

    async def add(self, entry: Expiring) -> None:
        await asyncio.get_running_loop().run_in_executor(self.executor, self.add_now, entry)

    async def due(self, now: float, limit: int) -> list[Expiring]:
        rows = await self._run(
            "SELECT account, container, name, delete_at, ts FROM queue WHERE delete_at <= ?"
            " ORDER BY delete_at LIMIT ?",
            (now, limit),
        )
        return [Expiring(*row) for row in rows]

    async def forget(self, entry: Expiring) -> None:
        await self._run(
            "DELETE FROM queue WHERE account = ? AND container = ? AND name = ? AND ts = ?",
            (entry.account, entry.container, entry.name, entry.timestamp),
        )

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
