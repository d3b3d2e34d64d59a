"""The compute agent's pollsters: the fake driver's counters and the samples made of them,
and a poll that never holds back the agent's other work nor the other guests' samples."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from onestack.common import migrations
from onestack.common.bus import MemoryBus
from onestack.common.db import Database
from onestack.common.policy import Enforcer
from onestack.common.runtime import Runtime
from onestack.compute import models
from onestack.compute.agent import ComputeAgent
from onestack.compute.agent.pollsters import SAMPLES_TOPIC, guest_samples
from onestack.compute.drivers.base import (
    NIC,
    BootSource,
    GuestBusy,
    GuestGone,
    GuestStats,
    InstanceSpec,
)
from onestack.compute.drivers.fake import FakeDriver
from onestack.compute.service import ComputeService
from onestack.config import Settings
from onestack.metering.definitions import RESOURCE_METRICS
from onestack.metering.listener import sample_of

VERSIONS = Path(__file__).resolve().parents[2] / "src/onestack/compute/migrations/versions"

META = {
    "project_id": "p",
    "user_id": "u",
    "display_name": "vm",
    "host": "h",
    "flavor_id": "1",
    "flavor_name": "m1.tiny",
    "image_ref": "img",
    "root_gb": 1,
}


def spec(uuid: str = "u-1") -> InstanceSpec:
    boot = BootSource("img", Path("/nonexistent"), "raw")
    nic = NIC("port-1", "fa:16:3e:00:00:01", "tap-port-1")
    return InstanceSpec(uuid, f"instance-{uuid}", "vm", 2, 512, 1, boot, nics=(nic,))


def test_fake_counters_grow_and_a_stopped_guest_is_gone() -> None:
    async def run() -> None:
        driver = FakeDriver()
        await driver.spawn(spec())
        first = await driver.guest_stats("u-1")
        await asyncio.sleep(0.05)
        second = await driver.guest_stats("u-1")
        assert second.cpu_time_ns > first.cpu_time_ns > 0
        assert [d.device for d in first.disks] == ["vda"]
        assert [n.port_id for n in first.nics] == ["port-1"]
        await driver.power_off("u-1")
        with pytest.raises(GuestGone):
            await driver.guest_stats("u-1")
        with pytest.raises(GuestGone):
            await driver.guest_stats("no-such-guest")

    asyncio.run(run())


def test_samples_of_one_guest() -> None:
    async def stats() -> object:
        driver = FakeDriver()
        await driver.spawn(spec())
        return await driver.guest_stats("u-1")

    samples = guest_samples(asyncio.run(stats()), META, 1000.0)  # type: ignore[arg-type]
    by_name = {(s["resource_type"], s["name"]): s for s in samples}
    cpu = by_name[("instance", "cpu")]
    assert cpu["type"] == "cumulative" and cpu["unit"] == "ns" and cpu["project_id"] == "p"
    assert cpu["resource_metadata"]["flavor_name"] == "m1.tiny"
    assert by_name[("instance", "vcpus")]["volume"] == 2
    disk = by_name[("instance_disk", "disk.device.read.bytes")]
    assert disk["resource_id"] == "u-1-vda" and disk["resource_metadata"]["instance_id"] == "u-1"
    nic = by_name[("instance_network_interface", "network.incoming.bytes")]
    assert nic["resource_metadata"]["name"] == "tap-port-1"
    parsed = sample_of(cpu)
    assert parsed.cumulative and parsed.value == cpu["volume"] and parsed.timestamp == 1000.0
    assert "server_group" not in cpu["resource_metadata"]
    # An autoscaling group's member (metadata metering.server_group): its alarm selects by it.
    grouped = guest_samples(asyncio.run(stats()), {**META, "server_group": "stack-1"}, 1000.0)  # type: ignore[arg-type]
    assert {s["resource_metadata"]["server_group"] for s in grouped if s["resource_type"]
            == "instance"} == {"stack-1"}  # fmt: skip


def test_the_pollsters_samples_are_their_types_defined_metrics() -> None:
    """A new resource is made with its type's defined metrics (metering.definitions) before
    its first poll: each sample must fall on one of them with the unit and kind (so the
    archive policy) it would have made its metric with, and each defined one be polled."""

    async def stats() -> GuestStats:
        driver = FakeDriver()
        await driver.spawn(spec())
        return await driver.guest_stats("u-1")

    polled: dict[str, dict[str, tuple[str, bool]]] = {}
    for s in guest_samples(asyncio.run(stats()), META, 1000.0):
        polled.setdefault(s["resource_type"], {})[s["name"]] = (
            s["unit"],
            s["type"] == "cumulative",
        )
    defined = {
        rtype: {name: (m.unit, m.cumulative) for name, m in RESOURCE_METRICS[rtype].items()}
        for rtype in polled
    }
    assert polled == defined


def test_qemu_counters_from_qmp_and_proc() -> None:
    import os

    from onestack.compute.drivers.base import Volume
    from onestack.compute.drivers.qemu.cmdline import Layout, volume_ids
    from onestack.compute.drivers.qemu.record import Record
    from onestack.compute.drivers.qemu.stats import collect_stats

    volume = Volume("vol-1", Path("/nonexistent/vol"), "raw", "vol-1")
    replies = {
        "query-cpus-fast": [{"cpu-index": 0, "thread-id": os.getpid()}],
        "query-blockstats": [
            {
                "qdev": "/machine/peripheral/root-disk/virtio-backend",
                "stats": {
                    "rd_bytes": 4096,
                    "wr_bytes": 512,
                    "rd_operations": 3,
                    "wr_operations": 1,
                },
            },
            {
                "qdev": f"/machine/peripheral/{volume_ids('vol-1')[0]}/virtio-backend",
                "stats": {"rd_bytes": 1, "wr_bytes": 2, "rd_operations": 3, "wr_operations": 4},
            },
            {"qdev": "/machine/peripheral/config-drive", "stats": {"rd_bytes": 9}},
        ],
    }

    class Monitor:
        async def execute(self, command: str, *, if_idle: bool = False) -> object:
            assert if_idle, f"the poll would wait on an action's connect for {command}"
            return replies[command]

    record = Record(spec(), Layout(nics=((1, spec().nics[0]),), volumes=((2, volume),)))
    stats = asyncio.run(collect_stats(record, os.getpid(), Monitor()))  # type: ignore[arg-type]
    assert stats.cpu_time_ns >= 0 and stats.vcpus == 2 and stats.memory_mb == 512
    assert stats.memory_used_mb is not None and stats.memory_used_mb > 0
    assert [(d.device, d.read_bytes, d.write_requests) for d in stats.disks] == [
        ("vda", 4096, 1),
        ("vol-1", 1, 4),
    ]
    assert [n.tap for n in stats.nics] == ["tap-port-1"]  # a missing tap counts zero
    assert stats.nics[0].incoming_bytes == 0


class HangingDriver(FakeDriver):
    """The ``stuck`` guest's counters never come (a wedged QMP socket); the ``gone`` guest is
    listed as running but has vanished by the time its counters are read."""

    hung = asyncio.Event()

    async def guest_stats(self, uuid: str) -> GuestStats:
        if uuid == "gone":
            raise GuestGone(f"instance {uuid} is not running")
        if uuid == "stuck":
            self.hung.set()
            await asyncio.Event().wait()
        return await super().guest_stats(uuid)


async def test_a_hung_guest_read_blocks_neither_the_other_guests_nor_the_agent(
    tmp_path: Path,
) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'compute.db'}")
    await migrations.upgrade(db.engine, [VERSIONS])
    bus = MemoryBus()
    await bus.start()
    settings = Settings(data_dir=tmp_path)
    settings.metering.interval = 0.2
    settings.compute.sync_power_state_interval = 0.2
    runtime = Runtime(settings, db, bus, Enforcer([], ""), (), frozenset({"agent"}))
    svc = ComputeService(runtime)
    runtime.provide(ComputeService, svc)
    driver = HangingDriver(tmp_path / "instances")
    agent = ComputeAgent(runtime, svc, driver, "h1")
    flavor = {"name": "m1.tiny", "flavorid": "1", "vcpus": 2, "memory_mb": 512, "root_gb": 1}
    for uuid in ("stuck", "gone", "a", "b", "c"):
        async with db.session() as s:
            s.add(models.Instance(uuid=uuid, display_name=uuid, hostname=uuid, project_id="p",
                                  user_id="u", flavor=flavor, vm_state="active", power_state=1,
                                  host="h1", network_info=[]))  # fmt: skip
        await agent.driver.spawn(spec(uuid))
    polls: list[set[str]] = []

    async def sampled(event: str, payload: dict[str, object]) -> None:
        samples = payload["samples"]
        assert isinstance(samples, list)
        polls.append({s["resource_id"] for s in samples if s["resource_type"] == "instance"})

    bus.subscribe(SAMPLES_TOPIC, sampled)
    try:
        await agent._register(asyncio.Event())  # the agent's loop: sync, heartbeat, pollsters
        await asyncio.wait_for(driver.hung.wait(), 10)
        started = time.monotonic()
        # While a poll waits on the hung read, a server action completes...
        await asyncio.wait_for(agent.power({"uuid": "b", "op": "stop"}), 10)
        assert (await row(agent, "b")).vm_state == "stopped"
        # ... and so does the periodic power sync: a guest that died behind the agent's back.
        await driver.power_off("c")
        while (await row(agent, "c")).vm_state != "stopped":
            assert time.monotonic() - started < 15, "the power sync did not run"
            await asyncio.sleep(0.05)
        # And the other guests' samples come on every poll, not once the hung read ends.
        while sum("a" in p for p in polls) < 2:
            assert time.monotonic() - started < 15, f"polls published: {polls}"
            await asyncio.sleep(0.05)
        assert all("stuck" not in p and "gone" not in p for p in polls)
    finally:
        await agent.periodic.stop()
        await runtime.close()


async def row(agent: ComputeAgent, uuid: str) -> models.Instance:
    found = await agent.svc.servers.get_any(uuid)
    assert found is not None
    return found


class ConnectingDriver(FakeDriver):
    """The ``busy`` guest's monitor is connecting for an action during the first poll."""

    connecting = True

    async def guest_stats(self, uuid: str) -> GuestStats:
        if uuid == "busy" and self.connecting:
            raise GuestBusy(f"instance {uuid}: the guest's monitor is busy connecting")
        return await super().guest_stats(uuid)


