"""One holder at a time across this host's processes: an flock on a file, taken in a thread
(the wait must not stop the event loop), and one coroutine per path within each process (an
flock is per open file, so two coroutines of one process would not exclude each other)."""

from __future__ import annotations

import asyncio
import fcntl
import os
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

_LOCAL: weakref.WeakValueDictionary[Path, asyncio.Lock] = weakref.WeakValueDictionary()


def _local(path: Path) -> asyncio.Lock:
    lock = _LOCAL.get(path)
    if lock is None:
        lock = _LOCAL[path] = asyncio.Lock()
    return lock


def _acquire(path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
    except BaseException:
        os.close(fd)
        raise
    return fd


@asynccontextmanager
async def held(path: Path) -> AsyncIterator[None]:
    """``path`` locked for the block, by this coroutine alone among every process here."""
    async with _local(path):
        fd = await asyncio.to_thread(_acquire, path)
        try:
            yield
        finally:
            os.close(fd)  # closing the descriptor releases its flock
