"""Where container listings live: the measurement behind the choice (issue #15).

Two candidates, each filled with N objects in one container, then timed on what a listing
does (the median of 5 runs each):
- ``per-account SQLite``: the disk store's own database (``object/drivers/disk``), through
  its listing code, as the API runs it (a read thread, ``paging.walk``);
- ``service database``: the same table in the cloud's database through SQLAlchemy's async
  engine (what a table in ``object/models.py`` would be), SQLite here (the default) or the
  server given with ``--db-url`` (PostgreSQL, MariaDB).
For each: the first 10,000 names (a full page), a page from the middle (marker), a prefix
page of 100, and a delimiter listing (the whole container folded into its 100 "directories").
Also the PUT-side cost: rows inserted per second in batches of 16 (a group commit).

    .venv/bin/python bench/object_listing.py                 # 10,000 and 1,000,000 objects
    .venv/bin/python bench/object_listing.py --sizes 10000
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from onestack.object.drivers import paging
from onestack.object.drivers.base import Listing
from onestack.object.drivers.disk import queries
from onestack.object.drivers.disk.listings import Listings

BATCH = 16


def name(i: int) -> str:
    return f"dir{i % 100:03d}/object-{i:08d}"


async def timed(fn: Callable[[], Awaitable[Any]], runs: int = 5) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


async def per_account(root: Path, count: int) -> dict[str, float]:
    listings = Listings(root)
    await listings.write(
        "AUTH_b", queries.create_container("AUTH_b", "c", {}, "Policy-0", 1.0), create=True
    )
    started = time.perf_counter()
    for at in range(0, count, 1000):
        ops = [
            queries.put_row(
                "c", name(i), 1.0, 4096, "text/plain", "d41d8cd98f00b204e9800998ecf8427e", None
            )
            for i in range(at, min(count, at + 1000))
        ]
        await asyncio.gather(*(listings.write("AUTH_b", op) for op in ops))
    fill = count / (time.perf_counter() - started)

    def lister(q: Listing) -> Callable[[], Awaitable[Any]]:
        return lambda: listings.read("AUTH_b", lambda conn: queries.list_objects(conn, "c", q))

    out = {
        "insert_per_s": fill,
        "first_10000_ms": await timed(lister(Listing(limit=10000))),
        "middle_10000_ms": await timed(lister(Listing(limit=10000, marker=name(count // 2)))),
        "prefix_100_ms": await timed(lister(Listing(limit=100, prefix="dir050/"))),
        "delimiter_ms": await timed(lister(Listing(limit=10000, delimiter="/"))),
    }
    await listings.close()
    return out


async def service_db(url: str, count: int) -> dict[str, float]:
    engine = create_async_engine(url)
    meta = sa.MetaData()
    table = sa.Table(
        "bench_object",
        meta,
        sa.Column("account", sa.String(255), primary_key=True),
        sa.Column("container", sa.String(255), primary_key=True),
        sa.Column("name", sa.String(1024), primary_key=True),
        sa.Column("ts", sa.Float),
        sa.Column("size", sa.BigInteger),
        sa.Column("content_type", sa.String(255)),
        sa.Column("etag", sa.String(32)),
    )
    async with engine.begin() as conn:
        await conn.run_sync(meta.drop_all)
        await conn.run_sync(meta.create_all)
    started = time.perf_counter()
    for at in range(0, count, BATCH):
        rows = [
            {
                "account": "AUTH_b",
                "container": "c",
                "name": name(i),
                "ts": 1.0,
                "size": 4096,
                "content_type": "text/plain",
                "etag": "d41d8cd98f00b204e9800998ecf8427e",
            }
            for i in range(at, min(count, at + BATCH))
        ]
        async with engine.begin() as conn:
            await conn.execute(table.insert(), rows)
    fill = count / (time.perf_counter() - started)

    async def fetch_page(q: Listing) -> list[Any]:
        async with engine.connect() as conn:
            stmt = sa.select(
                table.c.name, table.c.size, table.c.etag, table.c.content_type, table.c.ts
            )
            stmt = stmt.where(table.c.account == "AUTH_b", table.c.container == "c")
            if q.marker:
                stmt = stmt.where(table.c.name > q.marker)
            if q.prefix:
                stmt = stmt.where(table.c.name >= q.prefix, table.c.name < paging.after(q.prefix))
            rows = (await conn.execute(stmt.order_by(table.c.name).limit(q.limit))).all()
            return list(rows)

    async def delimiter() -> None:
        # The walk issues one query per folded prefix, as the disk store's does.
        marker = ""
        for _ in range(100):
            rows = await fetch_page(Listing(limit=1, marker=marker))
            if not rows:
                break
            marker = paging.after(rows[0][0].split("/")[0] + "/") or ""

    out = {
        "insert_per_s": fill,
        "first_10000_ms": await timed(lambda: fetch_page(Listing(limit=10000))),
        "middle_10000_ms": await timed(
            lambda: fetch_page(Listing(limit=10000, marker=name(count // 2)))
        ),
        "prefix_100_ms": await timed(lambda: fetch_page(Listing(limit=100, prefix="dir050/"))),
        "delimiter_ms": await timed(delimiter),
    }
    async with engine.begin() as conn:
        await conn.run_sync(meta.drop_all)
    await engine.dispose()
    return out


async def main_async(args: argparse.Namespace) -> None:
    print(
        f"{'objects':>10} {'store':<22} {'insert/s':>9} {'first 10k':>10} {'middle 10k':>11} "
        f"{'prefix 100':>11} {'delimiter':>10}  (ms)"
    )
    for count in args.sizes:
        with tempfile.TemporaryDirectory(prefix="objlist-") as tmp:
            results = {"per-account SQLite": await per_account(Path(tmp) / "acc", count)}
            url = args.db_url or f"sqlite+aiosqlite:///{tmp}/service.db"
            results["service database"] = await service_db(url, count)
        for store, r in results.items():
            line = f"{count:>10,} {store:<22} {r['insert_per_s']:>9.0f} "
            line += f"{r['first_10000_ms']:>10.1f} {r['middle_10000_ms']:>11.1f} "
            line += f"{r['prefix_100_ms']:>11.2f} {r['delimiter_ms']:>10.1f}"
            print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10000, 1000000])
    parser.add_argument("--db-url", default="", help="service database server (default SQLite)")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
