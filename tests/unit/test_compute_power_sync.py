"""The compute agent keeps the database true to the hypervisor (fake driver, SQLite): a guest
that died shows SHUTOFF, a guest no server owns is removed, and tasks a crash interrupted are
finished from what the hypervisor shows or end in ERROR."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from onestack.common import migrations
from onestack.common.bus import MemoryBus
from onestack.common.db import Database
from onestack.common.policy import Enforcer
from onestack.common.runtime import Runtime
from onestack.compute import models
from onestack.compute.agent import ComputeAgent
from onestack.compute.drivers.base import BootSource, InstanceInfo, InstanceSpec, PowerState
from onestack.compute.drivers.fake import FakeDriver
from onestack.compute.service import ComputeService
from onestack.config import Settings

VERSIONS = Path(__file__).resolve().parents[2] / "src/onestack/compute/migrations/versions"
HOST = "h1"
FLAVOR = {"name": "m1.tiny", "flavorid": "1", "vcpus": 1, "memory_mb": 512, "root_gb": 1}


@pytest.fixture
async def agent(tmp_path: Path) -> AsyncIterator[ComputeAgent]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'compute.db'}")
    await migrations.upgrade(db.engine, [VERSIONS])
    bus = MemoryBus()
    await bus.start()
    runtime = Runtime(
        settings=Settings(data_dir=tmp_path),
        db=db,
        bus=bus,
        enforcer=Enforcer([], ""),
        services=(),
        roles=frozenset({"agent"}),
    )
    svc = ComputeService(runtime)
    runtime.provide(ComputeService, svc)
    driver = FakeDriver(tmp_path / "instances")
    yield ComputeAgent(runtime, svc, driver, HOST)
    await runtime.close()


async def add_server(agent: ComputeAgent, uuid: str, **fields: Any) -> None:
    values: dict[str, Any] = {
        "uuid": uuid,
        "display_name": uuid,
        "hostname": uuid,
        "project_id": "p",
        "user_id": "u",
        "flavor": FLAVOR,
        "vm_state": "active",
        "power_state": 1,
        "host": HOST,
        "network_info": [],
        **fields,
    }
    async with agent.runtime.db.session() as s:
        s.add(models.Instance(**values))


async def run_guest(agent: ComputeAgent, uuid: str) -> None:
    boot = BootSource(image_id="i", image_path=Path("/nonexistent"), image_format="qcow2")
    spec = InstanceSpec(
        uuid=uuid, name=uuid, hostname=uuid, vcpus=1, memory_mb=512, root_gb=1, boot=boot
    )
    await agent.driver.spawn(spec)


async def row(agent: ComputeAgent, uuid: str) -> models.Instance:
    found = await agent.svc.servers.get_any(uuid)
    assert found is not None
    return found


async def test_a_server_whose_guest_died_shows_shutoff(agent: ComputeAgent) -> None:
    await add_server(agent, "dead")
    await add_server(agent, "alive")
    await run_guest(agent, "alive")
    await agent.sync_power_states()
    dead, alive = await row(agent, "dead"), await row(agent, "alive")
    assert (dead.vm_state, dead.power_state) == ("stopped", int(PowerState.NOSTATE))
    assert (alive.vm_state, alive.power_state) == ("active", int(PowerState.RUNNING))


async def test_a_guest_no_server_owns_is_removed(agent: ComputeAgent) -> None:
    await run_guest(agent, "orphan")
    await add_server(agent, "deleted", deleted=True, vm_state="deleted")
    await run_guest(agent, "deleted")
    await agent.sync_power_states()
    assert await agent.driver.list_instances() == {}


async def test_tasks_a_crash_interrupted_are_finished_or_error_at_start(
    agent: ComputeAgent,
) -> None:
    await add_server(agent, "stopping", task_state="powering-off")
    await run_guest(agent, "stopping")
    await add_server(agent, "building", vm_state="building", task_state="spawning")
    await add_server(agent, "built", vm_state="building", task_state="spawning")
    await run_guest(agent, "built")
    # A periodic sync leaves tasks alone: something may still be working on them.
    await agent.sync_power_states()
    assert (await row(agent, "stopping")).task_state == "powering-off"

    await agent.sync_power_states(at_start=True)
    stopping, building, built = [await row(agent, u) for u in ("stopping", "building", "built")]
    assert (stopping.vm_state, stopping.task_state) == ("active", None)
    assert (building.vm_state, building.task_state) == ("error", None)
    assert building.fault and "interrupted" in building.fault["message"]
    assert (built.vm_state, built.task_state, built.power_state) == ("active", None, 1)


async def test_a_finished_action_is_notified_on_the_bus(agent: ComputeAgent) -> None:
    seen: list[tuple[str, dict[str, Any]]] = []

    async def listener(event_type: str, payload: dict[str, Any]) -> None:
        seen.append((event_type, payload))

    agent.runtime.bus.subscribe("notifications.compute", listener)
    await add_server(agent, "vm", task_state="powering-off")
    await run_guest(agent, "vm")
    await agent.power({"uuid": "vm", "op": "stop", "timeout": 0})
    stopped = await row(agent, "vm")
    assert (stopped.vm_state, stopped.task_state) == ("stopped", None)
    for _ in range(500):  # >= 5 s: generous on a loaded machine
        if seen:
            break
        await asyncio.sleep(0.01)
    assert seen == [
        (
            "compute.instance.power_off.end",
            {
                "instance_id": "vm",
                "tenant_id": "p",
                "user_id": "u",
                "host": HOST,
                "state": "stopped",
                "instance_type": "m1.tiny",
            },
        )
    ]


async def wait_running(agent: ComputeAgent, uuid: str) -> None:
    for _ in range(200):
        info = (await agent.driver.list_instances()).get(uuid)
        if info is not None and info.power_state == PowerState.RUNNING:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{uuid} was not started again")


async def test_after_a_host_reboot_running_guests_are_started_again(
    agent: ComputeAgent, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nova's resume_guests_state_on_host_boot (default true here): ACTIVE and running in the
    database, no guest on the host at the agent's start -> started, still ACTIVE."""

    async def spec(row: models.Instance, image_id: str | None = None) -> InstanceSpec:
        boot = BootSource(image_id="i", image_path=Path("/nonexistent"), image_format="qcow2")
        return InstanceSpec(uuid=row.uuid, name=row.uuid, hostname=row.uuid, vcpus=1,
                            memory_mb=512, root_gb=1, boot=boot)  # fmt: skip

    monkeypatch.setattr(agent.specs, "instance_spec", spec)
    await add_server(agent, "was-running")
    await run_guest(agent, "was-running")
    await agent.driver.power_off("was-running", 0)  # the host went down under it
    await add_server(agent, "was-stopped", vm_state="stopped", power_state=4)
    await agent.sync_power_states(at_start=True)
    await wait_running(agent, "was-running")
    running = await row(agent, "was-running")
    assert (running.vm_state, running.power_state) == ("active", int(PowerState.RUNNING))
    assert "was-stopped" not in await agent.driver.list_instances()


async def test_without_resume_on_boot_they_show_shutoff(agent: ComputeAgent) -> None:
    agent.runtime.settings.compute.resume_guests_state_on_host_boot = False
    await add_server(agent, "was-running")
    await agent.sync_power_states(at_start=True)
    assert (await row(agent, "was-running")).vm_state == "stopped"
    assert await agent.driver.list_instances() == {}


async def test_a_live_guest_whose_monitor_does_not_answer_is_left_active(
    agent: ComputeAgent, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A QEMU process that lives but whose QMP greeting timed out (a guest busy booting under
    TCG) is not a guest that died: the periodic sync leaves its server ACTIVE."""
    await add_server(agent, "busy")

    async def busy_and_unknown() -> dict[str, InstanceInfo]:
        return {"busy": InstanceInfo("busy", PowerState.NOSTATE, pid=os.getpid())}

    monkeypatch.setattr(agent.driver, "list_instances", busy_and_unknown)
    await agent.sync_power_states()
    busy = await row(agent, "busy")
    assert (busy.vm_state, busy.power_state) == ("active", int(PowerState.RUNNING))
