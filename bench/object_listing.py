"""Where container listings and counts live: the measurement behind the choice (issue #15).

Two candidates, each holding N objects in one container, timed on what the API does with them
(the median of 5 runs each):
- ``per-account SQLite``: the disk store's own database (``object/drivers/disk``), read as the
  API reads it (``Listings.read`` on a read thread; the JSON made by SQLite,
  ``queries.list_objects_json``; the HEAD's counts from ``queries.container_info``, kept by
  the schema's triggers). Filled through ``Listings.write`` (the store's write path, its
  group commits), one ``queries.put_row`` op per object as PUTs do; past
  ``--write-path-max`` objects, by ``put_row``'s statement in one ``executemany`` op instead
  (one transaction, the same schema and triggers);
- ``service database``: the same rows in one shared table of the cloud's database
  (``common.db.create_engine``: SQLite by default, or ``--db-url``, e.g. PostgreSQL), primary
  key (account, container, name) as its index, filled by ``executemany`` in one transaction;
  a page is a SQLAlchemy ``select`` rendered to JSON by the API's ``render_objects``; the
  HEAD's counts are ``count(*)``/``sum(size)`` of the container's rows (exact: a counter row
  instead would be one more row every PUT and DELETE of the container updates).
Figures: a JSON page of 10,000 (Swift's default limit) from the start, from a marker in the
middle, and with a prefix (``dir050/``: 1% of the objects); a container HEAD.

    .venv/bin/python bench/object_listing.py                  # 10,000 and 1,000,000 objects
    .venv/bin/python bench/object_listing.py --sizes 10000 --json
    .venv/bin/python bench/object_listing.py --db-url postgresql+asyncpg://postgres@127.0.0.1/postgres
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from onestack.common.db import create_engine
from onestack.object.api.listing import render_objects
from onestack.object.drivers import paging
from onestack.object.drivers.base import Listing, ObjectEntry
from onestack.object.drivers.disk import queries
from onestack.object.drivers.disk.listings import Listings

ACCOUNT, CONTAINER = "AUTH_bench", "c"
ETAG = "d41d8cd98f00b204e9800998ecf8427e"
CHUNK = 50_000  # rows per executemany call (a million dicts at once: a gigabyte)
FIGURES = ("first_ms", "middle_ms", "prefix_ms", "head_ms")
PUT_ROW_SQL = (
    "INSERT INTO object (container, name, ts, size, content_type, etag, delete_at)"
    " VALUES (?, ?, ?, ?, ?, ?, NULL) ON CONFLICT (container, name) DO UPDATE SET"
    " ts = excluded.ts, size = excluded.size, content_type = excluded.content_type,"
    " etag = excluded.etag, delete_at = excluded.delete_at WHERE excluded.ts >= ts"
)


def name(i: int) -> str:
    return f"dir{i % 100:03d}/object-{i:08d}"


def row(i: int) -> tuple[str, str, float, int, str, str]:
    return (CONTAINER, name(i), 1_700_000_000.0 + i / 1000, 4096, "text/plain", ETAG)


def pages(count: int) -> dict[str, Listing]:
    """The three listings timed, by figure."""
    now = time.time()  # as the API asks: expired objects left out
    return {
        "first_ms": Listing(limit=10000, now=now),
        "middle_ms": Listing(limit=10000, marker=name(count // 2), now=now),
        "prefix_ms": Listing(limit=10000, prefix="dir050/", now=now),
    }


async def timed(fn: Callable[[], Awaitable[Any]], runs: int = 5) -> float:
    await fn()  # warm: the first read opens connections and pages the index in
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


# --- per-account SQLite (the disk store's) ----------------------------------------------------
async def fill_account(listings: Listings, count: int, write_path_max: int) -> str:
    """The container's rows through the store's write path; how, in words."""
    create = queries.create_container(ACCOUNT, CONTAINER, {}, "Policy-0", 1.0)
    await listings.write(ACCOUNT, create, create=True)
    if count <= write_path_max:
        for at in range(0, count, 1000):
            ops = [queries.put_row(*row(i), None) for i in range(at, min(count, at + 1000))]
            await asyncio.gather(*(listings.write(ACCOUNT, op) for op in ops))
        return "Listings.write, one put_row op per object (group commits)"

    def bulk(conn: Any) -> None:
        conn.executemany(PUT_ROW_SQL, (row(i) for i in range(count)))

    await listings.write(ACCOUNT, bulk)
    return "Listings.write, put_row's statement by executemany in one transaction"


async def per_account(root: Path, count: int, write_path_max: int) -> dict[str, Any]:
    listings = Listings(root)
    started = time.perf_counter()
    how = await fill_account(listings, count, write_path_max)
    out: dict[str, Any] = {"fill": how, "fill_s": time.perf_counter() - started}

    def page(q: Listing) -> Callable[[], Awaitable[Any]]:
        async def run() -> None:
            got = await listings.read(
                ACCOUNT, lambda conn: queries.list_objects_json(conn, CONTAINER, q)
            )
            assert got and got.startswith(b"[{"), got  # the bytes the API sends

        return run

    for figure, q in pages(count).items():
        out[figure] = await timed(page(q))

    async def head() -> None:
        info = await listings.read(ACCOUNT, lambda conn: queries.container_info(conn, CONTAINER))
        assert info is not None and info.object_count == count, info

    out["head_ms"] = await timed(head)
    await listings.close()
    return out


# --- the service database ---------------------------------------------------------------------
def service_table(meta: sa.MetaData) -> sa.Table:
    return sa.Table(
        "bench_object_listing",
        meta,
        sa.Column("account", sa.String(255), primary_key=True),
        sa.Column("container", sa.String(255), primary_key=True),
        sa.Column("name", sa.String(1024), primary_key=True),
        sa.Column("ts", sa.Float, nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("content_type", sa.String(255), nullable=False),
        sa.Column("etag", sa.String(32), nullable=False),
        sa.Column("delete_at", sa.Float),
    )


def service_rows(count: int) -> Iterator[list[dict[str, Any]]]:
    keys = ("container", "name", "ts", "size", "content_type", "etag")
    for at in range(0, count, CHUNK):
        yield [
            {"account": ACCOUNT, **dict(zip(keys, row(i), strict=True))}
            for i in range(at, min(count, at + CHUNK))
        ]


async def fill_service(engine: AsyncEngine, table: sa.Table, count: int) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(table.metadata.drop_all)
        await conn.run_sync(table.metadata.create_all)
    async with engine.begin() as conn:  # one transaction
        for rows in service_rows(count):
            await conn.execute(table.insert(), rows)
    if engine.dialect.name == "postgresql":
        async with engine.connect() as conn:  # as autovacuum would, before the first listing
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(sa.text(f"VACUUM ANALYZE {table.name}"))


def listing_stmt(table: sa.Table, q: Listing) -> sa.Select[Any]:
    """The page's query, as a service-database driver would make it."""
    c = table.c
    stmt = sa.select(c.name, c.size, c.etag, c.content_type, c.ts).where(
        c.account == ACCOUNT, c.container == CONTAINER
    )
    if q.marker:
        stmt = stmt.where(c.name > q.marker)
    if q.prefix:
        stmt = stmt.where(c.name >= q.prefix)
        upper = paging.after(q.prefix)
        if upper is not None:
            stmt = stmt.where(c.name < upper)
    if q.now:
        stmt = stmt.where(sa.or_(c.delete_at.is_(None), c.delete_at > q.now))
    return stmt.order_by(c.name).limit(q.limit)


