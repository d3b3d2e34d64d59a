"""Listings and counts of the disk store: one SQLite database per account.

Each account's database holds its containers (with their metadata and counts) and the listing
rows of their objects; triggers keep the container and account counts in the same transaction
as the row, so the counts never drift from the listing. Swift keeps one database per container
and sends the counts to the account's database later; one per account keeps both exact without
a second write (measured beside the service database by ``bench/object_listing.py``).

Writes are *group-committed*: the writes that arrive while a transaction is running go
together into the next one, on one writer thread, so 16 concurrent PUTs cost a few commits,
not 16. Reads run on their own threads and connections (WAL: readers never wait for the
writer) and see every write whose ``write`` has returned.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from onestack.object.drivers.base import NotFound, StoreError
from onestack.object.drivers.disk import schema

T = TypeVar("T")
Op = Callable[[sqlite3.Connection], Any]

READ_CONNECTIONS = 64  # per reader thread


def account_hash(account: str) -> str:
    return hashlib.md5(account.encode(), usedforsecurity=False).hexdigest()


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    # A process crash loses nothing; a power cut may lose the last commits, which the
    # reconcile scan puts back from the object files (they are the truth).
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=10000")
    return conn


def _wake(lock: threading.Lock) -> None:
    """Wake the thread waiting on ``lock`` (or, when none waits yet, the next wait)."""
    with contextlib.suppress(RuntimeError):  # already woken
        lock.release()


@dataclass(frozen=True, slots=True)
class Listed:
    """Who waits for a row of ``list_soon``: a future of an event loop, and what to undo
    when the row cannot be written because the account's database is gone."""

    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[None]
    on_missing: Callable[[], None]


def _settle(batch: list[tuple[Op, Listed]], results: list[Any]) -> None:
    """Settle the futures of committed rows: one wake-up of each loop for the batch."""
    settled: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[None], Any]]] = {}
    for (_, listed), result in zip(batch, results, strict=True):
        if isinstance(result, NotFound):
            try:
                listed.on_missing()
            except Exception as exc:
                result = exc
        settled.setdefault(listed.loop, []).append((listed.future, result))
    for loop, futures in settled.items():
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
            loop.call_soon_threadsafe(_resolve_all, futures)


def _resolve_all(futures: list[tuple[asyncio.Future[None], Any]]) -> None:
    for fut, result in futures:
        if fut.done():  # its caller was cancelled meanwhile
            continue
        if isinstance(result, BaseException):
            fut.set_exception(result)
        else:
            fut.set_result(None)


