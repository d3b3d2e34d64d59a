"""Throwaway databases on PostgreSQL or MariaDB for one test session (SQLite needs none)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Iterator

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine


def _admin_url(url: str) -> tuple[str, str]:
    parsed = make_url(url)
    name = f"onestack_test_{uuid.uuid4().hex[:10]}"
    admin_db = "postgres" if parsed.get_backend_name() == "postgresql" else "mysql"
    return parsed.set(database=admin_db).render_as_string(hide_password=False), name


async def _execute(url: str, statement: str) -> None:
    from sqlalchemy import text

    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


def create_database(server_url: str) -> str:
    """Create a fresh database on the server named by ``server_url``; return its URL."""
    admin, name = _admin_url(server_url)
    asyncio.run(_execute(admin, f"CREATE DATABASE {name}"))
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    parsed = make_url(url)
    admin, _ = _admin_url(url)
    asyncio.run(_execute(admin, f"DROP DATABASE IF EXISTS {parsed.database}"))


@contextlib.contextmanager
def throwaway_database(server_url: str | None) -> Iterator[str | None]:
    """A fresh database on the server for the duration, or None for SQLite (no server)."""
    if not server_url:
        yield None
        return
    url = create_database(server_url)
    try:
        yield url
    finally:
        drop_database(url)
