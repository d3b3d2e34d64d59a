"""The volume agent's crash safety (SQLite, the fake driver): what a crash left creating,
extending or deleting is finished when the agent starts again, and a volume file no row
owns is reported and then removed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from onestack.common import migrations
from onestack.common.bus import MemoryBus
from onestack.common.context import RequestContext
from onestack.common.db import Database
from onestack.config import VolumeSettings
from onestack.volume import agent as agent_module
from onestack.volume.agent import VolumeAgent
from onestack.volume.drivers.base import Location, NewVolume
from onestack.volume.drivers.fake import FakeDriver
from onestack.volume.service import VolumeService
from onestack.volume.service.volumes import CreateRequest

VERSIONS = Path(__file__).resolve().parents[2] / "src/onestack/volume/migrations/versions"
ALICE = RequestContext(request_id="r1", user_id="u-alice", project_id="p-alice")


class Stuck(FakeDriver):
    """A driver whose work never finishes: the process 'dies' in the middle of it."""

    def __init__(self) -> None:
        super().__init__(100)
        self.never = asyncio.Event()

    async def create(self, volume: NewVolume) -> Location:
        await self.never.wait()
        raise AssertionError("unreachable")

    async def extend(self, location: Location, size_gb: int) -> None:
        await self.never.wait()

    async def delete(self, volume_id: str, location: Location | None) -> None:
        await self.never.wait()


@pytest.fixture
async def svc(tmp_path: Path) -> AsyncIterator[VolumeService]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'volume.db'}")
    await migrations.upgrade(db.engine, [VERSIONS])
    bus = MemoryBus()
    await bus.start()
    service = VolumeService(db, bus, VolumeSettings())
    await service.types.ensure_default()
    yield service
    await bus.stop()
    await db.close()


async def status(svc: VolumeService, volume_id: str) -> str:
    return (await svc.volumes.get(None, volume_id)).rows[0].status


async def settle(svc: VolumeService, volume_id: str, want: str) -> None:
    for _ in range(200):
        if await status(svc, volume_id) == want:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{volume_id} is {await status(svc, volume_id)}, not {want}")


async def test_restart_finishes_interrupted_work(svc: VolumeService, tmp_path: Path) -> None:
    live = VolumeAgent(FakeDriver(100), svc, svc.context.bus, "h1", svc.context.settings, tmp_path)
    await live.start()
    grow = (await svc.volumes.create(ALICE, CreateRequest(size=1))).rows[0].id
    gone = (await svc.volumes.create(ALICE, CreateRequest(size=1))).rows[0].id
    await settle(svc, grow, "available")
    await settle(svc, gone, "available")
    await live.stop()
    # The same host's agent again, its driver hanging: everything it starts stays midway.
    stuck = VolumeAgent(Stuck(), svc, svc.context.bus, "h1", svc.context.settings, tmp_path)
    stuck.driver.sizes = dict(live.driver.sizes)  # type: ignore[attr-defined]
    await stuck.start()
    made = (await svc.volumes.create(ALICE, CreateRequest(size=2))).rows[0].id
    await svc.actions.extend(ALICE, grow, 3, attached_ok=False)
    await svc.volumes.delete(ALICE, gone)
    await asyncio.sleep(0.05)
    assert [await status(svc, v) for v in (made, grow, gone)] == [
        "creating",
        "extending",
        "deleting",
    ]
    await stuck.stop()
    # kill -9: the stuck work dies with the process. The restarted agent finishes it.
    fresh = FakeDriver(100)
    fresh.sizes = dict(live.driver.sizes)  # type: ignore[attr-defined]
    restarted = VolumeAgent(fresh, svc, svc.context.bus, "h1", svc.context.settings, tmp_path)
    await restarted.start()
    await settle(svc, made, "available")
    await settle(svc, grow, "available")
    assert (await svc.volumes.get(None, grow)).rows[0].size == 3
    with pytest.raises(Exception, match="could not be found"):
        await svc.volumes.get(None, gone)
    pools = await svc.pools.listing()
    assert [p.allocated_capacity_gb for p in pools] == [1 + 2 + 2]  # grow: 3, made: 2
    await restarted.stop()


async def test_orphan_files_are_reported_then_removed(
    svc: VolumeService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    driver = FakeDriver(100)
    agent = VolumeAgent(driver, svc, svc.context.bus, "h1", svc.context.settings, tmp_path)
    await agent.start()
    owned = (await svc.volumes.create(ALICE, CreateRequest(size=1))).rows[0].id
    await settle(svc, owned, "available")
    await driver.create(NewVolume("orphan-1", 1))
    assert await agent.check_orphans() == []  # reported, kept for the grace period
    assert "orphan-1" in agent.orphans
    monkeypatch.setattr(agent_module, "ORPHAN_GRACE", 0.0)
    assert await agent.check_orphans() == ["orphan-1"]
    assert set(await driver.volumes()) == {owned}
    await agent.stop()


async def test_restart_finishes_an_interrupted_backup(svc: VolumeService, tmp_path: Path) -> None:
    agent = VolumeAgent(FakeDriver(100), svc, svc.context.bus, "h1", svc.context.settings, tmp_path)
    await agent.start()
    vid = (await svc.volumes.create(ALICE, CreateRequest(size=1))).rows[0].id
    await settle(svc, vid, "available")
    await agent.stop()
    svc.context.bus.serve("volume.h1", {"create_backup": lambda payload: asyncio.sleep(3600)})
    backup = await svc.backups.create(
        ALICE, vid, "b", None, incremental=False, force=False, metadata={}
    )
    assert await status(svc, vid) == "backing-up"
    restarted = VolumeAgent(
        agent.driver, svc, svc.context.bus, "h1", svc.context.settings, tmp_path
    )
    await restarted.start()
    await settle(svc, vid, "available")
    assert (await svc.backups.get(None, backup.id)).status == "available"
    await restarted.stop()
