"""The disk store's repairs: the reconcile scan (object files against listings, after a
crash) and the md5 audit (bytes against their recorded md5; a mismatch is quarantined, as
Swift's auditor does, and unlisted)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import os
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from onestack.object.drivers.base import Expiring, NotFound
from onestack.object.drivers.disk import files, queries

if TYPE_CHECKING:
    from onestack.object.drivers.disk.store import DiskStore

STALE_TEMP = 3600.0  # an upload that wrote nothing for this long was left by a crash
PAGE = 1000
SCAN_DIRS = 128  # suffix directories listed per trip to a worker thread
AUDIT_BLOCK = 1024 * 1024


def _sorted_data(directories: list[str]) -> list[str]:
    found: list[str] = []
    for directory in directories:
        try:
            with os.scandir(directory) as entries:
                found.extend(sorted(e.path for e in entries if e.name.endswith(".data")))
        except (FileNotFoundError, NotADirectoryError):  # as glob: nothing there
            continue
    return found


async def _data_files(store: DiskStore) -> AsyncIterator[str]:
    """Every object file, ``SCAN_DIRS`` directories listed at a time: a million objects
    are not held in memory at once, and a new store's 4,096 empty directories are not
    4,096 hand-offs to a thread (the start-up scan competed with the first requests)."""
    objects = str(store.layout.objects)
    suffixes = sorted(await store.run(os.listdir, objects))
    for at in range(0, len(suffixes), SCAN_DIRS):
        batch = [os.path.join(objects, s) for s in suffixes[at : at + SCAN_DIRS]]
        for path in await store.run(_sorted_data, batch):
            yield path


def _read_version(path: str) -> dict[str, Any] | None:
    found = files.stored_version(path)
    if found is None:
        return None
    info = files.info_from(found[0], files.read_sidecar(path))
    return {
        "account": found[0]["account"],
        "container": found[0]["container"],
        "info": info,
        "lsize": found[0].get("lsize"),
    }


def _clean_temp(store: DiskStore) -> int:
    removed = 0
    cutoff = time.time() - STALE_TEMP
    for entry in list(store.layout.temp_files()):
        try:
            if entry.stat().st_mtime < cutoff:
                entry.unlink()
                removed += 1
        except FileNotFoundError:
            pass
    # Sidecars whose object is gone (a DELETE that died between the two unlinks) or was
    # replaced (a PUT leaves the old version's sidecar: it no longer applies).
    for meta in store.layout.objects.glob("*/*.meta"):
        data = str(meta.with_suffix(".data"))
        found = files.stored_version(data)
        sidecar = files.read_sidecar(data)
        if found is None or sidecar is None or sidecar.get("data_ts") != found[0]["ts"]:
            meta.unlink(missing_ok=True)
            removed += 1
    return removed


async def _list_files(store: DiskStore) -> int:
    """List every object file whose listing row is missing or older."""
    fixed = 0
    async for path in _data_files(store):
        found = await store.run(_read_version, path)
        if found is None:
            continue
        account, container, info = found["account"], found["container"], found["info"]
        ts = await store.listings.read(
            account, functools.partial(_row_ts, container=container, name=info.name)
        )
        if ts is not None and ts >= info.timestamp:
            continue
        await store.listings.write(
            account,
            queries.ensure_container_row(account, container, "Policy-0", info.timestamp),
            create=True,
        )
        await store.listed(account, container, info, found["lsize"])
        fixed += 1
    return fixed


async def _unlist_missing(store: DiskStore) -> int:
    """Unlist every row whose object file is gone."""
    fixed = 0
    for db in await store.run(store.listings.accounts_on_disk):
        account = await store.run(_account_name, db)
        if account is None:
            continue
        after = ("", "")
        while True:
            rows = await store.listings.read(account, functools.partial(_page, after=after))
            if not rows:
                break
            for container, name, ts in rows:
                path = store.layout.data_path(files.object_hash(account, container, name))
                if await store.run(os.path.exists, path):
                    continue
                await store.listings.write(
                    account,
                    queries.delete_row(
                        container, name, ts, still_gone=functools.partial(_gone, path)
                    ),
                )
                fixed += 1
            after = (rows[-1][0], rows[-1][1])
    return fixed


def _row_ts(conn: sqlite3.Connection, *, container: str, name: str) -> float | None:
    return queries.row_ts(conn, container, name)


def _page(conn: sqlite3.Connection, *, after: tuple[str, str]) -> list[tuple]:
    return queries.object_rows(conn, after, PAGE)


def _gone(path: str) -> bool:
    return not os.path.exists(path)


def _account_name(db: Path) -> str | None:
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT name FROM account").fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    return None if row is None else str(row[0])


async def reconcile(store: DiskStore) -> dict[str, int]:
    return {
        "temporary_removed": await store.run(_clean_temp, store),
        "listed": await _list_files(store),
        "unlisted": await _unlist_missing(store),
    }


# --- the md5 audit ---------------------------------------------------------------------------
def _body_md5(path: str, budget: list[float], rate: int) -> tuple[dict[str, Any], str] | None:
    """(trailer, md5 of the body) of one file, reading at ``rate`` bytes a second."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        meta, body_size = files.read_trailer(fd, os.fstat(fd).st_size)
        md5 = hashlib.md5(usedforsecurity=False)
        at = 0
        while at < body_size:
            block = os.pread(fd, min(AUDIT_BLOCK, body_size - at), at)
            if not block:
                break
            md5.update(block)
            at += len(block)
            budget[0] += len(block) / rate
            lag = budget[0] - time.monotonic()
            if lag > 0:
                time.sleep(lag)
        return meta, md5.hexdigest()
    finally:
        os.close(fd)


async def audit(store: DiskStore, rate: int) -> dict[str, int]:
    checked = quarantined = 0
    budget = [time.monotonic()]
    async for path in _data_files(store):
        budget[0] = max(budget[0], time.monotonic())
        try:
            got = await store.run(_body_md5, path, budget, rate)
        except files.Corrupt:
            got = ({}, "")
        if got is None:
            continue
        checked += 1
        meta, md5 = got
        if meta and meta.get("md5") == md5:
            continue
        quarantined += 1
        await _quarantine(store, path, meta)
    return {"checked": checked, "quarantined": quarantined}


async def _quarantine(store: DiskStore, path: str, meta: dict[str, Any]) -> None:
    digest = files.digest_of(path)
    target = store.layout.quarantine / f"{digest}.{int(time.time())}.data"

    def move() -> None:
        with store.stripe(digest):
            try:
                os.rename(path, target)
            except FileNotFoundError:
                return
            files.remove(files.meta_path(path))

    await store.run(move)
    if meta:
        with contextlib.suppress(NotFound):
            await store.listings.write(
                meta["account"],
                queries.delete_row(meta["container"], meta["name"], meta["ts"]),
            )
        if meta["meta"].get("x-delete-at"):
            await store.expiring.forget(
                Expiring(
                    meta["account"],
                    meta["container"],
                    meta["name"],
                    float(meta["meta"]["x-delete-at"]),
                    meta["ts"],
                )
            )
    await asyncio.sleep(0)
