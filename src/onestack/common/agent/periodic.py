"""Periodic tasks of an agent (heartbeats, power-state sync, resync, audits): each runs on its
own interval, a failure is logged and the next round comes anyway, and ``stop`` ends them all."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from onestack.common.logging import get_logger

log = get_logger(__name__)

Interval = float | Callable[[], float]


class Periodic:
    def __init__(self) -> None:
        self._tasks: list[asyncio.Task[None]] = []

    def every(
        self,
        interval: Interval,
        work: Callable[[], Awaitable[object]],
        name: str,
        *,
        at_start: bool = False,
    ) -> None:
        """Run ``work`` every ``interval`` seconds (a number, or a function read each round),
        first at once when ``at_start``, else after one interval."""

        async def loop() -> None:
            first = at_start
            while True:
                if not first:
                    await asyncio.sleep(interval() if callable(interval) else interval)
                first = False
                try:
                    await work()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("periodic task %s failed", name)

        self._tasks.append(asyncio.get_running_loop().create_task(loop(), name=name))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    def __len__(self) -> int:
        return len(self._tasks)
