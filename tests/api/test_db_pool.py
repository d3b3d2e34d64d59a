"""The bounded connection pool of PostgreSQL and MariaDB cannot be exhausted by requests
that each hold a session and open a second one (a write transaction reading through another
session): every connection held by such a first session and their second sessions waited
for the pool's timeout (30 s), then failed. On SQLite the pool is unbounded (see
``common.db``); here first sessions are admitted up to the pool's size, leaving its
overflow to the sessions they open."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from sqlalchemy import text

from onestack.common.db import Database

POOL = 2
REQUESTS = 10


async def nested_sessions(url: str) -> float:
    db = Database(url, pool_size=POOL)
    db.engine.pool._timeout = 5  # type: ignore[attr-defined]  # fail fast, not in 30 s

    async def request() -> None:
        async with db.session() as outer:
            await outer.execute(text("SELECT 1"))
            await asyncio.sleep(0.05)  # every request holds its first connection
            async with db.session() as inner:
                await inner.execute(text("SELECT 1"))

    started = time.monotonic()
    try:
        await asyncio.gather(*(request() for _ in range(REQUESTS)))
    finally:
        await db.close()
    return time.monotonic() - started


def test_sessions_opened_inside_sessions_do_not_exhaust_the_pool(
    tmp_path: Path, fresh_database: str | None
) -> None:
    url = fresh_database or f"sqlite+aiosqlite:///{tmp_path / 'pool.db'}"
    took = asyncio.run(nested_sessions(url))
    # An exhausted pool raises after its 5 s timeout; a slow, busy host is not a failure.
    assert took < 5, took
