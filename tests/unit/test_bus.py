"""The in-memory bus: RPC call/cast, events, and the broker-shaped limits it enforces."""

from __future__ import annotations

import asyncio
import datetime
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from onestack.common import errors
from onestack.common.bus import BusError, MemoryBus, create_bus

WAIT = 10.0  # seconds: a ceiling for things that should happen at once (on a busy CI host)


@pytest.fixture
async def bus() -> AsyncIterator[MemoryBus]:
    b = MemoryBus()
    await b.start()
    try:
        yield b
    finally:
        await b.stop()


async def test_call_returns_the_answer(bus: MemoryBus) -> None:
    seen: list[dict[str, Any]] = []

    async def add(payload: dict[str, Any]) -> dict[str, Any]:
        seen.append(payload)
        return {"sum": payload["a"] + payload["b"]}

    bus.serve("calc", {"add": add})
    assert await bus.call("calc", "add", {"a": 2, "b": 3}) == {"sum": 5}
    assert seen == [{"a": 2, "b": 3}]


async def test_call_with_no_answer(bus: MemoryBus) -> None:
    async def noop(_p: dict[str, Any]) -> None:
        return None

    bus.serve("t", {"noop": noop})
    assert await bus.call("t", "noop", {}) is None


async def test_call_passes_a_copy(bus: MemoryBus) -> None:
    async def mutate(payload: dict[str, Any]) -> dict[str, Any]:
        payload["items"].append("server")
        return payload

    bus.serve("t", {"mutate": mutate})
    sent = {"items": ["client"]}
    answer = await bus.call("t", "mutate", sent)
    assert sent == {"items": ["client"]}  # the server changed its copy only
    assert answer == {"items": ["client", "server"]}


async def test_call_payload_is_json_shaped(bus: MemoryBus) -> None:
    async def echo(payload: dict[str, Any]) -> dict[str, Any]:
        return payload

    bus.serve("t", {"echo": echo})
    when = datetime.datetime(2024, 1, 2, 3, 4, 5)
    answer = await bus.call("t", "echo", {"tuple": (1, 2), "when": when})
    assert answer == {"tuple": [1, 2], "when": "2024-01-02T03:04:05"}


async def test_serve_replaces_handlers(bus: MemoryBus) -> None:
    async def one(_p: dict[str, Any]) -> dict[str, Any]:
        return {"v": 1}

    async def two(_p: dict[str, Any]) -> dict[str, Any]:
        return {"v": 2}

    bus.serve("t", {"m": one})
    bus.serve("t", {"m": two})
    assert await bus.call("t", "m", {}) == {"v": 2}


async def test_unknown_topic(bus: MemoryBus) -> None:
    with pytest.raises(BusError, match="no server listens on topic nowhere"):
        await bus.call("nowhere", "m", {})
    with pytest.raises(BusError):
        await bus.cast("nowhere", "m", {})


async def test_unknown_method(bus: MemoryBus) -> None:
    async def m(_p: dict[str, Any]) -> None:
        return None

    bus.serve("t", {"m": m})
    with pytest.raises(BusError, match="topic t has no method other"):
        await bus.call("t", "other", {})
    with pytest.raises(BusError):
        await bus.cast("t", "other", {})


def test_bus_error_is_a_503() -> None:
    err = BusError(reason="down")
    assert isinstance(err, errors.ServiceUnavailable)
    assert err.code == 503
    assert err.message == "Message bus: down."


@pytest.mark.parametrize(
    "payload",
    [{"obj": object()}, {"set": {1, 2}}, {"bytes": b"raw"}, {1: "int key"}],
    ids=["object", "set", "bytes", "int-key"],
)
async def test_non_serialisable_payload_refused(bus: MemoryBus, payload: dict[Any, Any]) -> None:
    called: list[Any] = []

    async def handler(p: dict[str, Any]) -> None:
        called.append(p)

    async def on_event(event_type: str, p: dict[str, Any]) -> None:
        called.append(p)

    bus.serve("t", {"m": handler})
    bus.subscribe("events", on_event)
    with pytest.raises(BusError, match="not serialisable"):
        await bus.call("t", "m", payload)
    with pytest.raises(BusError, match="not serialisable"):
        await bus.cast("t", "m", payload)
    with pytest.raises(BusError, match="not serialisable"):
        await bus.publish("events", "e", payload)
    await asyncio.sleep(0)
    assert called == []


async def test_non_serialisable_answer_refused(bus: MemoryBus) -> None:
    async def bad(_p: dict[str, Any]) -> dict[str, Any]:
        return {"obj": object()}

    bus.serve("t", {"bad": bad})
    with pytest.raises(BusError, match="not serialisable"):
        await bus.call("t", "bad", {})


