"""A lean pool of worker threads for blocking calls made from the event loop (the object
store's I/O, the lanes of large uploads: ``pipeline.py``).

``loop.run_in_executor`` with a ``ThreadPoolExecutor`` makes, per call, a
``concurrent.futures.Future`` (a condition variable), a work item, the executor's lock and
idle semaphore, and an asyncio future chained to the other by two callbacks. On the hot path
of a small object PUT (one hop to an I/O thread each) that was about a tenth of the event
loop's time under 16 clients. Here a call is a tuple in a ``SimpleQueue`` (C, no Python
lock) and the worker resolves the loop's future itself with one ``call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from queue import SimpleQueue
from typing import Any, TypeVar

T = TypeVar("T")
_Call = tuple[
    asyncio.AbstractEventLoop | None,
    "asyncio.Future[Any] | None",
    Callable[..., Any],
    tuple[Any, ...],
]


def _resolve(fut: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if fut.done():  # the caller was cancelled meanwhile: nobody wants the result
        return
    if ok:
        fut.set_result(value)
    else:
        fut.set_exception(value)


def settle(loop: asyncio.AbstractEventLoop, fut: asyncio.Future[Any], ok: bool, value: Any) -> None:
    """Settle ``fut``, a future of ``loop``, from another thread (a closed loop: nobody waits
    any more)."""
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(_resolve, fut, ok, value)


class Workers:
    """Up to ``size`` threads, started as calls find none idle; ``call`` from a running
    event loop, awaited there."""

    def __init__(self, size: int, name: str) -> None:
        self.size = size
        self.name = name
        self._queue: SimpleQueue[_Call | None] = SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._lock = threading.Lock()
        self._closed = False

    def call(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """``fn(*args)`` on a worker thread; the returned future is the loop's."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[T] = loop.create_future()
        self._put((loop, fut, fn, args))
        return fut

    def spawn(self, fn: Callable[..., Any], *args: Any) -> None:
        """``fn(*args)`` on a worker thread, nobody told when it ends: no future, and no
        wake-up of the loop (a write to its eventfd) once it has run. ``fn`` must not raise
        (what it raises is dropped)."""
        self._put((None, None, fn, args))

    def _put(self, call: _Call) -> None:
        if self._closed:
            raise RuntimeError(f"{self.name}: the pool is closed")
        with self._lock:
            if self._idle:
                self._idle -= 1  # this call takes it: the next one starts another thread
            elif len(self._threads) < self.size:
                self._start()
        self._queue.put(call)

    def _start(self) -> None:
        thread = threading.Thread(
            target=self._work, name=f"{self.name}_{len(self._threads)}", daemon=True
        )
        self._threads.append(thread)
        thread.start()

    def _work(self) -> None:
        get = self._queue.get
        while (item := get()) is not None:
            loop, fut, fn, args = item
            try:
                result = (True, fn(*args))
            except BaseException as exc:
                result = (False, exc)
            del item, fn, args  # nothing of the call outlives it in this thread
            with self._lock:
                self._idle += 1
            if loop is not None and fut is not None:
                settle(loop, fut, *result)
            del fut, result

    def shutdown(self) -> None:
        """Let the queued calls finish, then stop every thread and wait for it."""
        self._closed = True
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join()
        self._threads.clear()
