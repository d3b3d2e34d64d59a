"""The message bus: RPC (``call``/``cast``) to a topic's server, events (``publish``/``subscribe``).

The interface is broker-shaped: a message is a method name and a JSON-serialisable dict, never a
Python object, so the in-memory driver used by ``onestack up`` and a networked driver
(RabbitMQ, with scale-out) are interchangeable.
"""

from __future__ import annotations

import abc
import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import orjson

from onestack.common import errors
from onestack.common.logging import get_logger

log = get_logger(__name__)

Payload = dict[str, Any]
RpcHandler = Callable[[Payload], Awaitable[Payload | None]]
EventHandler = Callable[[str, Payload], Awaitable[None]]


class BusError(errors.ServiceUnavailable):
    template = "Message bus: {reason}."


class RemoteError(errors.InternalError):
    """The server of an RPC failed unexpectedly; carries its error type and message only."""


class Bus(abc.ABC):
    """Topics are plain strings (``compute.host1``, ``notifications.identity``)."""

    @abc.abstractmethod
    async def start(self) -> None: ...

    @abc.abstractmethod
    async def stop(self) -> None: ...

    @abc.abstractmethod
    async def call(
        self, topic: str, method: str, payload: Payload, timeout: float = 60.0
    ) -> Payload | None:
        """Run ``method`` on the topic's server and return its answer."""

    @abc.abstractmethod
    async def cast(self, topic: str, method: str, payload: Payload) -> None:
        """Send ``method`` to the topic's server without waiting for an answer."""

    @abc.abstractmethod
    async def publish(self, topic: str, event_type: str, payload: Payload) -> None:
        """Send an event to every subscriber of ``topic``."""

    @abc.abstractmethod
    def serve(self, topic: str, handlers: Mapping[str, RpcHandler]) -> None:
        """Answer RPCs sent to ``topic`` with ``handlers[method]``."""

    @abc.abstractmethod
    def subscribe(self, topic: str, handler: EventHandler) -> None:
        """Receive the events published on ``topic``."""


def _roundtrip(payload: Payload) -> Payload:
    """Encode and decode, so the in-memory bus refuses what a broker could not carry."""
    try:
        result = orjson.loads(orjson.dumps(payload))
    except TypeError as exc:
        raise BusError(reason=f"message is not serialisable ({exc})") from exc
    if not isinstance(result, dict):
        raise BusError(reason=f"a message must be a JSON object, not {type(payload).__name__}")
    return result


class MemoryBus(Bus):
    """Everything in one process on one event loop."""

    def __init__(self) -> None:
        self._servers: dict[str, Mapping[str, RpcHandler]] = {}
        self._subscribers: dict[str, list[EventHandler]] = defaultdict(list)
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def serve(self, topic: str, handlers: Mapping[str, RpcHandler]) -> None:
        self._servers[topic] = handlers

    def subscribe(self, topic: str, handler: EventHandler) -> None:
        self._subscribers[topic].append(handler)

    def _handler(self, topic: str, method: str) -> RpcHandler:
        handlers = self._servers.get(topic)
        if handlers is None:
            raise BusError(reason=f"no server listens on topic {topic}")
        handler = handlers.get(method)
        if handler is None:
            raise BusError(reason=f"topic {topic} has no method {method}")
        return handler

    async def call(
        self, topic: str, method: str, payload: Payload, timeout: float = 60.0
    ) -> Payload | None:
        handler = self._handler(topic, method)
        try:
            async with asyncio.timeout(timeout):
                result = await handler(_roundtrip(payload))
        except TimeoutError:
            raise BusError(reason=f"{topic}.{method} timed out after {timeout}s") from None
        except errors.OneStackError:
            raise  # an API error (code and message) crosses a broker as it is
        except Exception as exc:
            # Like a broker: the caller learns what failed, not the server's objects.
            raise RemoteError(f"{topic}.{method} failed: {type(exc).__name__}: {exc}") from None
        return None if result is None else _roundtrip(result)

    def _spawn(self, coro: Awaitable[None], what: str) -> None:
        async def run() -> None:
            try:
                await coro
            except Exception:
                log.exception("bus handler for %s failed", what)

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def cast(self, topic: str, method: str, payload: Payload) -> None:
        handler = self._handler(topic, method)
        message = _roundtrip(payload)

        async def run() -> None:
            await handler(message)

        self._spawn(run(), f"{topic}.{method}")

    async def publish(self, topic: str, event_type: str, payload: Payload) -> None:
        _roundtrip(payload)
        for handler in self._subscribers.get(topic, ()):
            # Each subscriber gets its own copy, as from a broker.
            self._spawn(handler(event_type, _roundtrip(payload)), f"{topic}:{event_type}")


def create_bus(driver: str, url: str = "") -> Bus:
    if driver == "memory":
        return MemoryBus()
    raise BusError(reason=f"unknown bus driver {driver!r} (available: memory)")