async def test_call_timeout(bus: MemoryBus) -> None:
    cancelled = asyncio.Event()

    async def slow(_p: dict[str, Any]) -> dict[str, Any]:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return {}

    bus.serve("t", {"slow": slow})
    with pytest.raises(BusError, match=r"t\.slow timed out after 0\.05s"):
        await bus.call("t", "slow", {}, timeout=0.05)
    assert cancelled.is_set()


async def test_call_propagates_handler_errors(bus: MemoryBus) -> None:
    async def boom(_p: dict[str, Any]) -> None:
        raise errors.NotFound(kind="server", id="x")

    bus.serve("t", {"boom": boom})
    with pytest.raises(errors.NotFound):
        await bus.call("t", "boom", {})


async def test_cast_delivers_without_waiting(bus: MemoryBus) -> None:
    got: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    release = asyncio.Event()

    async def work(payload: dict[str, Any]) -> None:
        await release.wait()
        await got.put(payload)

    bus.serve("t", {"work": work})
    sent = {"n": 1}
    assert await bus.cast("t", "work", sent) is None  # returns before the handler finishes
    sent["n"] = 2  # the message was copied when sent
    assert got.empty()
    release.set()
    assert await asyncio.wait_for(got.get(), WAIT) == {"n": 1}


async def test_cast_failure_is_logged_not_raised(
    bus: MemoryBus, caplog: pytest.LogCaptureFixture
) -> None:
    done = asyncio.Event()

    async def boom(_p: dict[str, Any]) -> None:
        done.set()
        raise RuntimeError("kaput")

    bus.serve("t", {"boom": boom})
    with caplog.at_level(logging.ERROR):
        await bus.cast("t", "boom", {})
        await asyncio.wait_for(done.wait(), WAIT)
        for _ in range(5):
            await asyncio.sleep(0)
    assert "t.boom" in caplog.text
    assert not bus._tasks


async def test_publish_reaches_every_subscriber(bus: MemoryBus) -> None:
    got: asyncio.Queue[tuple[str, str, dict[str, Any]]] = asyncio.Queue()

    def make(name: str) -> Any:
        async def handler(event_type: str, payload: dict[str, Any]) -> None:
            await got.put((name, event_type, payload))

        return handler

    bus.subscribe("notifications.compute", make("a"))
    bus.subscribe("notifications.compute", make("b"))
    bus.subscribe("notifications.other", make("c"))
    await bus.publish("notifications.compute", "instance.create.end", {"id": "i1"})
    received = [await asyncio.wait_for(got.get(), WAIT) for _ in range(2)]
    assert sorted(received) == [
        ("a", "instance.create.end", {"id": "i1"}),
        ("b", "instance.create.end", {"id": "i1"}),
    ]
    await asyncio.sleep(0.01)
    assert got.empty()  # nothing for "c"


async def test_publish_without_subscribers(bus: MemoryBus) -> None:
    """An event nobody listens to is dropped at once: no task is left behind and no later
    subscriber receives it (the bus does not queue events for listeners to come)."""
    assert await bus.publish("nobody.listens", "e", {"x": 1}) is None
    assert not bus._tasks
    got: list[str] = []

    async def late(event_type: str, _p: dict[str, Any]) -> None:
        got.append(event_type)

    bus.subscribe("nobody.listens", late)
    await bus.publish("nobody.listens", "after", {})
    for _ in range(5):
        await asyncio.sleep(0)
    assert got == ["after"]


async def test_failing_subscriber_does_not_break_others(
    bus: MemoryBus, caplog: pytest.LogCaptureFixture
) -> None:
    got: asyncio.Queue[str] = asyncio.Queue()

    async def bad(_e: str, _p: dict[str, Any]) -> None:
        raise RuntimeError("subscriber bug")

    async def good(event_type: str, _p: dict[str, Any]) -> None:
        await got.put(event_type)

    bus.subscribe("t", bad)
    bus.subscribe("t", good)
    with caplog.at_level(logging.ERROR):
        await bus.publish("t", "first", {})
        assert await asyncio.wait_for(got.get(), WAIT) == "first"
        # The bad subscriber stays subscribed and the good one keeps receiving.
        await bus.publish("t", "second", {})
        assert await asyncio.wait_for(got.get(), WAIT) == "second"
        for _ in range(5):
            await asyncio.sleep(0)
    assert "subscriber bug" in caplog.text


async def test_stop_cancels_pending_work() -> None:
    bus = MemoryBus()
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def forever(_p: dict[str, Any]) -> None:
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    bus.serve("t", {"forever": forever})
    await bus.cast("t", "forever", {})
    await asyncio.wait_for(started.wait(), WAIT)
    await asyncio.wait_for(bus.stop(), WAIT)
    assert cancelled.is_set()
    assert not bus._tasks


def test_create_bus() -> None:
    assert isinstance(create_bus("memory"), MemoryBus)
    with pytest.raises(BusError, match="unknown bus driver"):
        create_bus("carrier-pigeon")