async def test_a_guest_skipped_for_a_busy_monitor_is_not_gone(tmp_path: Path) -> None:
    """A poll that meets a guest whose monitor is busy publishes nothing of it (no zero
    measure), leaves its server as it was, and reads it at the next poll."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'compute.db'}")
    await migrations.upgrade(db.engine, [VERSIONS])
    bus = MemoryBus()
    await bus.start()
    runtime = Runtime(Settings(data_dir=tmp_path), db, bus, Enforcer([], ""), (),
                      frozenset({"agent"}))  # fmt: skip
    svc = ComputeService(runtime)
    runtime.provide(ComputeService, svc)
    driver = ConnectingDriver(tmp_path / "instances")
    agent = ComputeAgent(runtime, svc, driver, "h1")
    flavor = {"name": "m1.tiny", "flavorid": "1", "vcpus": 2, "memory_mb": 512, "root_gb": 1}
    for uuid in ("busy", "idle"):
        async with db.session() as s:
            s.add(models.Instance(uuid=uuid, display_name=uuid, hostname=uuid, project_id="p",
                                  user_id="u", flavor=flavor, vm_state="active", power_state=1,
                                  host="h1", network_info=[]))  # fmt: skip
        await driver.spawn(spec(uuid))
    polls: list[list[dict[str, object]]] = []

    async def sampled(event: str, payload: dict[str, object]) -> None:
        samples = payload["samples"]
        assert isinstance(samples, list)
        polls.append(samples)

    bus.subscribe(SAMPLES_TOPIC, sampled)
    try:
        assert await agent.poll_guests() > 0
        driver.connecting = False
        assert await agent.poll_guests() > 0
        async with asyncio.timeout(5):  # the subscriber runs as a task of its own
            while len(polls) < 2:
                await asyncio.sleep(0.01)
        first, second = ({str(s["resource_id"]) for s in p} for p in polls)
        assert "idle" in first and not any(r.startswith("busy") for r in first)
        assert "busy" in second and "idle" in second
        busy = await row(agent, "busy")
        assert (busy.vm_state, busy.power_state, busy.task_state) == ("active", 1, None)
    finally:
        await runtime.close()