async def service_db(url: str, count: int) -> dict[str, Any]:
    engine = create_engine(url)
    table = service_table(sa.MetaData())
    started = time.perf_counter()
    await fill_service(engine, table, count)
    out: dict[str, Any] = {"fill": "executemany in one transaction"}
    out["fill_s"] = time.perf_counter() - started

    def page(q: Listing) -> Callable[[], Awaitable[Any]]:
        stmt = listing_stmt(table, q)

        async def run() -> None:
            async with engine.connect() as conn:
                rows = (await conn.execute(stmt)).all()
            body, _ = render_objects([ObjectEntry(*r) for r in rows], "json", CONTAINER, False)
            assert body.startswith(b"[{"), body[:40]

        return run

    for figure, q in pages(count).items():
        out[figure] = await timed(page(q))
    counts = sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(table.c.size), 0)).where(
        table.c.account == ACCOUNT, table.c.container == CONTAINER
    )

    async def head() -> None:
        async with engine.connect() as conn:
            objects, _ = (await conn.execute(counts)).one()
        assert objects == count, objects

    out["head_ms"] = await timed(head)
    async with engine.begin() as conn:
        await conn.run_sync(table.metadata.drop_all)
    await engine.dispose()
    return out


# --- the run ----------------------------------------------------------------------------------
async def measure(args: argparse.Namespace) -> list[dict[str, Any]]:
    results = []
    for count in args.sizes:
        with tempfile.TemporaryDirectory(prefix="objlist-") as tmp:
            print(f"{count:,} objects: per-account SQLite", file=sys.stderr, flush=True)
            ours = await per_account(Path(tmp) / "accounts", count, args.write_path_max)
            results.append({"objects": count, "store": "per-account SQLite", **ours})
            url = args.db_url or f"sqlite+aiosqlite:///{tmp}/service.db"
            engine = url.split(":", 1)[0].split("+")[0]
            print(f"{count:,} objects: service database ({engine})", file=sys.stderr, flush=True)
            theirs = await service_db(url, count)
            results.append({"objects": count, "store": f"service database ({engine})", **theirs})
    return results


def print_table(results: list[dict[str, Any]]) -> None:
    print(
        f"{'objects':>10} {'store':<30} {'first 10k':>10} {'middle 10k':>11} "
        f"{'prefix':>8} {'HEAD':>8} {'fill s':>7}  (ms; median of 5)"
    )
    for r in results:
        print(
            f"{r['objects']:>10,} {r['store']:<30} {r['first_ms']:>10.1f} {r['middle_ms']:>11.1f}"
            f" {r['prefix_ms']:>8.1f} {r['head_ms']:>8.2f} {r['fill_s']:>7.1f}"
        )
    for r in results:
        print(f"  fill of {r['objects']:,}, {r['store']}: {r['fill']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--db-url", default="", help="the service database (default SQLite)")
    parser.add_argument(
        "--write-path-max",
        type=int,
        default=1_000_000,
        help="fill up to this many objects one op each; more by one executemany",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = asyncio.run(measure(args))
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print_table(results)


if __name__ == "__main__":
    main()
