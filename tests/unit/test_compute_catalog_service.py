"""The compute catalog's service layer on a throwaway SQLite database: usage hours from
server rows (deleted ones included), server-group membership and its quota, zones of hosts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from onestack.common import errors, migrations
from onestack.common.bus import MemoryBus
from onestack.common.context import RequestContext
from onestack.common.db import Database
from onestack.compute import models
from onestack.compute.drivers.base import HostInfo
from onestack.compute.service.aggregates import Aggregates
from onestack.compute.service.base import ComputeContext
from onestack.compute.service.groups import Groups
from onestack.compute.service.hosts import Hosts
from onestack.compute.service.quotas import Quotas
from onestack.compute.service.usage import Usage
from onestack.config import Settings

VERSIONS = Path(__file__).resolve().parents[2] / "src/onestack/compute/migrations/versions"
T0 = datetime(2024, 1, 1)  # naive UTC, as stored
ALICE = RequestContext(request_id="r", user_id="u-alice", project_id="p-alice", roles=("member",))
BOB = RequestContext(request_id="r", user_id="u-bob", project_id="p-bob", roles=("member",))
FLAVOR = {"name": "m1.small", "vcpus": 2, "memory_mb": 2048, "root_gb": 20, "ephemeral_gb": 5}


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[ComputeContext]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'compute.db'}")
    await migrations.upgrade(db.engine, [VERSIONS])
    bus = MemoryBus()
    yield ComputeContext(db=db, bus=bus, settings=Settings(), runtime=SimpleNamespace(state={}))  # type: ignore[arg-type]
    await bus.stop()
    await db.close()


async def server(store: ComputeContext, uuid: str, project: str = "p-alice", **kw: Any) -> None:
    fields: dict[str, Any] = {
        "uuid": uuid,
        "display_name": f"vm-{uuid}",
        "hostname": uuid,
        "project_id": project,
        "user_id": "u",
        "flavor": FLAVOR,
        "vm_state": "active",
        "created_at": T0,
        **kw,
    }
    async with store.db.session() as s:
        s.add(models.Instance(**fields))


async def test_usage_counts_hours_within_the_period(store: ComputeContext) -> None:
    start, stop = T0 + timedelta(hours=10), T0 + timedelta(hours=20)
    await server(store, "live", launched_at=T0)  # runs the whole period: 10 h
    await server(
        store,
        "gone",
        launched_at=T0 + timedelta(hours=12),
        terminated_at=T0 + timedelta(hours=15),
        deleted=True,
        vm_state="deleted",
    )  # 3 h, and shown as terminated
    await server(store, "early", launched_at=T0, terminated_at=T0 + timedelta(hours=5))
    await server(store, "never")  # never launched: no usage
    await server(store, "other", project="p-bob", launched_at=T0 + timedelta(hours=19))
    usages, _ = await Usage(store).report(start, stop)
    by_project = {u.tenant_id: u for u in usages}
    alice = by_project["p-alice"]
    assert [s["instance_id"] for s in alice.server_usages] == ["live", "gone"]
    assert alice.total_hours == pytest.approx(13.0)
    assert alice.total_vcpus_usage == pytest.approx(26.0)
    assert alice.total_memory_mb_usage == pytest.approx(13 * 2048)
    assert alice.total_local_gb_usage == pytest.approx(13 * 25)
    gone = alice.server_usages[1]
    assert gone["state"] == "terminated" and gone["uptime"] == 3 * 3600
    assert gone["local_gb"] == 25 and gone["flavor"] == "m1.small"
    assert by_project["p-bob"].total_hours == pytest.approx(1.0)
    only_bob, _ = await Usage(store).report(start, stop, "p-bob")
    assert [u.tenant_id for u in only_bob] == ["p-bob"]
    page, last = await Usage(store).report(start, stop, limit=1)
    assert last is not None and len(page[0].server_usages) == 1


async def test_group_members_and_their_quota(store: ComputeContext) -> None:
    quotas = Quotas(store)
    groups = Groups(store, quotas)
    group = await groups.create(ALICE, "g", "anti-affinity", {"max_server_per_host": 1})
    await quotas.update("p-alice", {"server_group_members": 2})
    for uuid in ("a", "b", "c"):
        await server(store, uuid)
    await groups.add_member(group.uuid, "a")
    await groups.add_member(group.uuid, "b")
    with pytest.raises(errors.Forbidden, match="too many servers in group"):
        await groups.add_member(group.uuid, "c")
    got = await groups.get(ALICE, group.uuid)
    assert got["members"] == ["a", "b"] and got["policy"] == "anti-affinity"
    assert got["rules"] == {"max_server_per_host": 1}
    assert await groups.group_of("a") == group.uuid
    await groups.remove_member("a")
    await groups.add_member(group.uuid, "c")
    assert (await groups.get(None, group.uuid))["members"] == ["b", "c"]
    with pytest.raises(errors.NotFound):
        await groups.get(BOB, group.uuid)
    # A deleted server stops counting even before it leaves the group.
    async with store.db.session() as s:
        row = await s.get(models.Instance, 2)
        assert row is not None
        row.deleted = True
    assert (await groups.get(ALICE, group.uuid))["members"] == ["c"]


async def test_zones_of_hosts(store: ComputeContext) -> None:
    hosts = Hosts(store)
    info = HostInfo("fake", 1000, 8, 4096, 100, "", {})
    await hosts.report("h1", info)
    await hosts.report("h2", info)
    assert await hosts.zone_of("h1") == "nova"
    aggs = Aggregates(store)
    agg = await aggs.create("rack1", "az1")
    await aggs.add_host(str(agg.id), "h2")
    assert await hosts.zone_of("h2") == "az1"
    assert await hosts.zones() == {"nova": True, "az1": True}
    assert await hosts.hosts_in_zone("az1") == ["h2"]
    with pytest.raises(errors.NotFound):
        await aggs.add_host(str(agg.id), "h-unknown")
    other = await aggs.create("rack2", "az2")
    with pytest.raises(errors.Conflict):
        await aggs.add_host(str(other.id), "h2")
    # A zone whose only service is disabled is listed as unavailable.
    (h2,) = await hosts.services(host="h2")
    await hosts.update_service(h2.row.uuid, status="disabled", disabled_reason="maint")
    assert await hosts.zones() == {"nova": True, "az1": False}
    await hosts.update_service(h2.row.uuid, forced_down=True)
    assert not (await hosts.services(host="h2"))[0].up
