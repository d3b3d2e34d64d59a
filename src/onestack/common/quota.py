"""Quota checks that hold under concurrency, on SQLite, PostgreSQL and MariaDB alike.

A create that counts what a project holds and then inserts one more races every other such
create: each counts before the others commit and all of them pass. Nova and Neutron close the
race with a reservation row or a counted re-check under a lock; this is the second. A
quota-bearing write calls ``lock_quota(session, scope)`` in its transaction, before it
counts: that bumps the scope's row in ``common_quota_lock`` (made on first use), so

- PostgreSQL and MariaDB hold that row's write lock until the transaction ends: the next
  create of the scope waits, then (READ COMMITTED on both, see ``db.create_engine``) counts
  the rows its predecessor committed;
- SQLite takes its one database write lock; a transaction whose earlier reads were overtaken
  by a commit cannot take it (``SQLITE_BUSY_SNAPSHOT``) and fails as a whole instead of
  counting stale rows.

A scope names what one limit counts: ``compute:PROJECT``, ``network:PROJECT``, ... Scopes
that never contend (other projects) never wait for each other.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, String, Table, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from onestack.common.db import Base


class QuotaLock(Base):
    __tablename__ = "common_quota_lock"

    scope: Mapped[str] = mapped_column(String(255), primary_key=True)
    generation: Mapped[int] = mapped_column(BigInteger, default=0)


async def lock_quota(session: AsyncSession, scope: str) -> None:
    """Hold ``scope``'s quota lock until ``session``'s transaction ends (see the module)."""
    table: Table = QuotaLock.__table__  # type: ignore[assignment]
    bumped = await session.execute(
        update(table).where(table.c.scope == scope).values(generation=table.c.generation + 1)
    )
    if bumped.rowcount == 1:  # type: ignore[attr-defined]
        return
    # First use of the scope: an upsert, so that concurrent first users queue on the new row
    # instead of failing on its primary key.
    dialect = (await session.connection()).dialect.name
    stmt: Any
    # Each dialect's module imported only where it is the engine's: importing PostgreSQL's
    # and MySQL's cost every start about 0.2 s (#19).
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        stmt = postgresql.insert(table).values(scope=scope, generation=1)
        stmt = stmt.on_conflict_do_update(
            index_elements=[table.c.scope], set_={"generation": table.c.generation + 1}
        )
    elif dialect == "sqlite":
        from sqlalchemy.dialects import sqlite

        stmt = sqlite.insert(table).values(scope=scope, generation=1)
        stmt = stmt.on_conflict_do_update(
            index_elements=[table.c.scope], set_={"generation": table.c.generation + 1}
        )
    else:
        from sqlalchemy.dialects import mysql

        stmt = mysql.insert(table).values(scope=scope, generation=1)
        stmt = stmt.on_duplicate_key_update(generation=table.c.generation + 1)
    await session.execute(stmt)