class Listings:
    """Every account database under ``root`` (``root/<hash[-3:]>/<hash>.db``)."""

    def __init__(self, root: Path, readers: int = 2) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="object-db-write")
        self._readers = ThreadPoolExecutor(readers, thread_name_prefix="object-db-read")
        self._write_conns: OrderedDict[str, sqlite3.Connection] = OrderedDict()
        # Writes run on the writer thread (group commits) or on an I/O thread right after an
        # object's rename (``apply_now``): one lock per account's database, one for the map.
        self._guard = threading.Lock()
        self._account_locks: dict[str, threading.Lock] = {}
        self._queued: dict[str, list[list[Any]]] = {}  # apply_now's ops awaiting a holder
        self._rows: dict[str, list[tuple[Op, Listed]]] = {}  # list_soon's rows awaiting one
        self._local = threading.local()
        self._pending: dict[str, list[tuple[Op, asyncio.Future[Any]]]] = {}
        self._flushers: dict[str, asyncio.Task[None]] = {}
        self._create: set[str] = set()

    @property
    def writer_executor(self) -> ThreadPoolExecutor:
        """The one thread every write runs on (other databases of the store use it too)."""
        return self._writer

    def path(self, account: str) -> Path:
        digest = account_hash(account)
        return self.root / digest[-3:] / f"{digest}.db"

    def accounts_on_disk(self) -> list[Path]:
        return sorted(self.root.glob("*/*.db"))

    # --- writes --------------------------------------------------------------------------
    async def write(
        self, account: str, op: Callable[[sqlite3.Connection], T], *, create: bool = False
    ) -> T:
        """Run ``op`` in a write transaction of ``account``'s database (made when ``create``;
        ``NotFound`` otherwise), together with the other writes waiting for it."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Any] = loop.create_future()
        self._pending.setdefault(account, []).append((op, fut))
        if create:
            self._create.add(account)
        if account not in self._flushers:
            self._flushers[account] = loop.create_task(self._flush(account))
        result = await fut
        if isinstance(result, BaseException):
            raise result
        return result  # type: ignore[no-any-return]

    async def _flush(self, account: str) -> None:
        loop = asyncio.get_running_loop()
        try:
            while batch := self._pending.pop(account, None):
                create = account in self._create
                self._create.discard(account)
                try:
                    results = await loop.run_in_executor(
                        self._writer, self._apply, account, [op for op, _ in batch], create
                    )
                except Exception as exc:  # the whole transaction failed
                    results = [exc] * len(batch)
                for (_, fut), result in zip(batch, results, strict=True):
                    if not fut.done():
                        fut.set_result(result)
        finally:
            del self._flushers[account]

    def _lock(self, account: str) -> threading.Lock:
        with self._guard:
            return self._account_locks.setdefault(account, threading.Lock())

    def _write_conn(self, account: str, create: bool) -> sqlite3.Connection:
        """The account's write connection (its lock held by the caller)."""
        with self._guard:
            conn = self._write_conns.get(account)
            if conn is not None:
                self._write_conns.move_to_end(account)
                return conn
        path = self.path(account)
        if not path.exists():
            if not create:
                raise NotFound(account)
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        conn = _connect(path)
        schema.setup(conn)
        with self._guard:
            self._write_conns[account] = conn
            self._evict()
        return conn

    def _evict(self) -> None:
        """Close the least used connections beyond the cap (none that is in use)."""
        for name in list(self._write_conns):
            if len(self._write_conns) <= READ_CONNECTIONS:
                return
            if self._rows.get(name):
                # Its rows' thread may have found the lock taken by us (we hold the guard,
                # not its lock, while it checks): letting go of it here would strand them.
                continue
            lock = self._account_locks.get(name)
            if lock is not None and lock.acquire(blocking=False):
                try:
                    self._write_conns.pop(name).close()
                finally:
                    lock.release()

    def list_soon(self, account: str, row: Op, listed: Listed) -> None:
        """Commit ``row`` (a write that returns nothing and raises no ``StoreError`` of its
        own: ``queries.put_row``) in ``account``'s database, then settle ``listed``'s
        future on its loop with None, or with the error (calling its ``on_missing`` first
        when the account's database is gone); from an I/O thread.

        Unlike ``apply_now`` the caller never waits: when another thread holds the
        database, the row is left for it, to commit once it lets go, and the caller's
        thread is free at once. A PUT's thread waited for the holder to commit its row, was
        woken, took the GIL back and woke the event loop, each PUT in turn: now the holder
        settles its whole batch in one wake-up of the loop."""
        with self._guard:
            self._rows.setdefault(account, []).append((row, listed))
        self._commit_rows(account, self._lock(account))

    def _commit_rows(self, account: str, lock: threading.Lock) -> None:
        """Commit the rows queued for ``account`` while none holds its lock. Whoever lets go
        of the lock calls this after: a row queued while it was held is never stranded (its
        thread found the lock taken after queueing it, so before the holder let go)."""
        while True:
            with self._guard:
                if not self._rows.get(account):
                    return
            if not lock.acquire(blocking=False):
                return  # its holder commits them once it lets go
            try:
                with self._guard:
                    batch = self._rows.pop(account, [])
                try:
                    rows = [row for row, _ in batch]
                    results = self._transaction(account, rows, False, isolated=False)
                except Exception as exc:
                    results = [exc] * len(batch)
            finally:
                lock.release()
            self._wake_next(account)  # an ``apply_now`` that found the lock taken
            _settle(batch, results)

    def apply_now(self, account: str, op: Callable[[sqlite3.Connection], T]) -> T:
        """``op`` on this thread (an I/O thread that has just renamed an object into place
        lists it at once: no hand-off to the writer thread). Threads that come while one
        holds the database are combined: the holder commits their ops in its transaction
        (16 concurrent PUTs waited in turn for the lock and the GIL: a few commits now)."""
        # op, result, wake, done; the wake is a lock held until a wake-up lets go of it
        # (an Event is a Condition over a lock that makes a waiter lock per wait).
        wake = threading.Lock()
        wake.acquire()
        item: list[Any] = [op, None, wake, False]
        with self._guard:
            self._queued.setdefault(account, []).append(item)
        lock = self._lock(account)
        while not item[3]:
            if lock.acquire(blocking=False):
                try:
                    self._drain(account)
                finally:
                    lock.release()
                self._wake_next(account)
                self._commit_rows(account, lock)
            else:
                # Woken when the holder has committed ours, or lets go with ours still
                # queued (then we try again). A 0.5 ms poll here woke 16 threads 2,000
                # times a second each; the timeout is only a safety net.
                wake.acquire(timeout=0.05)
        result = item[1]
        if isinstance(result, BaseException):
            raise result
        return result  # type: ignore[no-any-return]

    def _drain(self, account: str) -> None:
        """Commit the ops queued for ``account`` in one transaction (its lock held)."""
        with self._guard:
            batch = self._queued.pop(account, [])
        if not batch:
            return
        try:
            results = self._transaction(account, [b[0] for b in batch], False)
        except Exception as exc:
            results = [exc] * len(batch)
        for queued, result in zip(batch, results, strict=True):
            queued[1] = result
            queued[3] = True
            _wake(queued[2])

    def _wake_next(self, account: str) -> None:
        """After letting go of ``account``'s lock: wake a thread whose op was queued while
        it was held, to take the lock and commit the queue (the holder returns at once)."""
        with self._guard:
            queued = self._queued.get(account)
            if queued:
                _wake(queued[0][2])

    def _apply(self, account: str, ops: list[Op], create: bool) -> list[Any]:
        lock = self._lock(account)
        try:
            with lock:
                return self._transaction(account, ops, create)
        finally:
            self._wake_next(account)
            self._commit_rows(account, lock)

    def _transaction(
        self, account: str, ops: list[Op], create: bool, isolated: bool = True
    ) -> list[Any]:
        """``ops`` in one transaction, each in a savepoint of its own (a ``StoreError`` it
        raises is its result, the others' writes stay) unless not ``isolated``: ops that
        raise none of their own (list_soon's rows), which all fail together or none."""
        try:
            conn = self._write_conn(account, create)
        except NotFound as exc:
            return [exc] * len(ops)
        results: list[Any] = []
        conn.execute("BEGIN IMMEDIATE")
        if not isolated:
            # Each statement lets go of the GIL and takes it back while the account's
            # lock is held: without the savepoints, 2 + n of them for n rows, not 2 + 3n.
            try:
                results = [op(conn) for op in ops]
                conn.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                raise
            return results
        if len(ops) == 1:  # alone in its transaction: no savepoint needed
            try:
                results.append(ops[0](conn))
            except BaseException as exc:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                if isinstance(exc, StoreError):
                    return [exc]
                raise
            conn.execute("COMMIT")
            return results
        try:
            for op in ops:
                conn.execute("SAVEPOINT op")
                try:
                    results.append(op(conn))
                except StoreError as exc:
                    conn.execute("ROLLBACK TO op")
                    results.append(exc)
                conn.execute("RELEASE op")
            conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise
        return results

    # --- reads ---------------------------------------------------------------------------
    async def read(self, account: str, op: Callable[[sqlite3.Connection], T]) -> T | None:
        """``op`` on a read connection of ``account``'s database; None when it has none."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, self._read, account, op)

    def _read(self, account: str, op: Callable[[sqlite3.Connection], T]) -> T | None:
        conns: OrderedDict[str, sqlite3.Connection] | None = getattr(self._local, "conns", None)
        if conns is None:
            conns = self._local.conns = OrderedDict()
        conn = conns.get(account)
        if conn is None:
            path = self.path(account)
            if not path.exists():
                return None
            conn = _connect(path)
            try:
                # A database of an older schema is upgraded by its first reader as by its
                # first writer (a listing may come first after an upgrade of the cloud).
                schema.setup(conn)
            except BaseException:
                conn.close()
                raise
            conns[account] = conn
            while len(conns) > READ_CONNECTIONS:
                _, old = conns.popitem(last=False)
                old.close()
        else:
            conns.move_to_end(account)
        try:
            return op(conn)
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):  # made but not yet set up by the writer
                return None
            raise

    async def close(self) -> None:
        while self._flushers:
            await asyncio.gather(*self._flushers.values(), return_exceptions=True)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._writer, self._close_writes)
        self._writer.shutdown(wait=True)
        self._readers.shutdown(wait=True)

    def _close_writes(self) -> None:
        with self._guard:
            for conn in self._write_conns.values():
                conn.close()
            self._write_conns.clear()
