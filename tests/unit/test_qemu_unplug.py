"""Unplugging repeats the guest's attention button until the guest lets go (Nova's libvirt
driver repeats a detach the same way): a guest still booting ignores the first press."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from onestack.compute.drivers.base import DriverError
from onestack.compute.drivers.qemu import hotplug
from onestack.compute.drivers.qemu.monitor import CommandFailed, Monitor


class Listener(asyncio.Queue[dict[str, Any]]):
    names = ("DEVICE_DELETED",)


class Guest:
    """QEMU's side as QMP shows it: ``device_del`` presses; the guest lets go only at the
    press numbered ``lets_go_at`` (never when None); a press while one stands is refused."""

    def __init__(self, lets_go_at: int | None, busy_refusals: int = 0) -> None:
        self.lets_go_at = lets_go_at
        self.busy_refusals = busy_refusals
        self.presses = 0
        self.events = Listener()

    async def execute(self, command: str, arguments: dict[str, Any] | None = None) -> Any:
        assert command == "device_del" and arguments is not None
        if self.presses and self.busy_refusals:
            self.busy_refusals -= 1
            raise CommandFailed("Device is already in the process of unplug", "GenericError")
        self.presses += 1
        if self.presses == self.lets_go_at:
            self.events.put_nowait({"data": {"device": arguments["id"]}})
        return {}

    @contextlib.asynccontextmanager
    async def events_of(self, *names: str) -> AsyncIterator[Any]:
        yield self.events

    @staticmethod
    async def wait_for_event(
        listener: Any, accept: Callable[[dict[str, Any]], bool], timeout: float
    ) -> dict[str, Any]:
        return await Monitor.wait_for_event(listener, accept, timeout)


def monitor_of(guest: Guest) -> Any:
    class Shown:
        execute = guest.execute
        events = guest.events_of
        wait_for_event = staticmethod(guest.wait_for_event)

    return Shown()


async def test_a_guest_that_ignores_the_first_press_lets_go_at_a_repeat() -> None:
    guest = Guest(lets_go_at=3)
    await hotplug._unplug(monitor_of(guest), "vol1", timeout=2.0, attempt=0.2)
    assert guest.presses == 3


async def test_a_repeat_refused_while_a_press_stands_keeps_waiting() -> None:
    guest = Guest(lets_go_at=2, busy_refusals=2)
    await hotplug._unplug(monitor_of(guest), "vol1", timeout=2.0, attempt=0.2)
    assert guest.presses == 2


async def test_a_guest_that_never_lets_go_fails_at_the_deadline() -> None:
    guest = Guest(lets_go_at=None)
    with pytest.raises(DriverError, match="no DEVICE_DELETED within 1s"):
        await hotplug._unplug(monitor_of(guest), "vol1", timeout=1.0, attempt=0.3)
    assert 3 <= guest.presses <= 5


async def test_a_first_press_refused_is_an_error() -> None:
    class Refusing(Guest):
        async def execute(self, command: str, arguments: dict[str, Any] | None = None) -> Any:
            raise CommandFailed("Bus 'rp3' does not support hotplugging", "GenericError")

    with pytest.raises(CommandFailed):
        await hotplug._unplug(monitor_of(Refusing(None)), "vol1", timeout=1.0, attempt=0.3)
