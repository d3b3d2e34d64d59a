"""A guest's QMP monitor against a peer that serves, as QEMU does, one client at a time: tasks
asking at once share one connection, and the metering poll skips a guest whose monitor is busy
connecting for an action instead of waiting or reporting it gone."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest

from onestack.compute.drivers.base import (
    NIC,
    BootSource,
    DriverError,
    GuestBusy,
    GuestGone,
    InstanceSpec,
)
from onestack.compute.drivers.qemu import QemuDriver, process, record
from onestack.compute.drivers.qemu import monitor as qmp
from onestack.compute.drivers.qemu.cmdline import plan

GREETING = {"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": ""},
                    "capabilities": []}}  # fmt: skip


class OneClientQemu:
    """A QMP peer on a unix socket. Like QEMU's monitor chardev it has one client at a time:
    a connection made while another is open is accepted (the kernel's backlog) but never
    greeted. It greets after ``delay`` s, answers qmp_capabilities, query-status,
    query-cpus-fast and query-blockstats, and counts the connections it greeted."""

    def __init__(self, path: Path, delay: float = 0.0) -> None:
        self.path = path
        self.delay = delay
        self.open = 0
        self.greeted = 0
        self.server: asyncio.AbstractServer | None = None

    async def __aenter__(self) -> OneClientQemu:
        # Bound through its directory's /proc name, as the monitor connects: an instance
        # directory's path may be longer than a socket address.
        directory = os.open(self.path.parent, os.O_PATH | os.O_DIRECTORY)
        try:
            name = f"/proc/self/fd/{directory}/{self.path.name}"
            self.server = await asyncio.start_unix_server(self._serve, name)
        finally:
            os.close(directory)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.open += 1
        try:
            if self.open > 1:
                await reader.read()  # never greeted: QEMU serves the first client only
                return
            await asyncio.sleep(self.delay)
            writer.write(json.dumps(GREETING).encode() + b"\r\n")
            self.greeted += 1
            await self._answer(reader, writer)
        finally:
            self.open -= 1
            writer.close()

    @staticmethod
    async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        answers = {
            "qmp_capabilities": {},
            "query-status": {"status": "running", "running": True},
            # A thread that exists: this test's own main thread.
            "query-cpus-fast": [{"cpu-index": 0, "thread-id": os.getpid()}],
            "query-blockstats": [],
        }
        decoder, pending = json.JSONDecoder(), ""
        while data := await reader.read(4096):  # QMP is a stream of JSON values, no lines
            pending += data.decode()
            while pending.strip():
                request, end = decoder.raw_decode(pending.lstrip())
                pending = pending.lstrip()[end:]
                command = request["execute"]
                reply: dict[str, object]
                if command in answers:
                    reply = {"return": answers[command]}
                else:
                    reply = {"error": {"class": "CommandNotFound", "desc": command}}
                if "id" in request:
                    reply["id"] = request["id"]
                writer.write(json.dumps(reply).encode() + b"\r\n")


@pytest.fixture
def short_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(qmp, "CONNECT_TIMEOUT", 1.0)


async def test_tasks_asking_at_once_share_one_connection(
    tmp_path: Path, short_timeouts: None
) -> None:
    """A poll and an action asking at the same moment (the greeting still to come): one
    connection, both answered. With a connection each, QEMU would greet only one and the
    other would fail when its wait for the greeting ran out."""
    async with OneClientQemu(tmp_path / "qmp.sock", delay=0.2) as qemu:
        monitor = qmp.Monitor(tmp_path / "qmp.sock", "busy")
        try:
            answers = await asyncio.gather(
                monitor.execute("query-status"), monitor.execute("query-status")
            )
            again = await monitor.execute("query-status")
        finally:
            await monitor.close()
    assert [a["status"] for a in answers] == ["running", "running"]
    assert again["status"] == "running"
    assert qemu.greeted == 1


async def test_a_caller_that_gives_up_leaves_the_connect_to_the_others(
    tmp_path: Path, short_timeouts: None
) -> None:
    async with OneClientQemu(tmp_path / "qmp.sock", delay=0.3) as qemu:
        monitor = qmp.Monitor(tmp_path / "qmp.sock", "impatient")
        try:
            impatient = asyncio.create_task(monitor.execute("query-status"))
            patient = asyncio.create_task(monitor.execute("query-status"))
            await asyncio.sleep(0.1)
            impatient.cancel()
            assert (await patient)["status"] == "running"
            assert impatient.cancelled()
        finally:
            await monitor.close()
    assert qemu.greeted == 1


async def test_no_greeting_is_a_driver_error_and_a_close_ends_the_wait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(qmp, "CONNECT_TIMEOUT", 0.3)
    async with OneClientQemu(tmp_path / "qmp.sock", delay=5.0):
        monitor = qmp.Monitor(tmp_path / "qmp.sock", "mute")
        with pytest.raises(DriverError, match="does not answer"):
            await monitor.execute("query-status")
        monkeypatch.setattr(qmp, "CONNECT_TIMEOUT", 5.0)
        waiting = asyncio.create_task(monitor.execute("query-status"))
        await asyncio.sleep(0.1)
        await monitor.close()  # as before a restart: the waiting action fails, it is not hung
        with pytest.raises(DriverError, match="closed while connecting"):
            await asyncio.wait_for(waiting, 1.0)


async def test_an_idle_only_caller_skips_while_another_connects(
    tmp_path: Path, short_timeouts: None
) -> None:
    async with OneClientQemu(tmp_path / "qmp.sock", delay=0.3):
        monitor = qmp.Monitor(tmp_path / "qmp.sock", "shared")
        try:
            action = asyncio.create_task(monitor.execute("query-status"))
            await asyncio.sleep(0.05)
            with pytest.raises(qmp.MonitorBusy):
                await monitor.execute("query-cpus-fast", if_idle=True)
            assert (await action)["status"] == "running"
            # Connected now: the poll reads at once.
            assert await monitor.execute("query-cpus-fast", if_idle=True)
        finally:
            await monitor.close()


def _guest(driver: QemuDriver, uuid: str) -> None:
    """A guest on ``driver``'s host whose process is this test's own (it is alive)."""
    paths = driver.machines.paths(uuid)
    paths.dir.mkdir(parents=True)
    spec = InstanceSpec(uuid, f"instance-{uuid}", "vm", 1, 256, 1,
                        BootSource("img", Path("/nonexistent"), "raw"),
                        nics=(NIC("port-1", "fa:16:3e:00:00:01", "tap-none"),))  # fmt: skip
    record.save(paths.record, record.Record(spec, plan(spec, None, 1)))
    paths.pidfile.write_text(f"{os.getpid()}\n")


async def test_a_poll_during_an_actions_connect_skips_the_guest_and_it_is_not_gone(
    tmp_path: Path, short_timeouts: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The metering poll beside an action that is connecting to the guest's monitor: the
    guest is listed for the poll, its read is skipped this round (``GuestBusy``, no wait,
    no second connection), not reported gone; once connected the next poll reads it."""
    uuid = "0f1e2d3c-0000-4000-8000-000000000001"
    driver = QemuDriver(tmp_path / "instances")
    _guest(driver, uuid)
    paths = driver.machines.paths(uuid)
    monkeypatch.setattr(process, "live_pid", lambda pidfile, _uuid: int(pidfile.read_text()))
    async with OneClientQemu(paths.qmp_socket, delay=0.5) as qemu:
        try:
            assert await driver.guests_to_poll() == [uuid]
            action = asyncio.create_task(driver.machines.state(paths))
            await asyncio.sleep(0.1)
            loop = asyncio.get_running_loop()
            started = loop.time()
            with pytest.raises(GuestBusy) as skipped:
                await driver.guest_stats(uuid)
            assert loop.time() - started < 0.2, "the poll waited for the action's connect"
            assert not isinstance(skipped.value, GuestGone)
            assert (await action).name == "RUNNING"
            stats = await driver.guest_stats(uuid)
        finally:
            await driver.close()
    assert stats.uuid == uuid and stats.vcpus == 1
    assert qemu.greeted == 1
