"""Bus handlers of an agent that act on one resource (Nova's ``wrap_instance_fault``): one at a
time per resource, and a failure is recorded on the resource (a fault, an error status, an
event) by the agent's own ``record_failure`` and answered with None, instead of reaching the
bus as an opaque remote error."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from onestack.common.agent.locks import KeyedLocks
from onestack.common.logging import get_logger

log = get_logger(__name__)

Payload = dict[str, Any]
Answer = Payload | None


class FaultRecorder(Protocol):
    locks: KeyedLocks

    async def record_failure(self, key: str, action: str, exc: Exception) -> None:
        """Make ``exc`` visible on the resource ``key`` (the agent knows how)."""
        ...


A = TypeVar("A", bound=FaultRecorder)
Method = Callable[[A, Payload], Awaitable[Answer]]
# The action a failure is recorded as: fixed, or read from the payload (one handler for
# several operations, e.g. the power actions).
Action = str | Callable[[Payload], str]


def handler(
    action: Action, *, key: str = "uuid", record: bool = True
) -> Callable[[Method[A]], Method[A]]:
    """Serialise the handler per ``payload[key]`` and, when ``record``, turn an exception into
    ``self.record_failure(key, action, exc)`` and a None answer. Clean-up particular to one
    handler (deleting what it half made) is its own ``except: ...; raise``, which runs first."""

    def wrap(fn: Method[A]) -> Method[A]:
        @functools.wraps(fn)
        async def run(self: A, payload: Payload) -> Answer:
            ident = str(payload[key])
            async with self.locks(ident):
                if not record:
                    return await fn(self, payload)
                try:
                    return await fn(self, payload)
                except Exception as exc:
                    name = action(payload) if callable(action) else action
                    log.warning("%s %s failed: %s", name, ident, exc)
                    await self.record_failure(ident, name, exc)
                    return None

        return run

    return wrap
