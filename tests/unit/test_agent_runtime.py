"""The agent runtime in ``common/agent``: keyed locks, recorded handler failures, periodic
tasks and the driver loader, as every service's agent uses them."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from onestack.common.agent import (
    DriverUnavailable,
    KeyedLocks,
    Periodic,
    handler,
    load_driver,
)


async def test_keyed_locks_serialise_one_key_and_forget_idle_ones() -> None:
    locks = KeyedLocks()
    order: list[str] = []

    async def work(key: str, tag: str, pause: float) -> None:
        async with locks(key):
            order.append(f"{tag}+")
            await asyncio.sleep(pause)
            order.append(f"{tag}-")

    await asyncio.gather(work("a", "1", 0.05), work("a", "2", 0), work("b", "3", 0))
    assert order.index("1-") < order.index("2+")  # same key: one after the other
    assert order.index("3+") < order.index("1-")  # another key: not held up
    assert len(locks) == 0


class Agent:
    def __init__(self) -> None:
        self.locks = KeyedLocks()
        self.failures: list[tuple[str, str, str]] = []

    async def record_failure(self, key: str, action: str, exc: Exception) -> None:
        self.failures.append((key, action, str(exc)))

    @handler("boot")
    async def boot(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        if payload.get("fail"):
            raise RuntimeError("no room")
        return {"booted": payload["uuid"]}

    @handler("peek", record=False)
    async def peek(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        raise KeyError("gone")

    @handler(lambda payload: f"power_{payload['op']}")
    async def power(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        raise RuntimeError(f"cannot {payload['op']}")


async def test_a_handler_records_its_failure_on_the_resource() -> None:
    agent = Agent()
    assert await agent.boot({"uuid": "s1"}) == {"booted": "s1"}
    assert await agent.boot({"uuid": "s2", "fail": True}) is None
    assert agent.failures == [("s2", "boot", "no room")]
    with pytest.raises(KeyError):
        await agent.peek({"uuid": "s3"})


async def test_a_handler_of_several_actions_records_the_one_that_failed() -> None:
    agent = Agent()
    assert await agent.power({"uuid": "s4", "op": "stop"}) is None
    assert agent.failures == [("s4", "power_stop", "cannot stop")]


async def test_periodic_tasks_survive_failures_until_stopped() -> None:
    runs: list[int] = []
    three = asyncio.Event()

    async def flaky() -> None:
        runs.append(len(runs))
        if len(runs) == 1:
            raise RuntimeError("first round fails")
        if len(runs) >= 3:
            three.set()

    periodic = Periodic()
    periodic.every(0.01, flaky, "flaky", at_start=True)
    # Wait for the rounds, not for a window: a loaded machine may run fewer in 0.1 s.
    await asyncio.wait_for(three.wait(), timeout=10)
    await periodic.stop()
    count = len(runs)
    assert count >= 3 and len(periodic) == 0
    await asyncio.sleep(0.03)
    assert len(runs) == count


def test_the_driver_loader_picks_refuses_and_falls_back() -> None:
    factories = {"real": lambda: "REAL", "fake": lambda: "FAKE"}
    no_root = {"real": lambda: "not running as root"}
    picked = load_driver("compute", "auto", factories, auto=("real", "fake"), why_not=no_root)
    assert (picked.driver, picked.name, picked.fallback_reason) == (
        "FAKE",
        "fake",
        "not running as root",
    )
    assert load_driver("compute", "auto", factories, auto=("real", "fake")).driver == "REAL"
    assert load_driver("compute", "fake", factories).driver == "FAKE"
    with pytest.raises(DriverUnavailable, match="not running as root") as refused:
        load_driver("compute", "real", factories, why_not=no_root)
    assert refused.value.code == 503
    with pytest.raises(DriverUnavailable, match="unknown"):
        load_driver("compute", "kvm", factories)
