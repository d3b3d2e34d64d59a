"""The SQL of one account's database (run by ``Listings`` on its threads)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from functools import partial

from onestack.object.drivers import paging
from onestack.object.drivers.base import (
    AccountInfo,
    ContainerEntry,
    ContainerInfo,
    ContainerNotEmpty,
    Listing,
    NotFound,
    ObjectEntry,
    Subdir,
)


def _merge(stored: str, changes: dict[str, str]) -> str:
    metadata: dict[str, str] = json.loads(stored)
    for key, value in changes.items():
        if value == "":
            metadata.pop(key, None)
        else:
            metadata[key] = value
    return json.dumps(metadata)


# --- account ---------------------------------------------------------------------------------
def ensure_account(conn: sqlite3.Connection, account: str, timestamp: float) -> None:
    conn.execute(
        "INSERT OR IGNORE INTO account (id, name, created, put_timestamp) VALUES (0, ?, ?, ?)",
        (account, timestamp, timestamp),
    )


def update_account(
    account: str, metadata: dict[str, str], timestamp: float
) -> Callable[[sqlite3.Connection], None]:
    def op(conn: sqlite3.Connection) -> None:
        ensure_account(conn, account, timestamp)
        (stored,) = conn.execute("SELECT metadata FROM account").fetchone()
        conn.execute(
            "UPDATE account SET metadata = ?, put_timestamp = max(put_timestamp, ?)",
            (_merge(stored, metadata), timestamp),
        )

    return op


def account_info(conn: sqlite3.Connection) -> AccountInfo | None:
    row = conn.execute(
        "SELECT name, container_count, object_count, bytes_used, created, metadata FROM account"
    ).fetchone()
    if row is None:
        return None
    return AccountInfo(row[0], row[1], row[2], row[3], row[4], json.loads(row[5]))


def _bounds(
    column: str, lower: paging.Bound | None, upper: paging.Bound | None
) -> tuple[str, list[str]]:
    sql, args = "", []
    if lower is not None:
        sql += f" AND {column} {'>=' if lower.inclusive else '>'} ?"
        args.append(lower.value)
    if upper is not None:
        sql += f" AND {column} {'<=' if upper.inclusive else '<'} ?"
        args.append(upper.value)
    return sql, args


def _fetch_containers(
    conn: sqlite3.Connection,
    lower: paging.Bound | None,
    upper: paging.Bound | None,
    limit: int,
    reverse: bool,
) -> Iterator[ContainerEntry]:
    where, args = _bounds("name", lower, upper)
    order = "DESC" if reverse else "ASC"
    # Only fixed fragments are formatted in; every value is bound.
    sql = f"SELECT name, object_count, bytes_used, changed FROM container WHERE 1{where}"  # noqa: S608
    rows = conn.execute(f"{sql} ORDER BY name {order} LIMIT ?", (*args, limit))
    return map(ContainerEntry._make, rows)


def list_containers(conn: sqlite3.Connection, q: Listing) -> list[ContainerEntry | Subdir]:
    return paging.walk(partial(_fetch_containers, conn), q)


# --- containers ------------------------------------------------------------------------------
def create_container(
    account: str, container: str, metadata: dict[str, str], policy: str, timestamp: float
) -> Callable[[sqlite3.Connection], bool]:
    def op(conn: sqlite3.Connection) -> bool:
        ensure_account(conn, account, timestamp)
        row = conn.execute("SELECT metadata FROM container WHERE name = ?", (container,)).fetchone()
        if row is None:
            conn.execute(
                "INSERT INTO container (name, created, put_timestamp, changed, metadata, policy)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (container, timestamp, timestamp, timestamp, _merge("{}", metadata), policy),
            )
            return True
        conn.execute(
            "UPDATE container SET metadata = ?, put_timestamp = max(put_timestamp, ?)"
            " WHERE name = ?",
            (_merge(row[0], metadata), timestamp, container),
        )
        return False

    return op


def container_info(conn: sqlite3.Connection, container: str) -> ContainerInfo | None:
    row = conn.execute(
        "SELECT object_count, bytes_used, created, put_timestamp, metadata, policy"
        " FROM container WHERE name = ?",
        (container,),
    ).fetchone()
    if row is None:
        return None
    return ContainerInfo(container, row[0], row[1], row[2], row[3], json.loads(row[4]), row[5])


def update_container(
    container: str, metadata: dict[str, str], timestamp: float
) -> Callable[[sqlite3.Connection], None]:
    def op(conn: sqlite3.Connection) -> None:
        row = conn.execute("SELECT metadata FROM container WHERE name = ?", (container,)).fetchone()
        if row is None:
            raise NotFound(container)
        conn.execute(
            "UPDATE container SET metadata = ?, put_timestamp = max(put_timestamp, ?)"
            " WHERE name = ?",
            (_merge(row[0], metadata), timestamp, container),
        )

    return op


def delete_container(container: str) -> Callable[[sqlite3.Connection], None]:
    def op(conn: sqlite3.Connection) -> None:
        row = conn.execute(
            "SELECT object_count FROM container WHERE name = ?", (container,)
        ).fetchone()
        if row is None:
            raise NotFound(container)
        if (
            row[0] > 0
            or conn.execute(
                "SELECT 1 FROM object WHERE container = ? LIMIT 1", (container,)
            ).fetchone()
        ):
            raise ContainerNotEmpty(container)
        conn.execute("DELETE FROM container WHERE name = ?", (container,))

    return op


def _fetch_objects(
    conn: sqlite3.Connection,
    container: str,
    now: float,
    lower: paging.Bound | None,
    upper: paging.Bound | None,
    limit: int,
    reverse: bool,
    *,
    lazy: bool = False,
) -> Iterable[ObjectEntry]:
    """Rows in order; read lazily for a delimiter's walk (it may leave a page early),
    fetched at once otherwise (a 10,000-row page: measurably faster)."""
    where, args = _bounds("name", lower, upper)
    order = "DESC" if reverse else "ASC"
    expiry = " AND (delete_at IS NULL OR delete_at > ?)" if now else ""
    sql = f"SELECT name, size, etag, content_type, ts FROM object WHERE container = ?{where}"  # noqa: S608
    rows = conn.execute(
        f"{sql}{expiry} ORDER BY name {order} LIMIT ?",
        (container, *args, *((now,) if now else ()), limit),
    )
    if lazy:
        return map(ObjectEntry._make, rows)
    return list(map(ObjectEntry._make, rows.fetchall()))


def list_objects(
    conn: sqlite3.Connection, container: str, q: Listing
) -> list[ObjectEntry | Subdir] | None:
    if conn.execute("SELECT 1 FROM container WHERE name = ?", (container,)).fetchone() is None:
        return None
    fetch = partial(_fetch_objects, conn, container, q.now, lazy=bool(q.delimiter))
    return paging.walk(fetch, q)


def list_objects_json(conn: sqlite3.Connection, container: str, q: Listing) -> bytes:
    """A listing without a delimiter as Swift's JSON text (UTF-8), joined by SQLite from the
    rows' stored JSON (``schema.JSON_ROW``, rendered when the row was written); ``MISSING``
    without the container. 10,000 rows rendered at each listing cost ~20 ms of a 24 ms
    query (the dates most of it); their stored text is joined in ~2 ms. SQLite works without
    the GIL, and the text comes back as bytes: no decoding into a str to encode again."""
    if conn.execute("SELECT 1 FROM container WHERE name = ?", (container,)).fetchone() is None:
        return MISSING
    bounds = paging.plain_bounds(q)
    if bounds is None:
        return b"[]"
    where, args = _bounds("name", *bounds)
    order = "DESC" if q.reverse else "ASC"
    expiry = " AND (delete_at IS NULL OR delete_at > ?)" if q.now else ""
    # Only fixed fragments are formatted in; every value is bound.
    # The rows come to group_concat in the subquery's order: SQLite never flattens a
    # subquery with a LIMIT into an aggregate (test_json_listing_as_the_rows_render).
    sql = (
        "SELECT CAST('[' || coalesce(group_concat(json_row, ','), '') || ']' AS BLOB) FROM"  # noqa: S608
        f" (SELECT json_row FROM object WHERE container = ?{where}{expiry}"
        f" ORDER BY name {order} LIMIT ?)"
    )
    found = conn.execute(sql, (container, *args, *((q.now,) if q.now else ()), q.limit))
    text: bytes = found.fetchone()[0]
    return text


MISSING = b""  # list_objects_json's answer for a container that is not there


# --- object rows -----------------------------------------------------------------------------
def put_row(
    container: str,
    name: str,
    ts: float,
    size: int,
    content_type: str,
    etag: str,
    delete_at: float | None,
) -> Callable[[sqlite3.Connection], None]:
    """List the object, unless the listing already holds a newer version of it."""

    def op(conn: sqlite3.Connection) -> None:
        conn.execute(
            "INSERT INTO object (container, name, ts, size, content_type, etag, delete_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (container, name) DO UPDATE SET"
            " ts = excluded.ts, size = excluded.size, content_type = excluded.content_type,"
            " etag = excluded.etag, delete_at = excluded.delete_at WHERE excluded.ts >= ts",
            (container, name, ts, size, content_type, etag, delete_at),
        )

    return op


def ensure_container_row(
    account: str, container: str, policy: str, timestamp: float
) -> Callable[[sqlite3.Connection], None]:
    """The container of an object found on disk without it (the reconcile scan)."""

    def op(conn: sqlite3.Connection) -> None:
        ensure_account(conn, account, timestamp)
        conn.execute(
            "INSERT OR IGNORE INTO container (name, created, put_timestamp, changed, policy)"
            " VALUES (?, ?, ?, ?, ?)",
            (container, timestamp, timestamp, timestamp, policy),
        )

    return op


def delete_row(
    container: str, name: str, ts: float | None = None, still_gone: Callable[[], bool] | None = None
) -> Callable[[sqlite3.Connection], None]:
    """Unlist the object (only the version of timestamp ``ts``, and only if ``still_gone()``
    when given: the reconcile scan must not unlist what a PUT just stored)."""

    def op(conn: sqlite3.Connection) -> None:
        if still_gone is not None and not still_gone():
            return
        if ts is None:
            conn.execute("DELETE FROM object WHERE container = ? AND name = ?", (container, name))
        else:
            conn.execute(
                "DELETE FROM object WHERE container = ? AND name = ? AND ts = ?",
                (container, name, ts),
            )

    return op


def object_rows(conn: sqlite3.Connection, after: tuple[str, str], limit: int) -> list[tuple]:
    """A page of (container, name, ts) rows, for the reconcile scan."""
    return conn.execute(
        "SELECT container, name, ts FROM object WHERE (container, name) > (?, ?)"
        " ORDER BY container, name LIMIT ?",
        (*after, limit),
    ).fetchall()


def row_ts(conn: sqlite3.Connection, container: str, name: str) -> float | None:
    row = conn.execute(
        "SELECT ts FROM object WHERE container = ? AND name = ?", (container, name)
    ).fetchone()
    return None if row is None else float(row[0])
