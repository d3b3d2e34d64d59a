"""The scheduler against a real database: candidates from the compute tables, claims that
never overcommit under concurrency, resizes holding both flavors, schedule() and reschedule().

A throwaway SQLite file by default; ``--db-url postgresql+asyncpg://postgres@127.0.0.1:5432/
postgres`` or ``mysql+aiomysql://root@127.0.0.1:3306/mysql`` runs the same on a fresh database
of that server."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from onestack.common import migrations
from onestack.common.db import Database, utcnow
from onestack.compute import models
from onestack.compute.scheduler import (
    MaxRetriesExceeded,
    NoValidHost,
    RequestSpec,
    claim,
    confirm_resize,
    load_candidates,
    migration_consumer,
    release,
    reschedule,
    resize_claim,
    revert_resize,
    schedule,
)
from onestack.config import Settings

VERSIONS = Path(__file__).resolve().parents[2] / "src/onestack/compute/migrations/versions"
SETTINGS = Settings()


@pytest.fixture
async def db(tmp_path: Path, fresh_database: str | None) -> AsyncIterator[Database]:
    database = Database(fresh_database or f"sqlite+aiosqlite:///{tmp_path / 'compute.db'}")
    await migrations.upgrade(database.engine, [VERSIONS])
    yield database
    await database.close()


async def add_host(
    db: Database,
    host: str,
    *,
    vcpus: int = 8,
    memory_mb: int = 16384,
    disk_gb: int = 100,
    cpu_ratio: float = 1.0,
    reserved_mb: int = 0,
    disabled: bool = False,
    seen_ago: float = 0.0,
) -> str:
    node_uuid = str(uuid.uuid4())
    async with db.session() as session:
        session.add(
            models.Service(
                uuid=str(uuid.uuid4()),
                host=host,
                binary="nova-compute",
                disabled=disabled,
                last_seen_up=utcnow() - timedelta(seconds=seen_ago),
            )
        )
        session.add(
            models.ComputeNode(
                uuid=node_uuid,
                host=host,
                hypervisor_hostname=f"{host}.node",
                hypervisor_type="QEMU",
                vcpus=vcpus,
                memory_mb=memory_mb,
                local_gb=disk_gb,
                cpu_allocation_ratio=cpu_ratio,
                ram_allocation_ratio=1.0,
                disk_allocation_ratio=1.0,
                reserved_host_memory_mb=reserved_mb,
            )
        )
    return node_uuid


async def usage(db: Database, node_uuid: str) -> tuple[int, int, int, int]:
    async with db.session() as session:
        row = (
            await session.execute(
                select(
                    func.count(),
                    func.coalesce(func.sum(models.Allocation.vcpus), 0),
                    func.coalesce(func.sum(models.Allocation.memory_mb), 0),
                    func.coalesce(func.sum(models.Allocation.disk_gb), 0),
                ).where(models.Allocation.node_uuid == node_uuid)
            )
        ).one()
    return int(row[0]), int(row[1]), int(row[2]), int(row[3])


def spec(instance: str = "", vcpus: int = 1, memory_mb: int = 1024, **kw: object) -> RequestSpec:
    return RequestSpec(
        instance_uuid=instance or str(uuid.uuid4()),
        project_id="p1",
        vcpus=vcpus,
        memory_mb=memory_mb,
        disk_gb=10,
        **kw,  # type: ignore[arg-type]
    )


async def test_concurrent_claims_never_overcommit(db: Database) -> None:
    # Room for exactly 5 of these (4 GiB of 20 GiB, with 512 MiB reserved + 3.5 GiB spare).
    node = await add_host(db, "c1", vcpus=64, memory_mb=24576, reserved_mb=512, disk_gb=1000)
    [host] = await load_candidates(db, SETTINGS)
    assert host.capacity_memory_mb == 24064 and host.generation == 0

    async def one(i: int) -> bool:
        # Every claimer read the node at generation 0 would lose the CAS after the first win,
        # so each retries as schedule() does: reload, claim with the generation it saw.
        for _ in range(200):
            [h] = await load_candidates(db, SETTINGS)
            if not h.fits(1, 4096, 10):
                return False
            if await claim(
                db, node, f"00000000-0000-0000-0000-{i:012d}", "p1", 1, 4096, 10, h.generation
            ):
                return True
            await asyncio.sleep(0.001 * (i % 5))
        raise AssertionError("claimer starved")

    results = await asyncio.gather(*(one(i) for i in range(20)))
    assert sum(results) == 5
    count, vcpus, mem, disk = await usage(db, node)
    assert (count, vcpus, mem, disk) == (5, 5, 20480, 50)
    [h] = await load_candidates(db, SETTINGS)
    assert h.used_memory_mb <= h.capacity_memory_mb and h.generation >= 5


async def test_stale_generation_and_full_node_refuse_without_writing(db: Database) -> None:
    node = await add_host(db, "c1", memory_mb=4096)
    assert await claim(db, node, "a" * 8, "p1", 1, 2048, 10, 0)
    # Generation 0 is stale now: lost race, nothing written.
    assert not await claim(db, node, "b" * 8, "p1", 1, 1024, 10, 0)
    # The current generation but no room: refused, and the generation bump rolled back.
    assert not await claim(db, node, "c" * 8, "p1", 1, 4096, 10, 1)
    [h] = await load_candidates(db, SETTINGS)
    assert h.generation == 1 and h.used_memory_mb == 2048
    # Claiming again for the same consumer replaces its allocation, not adds to it.
    assert await claim(db, node, "a" * 8, "p1", 2, 4096, 20, None)
    assert await usage(db, node) == (1, 2, 4096, 20)
    await release(db, "a" * 8)
    assert await usage(db, node) == (0, 0, 0, 0)


async def test_load_candidates_service_state_zones_aggregates_groups(db: Database) -> None:
    a = await add_host(db, "a")
    await add_host(db, "b", disabled=True)
    await add_host(db, "c", seen_ago=SETTINGS.compute.service_down_time + 5)
    async with db.session() as session:
        agg = models.Aggregate(uuid=str(uuid.uuid4()), name="fast")
        session.add(agg)
        await session.flush()
        session.add(models.AggregateHost(aggregate_id=agg.id, host="a"))
        session.add(
            models.AggregateMetadata(aggregate_id=agg.id, key="availability_zone", value="az1")
        )
        session.add(models.AggregateMetadata(aggregate_id=agg.id, key="ssd", value="true"))
        group = models.ServerGroup(
            uuid="g1", name="g", project_id="p1", user_id="u", policy="anti-affinity"
        )
        session.add(group)
        await session.flush()
        for i, host in enumerate(["a", "a", None]):
            iu = f"inst-{i}"
            session.add(
                models.Instance(
                    uuid=iu,
                    display_name=iu,
                    hostname=iu,
                    project_id="p1",
                    user_id="u",
                    host=host,
                    flavor={},
                    vm_state="active",
                )
            )
            session.add(models.ServerGroupMember(group_id=group.id, instance_uuid=iu))
    assert await claim(db, a, "inst-0", "p1", 2, 2048, 20, 0)
    hosts = {h.host: h for h in await load_candidates(db, SETTINGS)}
    assert [h.host for h in await load_candidates(db, SETTINGS)] == ["a", "b", "c"]
    assert (hosts["a"].enabled, hosts["a"].up) == (True, True)
    assert (hosts["b"].enabled, hosts["b"].up) == (False, True)
    assert (hosts["c"].enabled, hosts["c"].up) == (True, False)
    assert hosts["a"].availability_zone == "az1" and hosts["b"].availability_zone == "nova"
    assert hosts["a"].aggregate_metadata["ssd"] == {"true"}
    assert hosts["a"].group_members == {"g1": 2} and hosts["b"].group_members == {}
    assert (hosts["a"].used_vcpus, hosts["a"].used_memory_mb, hosts["a"].used_disk_gb) == (
        2,
        2048,
        20,
    )
    excluded = await load_candidates(db, SETTINGS, exclude_instances=["inst-1"])
    assert excluded[0].group_members == {"g1": 1}


async def test_resize_holds_both_flavors_then_confirm_or_revert(db: Database) -> None:
    node = await add_host(db, "c1", vcpus=8, memory_mb=8192)
    inst = str(uuid.uuid4())
    assert await claim(db, node, inst, "p1", 2, 4096, 10, 0)
    # Same host, to 5 GiB: 4 + 5 > 8 GiB while both are held.
    assert not await resize_claim(db, inst, node, "p1", 2, 5120, 10)
    assert await usage(db, node) == (1, 2, 4096, 10)
    assert await resize_claim(db, inst, node, "p1", 4, 4096, 20)
    assert await usage(db, node) == (2, 6, 8192, 30)
    await revert_resize(db, inst)
    assert await usage(db, node) == (1, 2, 4096, 10)
    other = await add_host(db, "c2", vcpus=8, memory_mb=8192)
    assert await resize_claim(db, inst, other, "p1", 4, 8192, 20)
    assert await usage(db, node) == (1, 2, 4096, 10)  # the old one, held by the migration
    assert await usage(db, other) == (1, 4, 8192, 20)
    async with db.session() as session:
        held = await session.scalar(
            select(models.Allocation.node_uuid).where(
                models.Allocation.consumer_uuid == migration_consumer(inst)
            )
        )
    assert held == node
    await confirm_resize(db, inst)
    assert await usage(db, node) == (0, 0, 0, 0)
    assert await usage(db, other) == (1, 4, 8192, 20)


async def test_schedule_spreads_claims_and_multi_create_is_all_or_nothing(db: Database) -> None:
    nodes = [await add_host(db, f"h{i}", memory_mb=4096) for i in range(3)]
    uuids = tuple(str(uuid.uuid4()) for _ in range(3))
    placed = await schedule(db, SETTINGS, spec(uuids[0], instance_uuids=uuids), count=3)
    assert sorted(p.host for p in placed) == ["h0", "h1", "h2"]  # spread: one per host
    assert [p.instance_uuid for p in placed] == list(uuids)
    for n in nodes:
        assert (await usage(db, n))[0] == 1
    # 4 x 3 GiB do not fit on 3 hosts with 3 GiB free each: nothing stays claimed.
    more = tuple(str(uuid.uuid4()) for _ in range(4))
    with pytest.raises(NoValidHost) as err:
        await schedule(db, SETTINGS, spec(more[0], memory_mb=3072, instance_uuids=more), count=4)
    assert err.value.message == "No valid host was found. There are not enough hosts available."
    assert "ComputeCapacityFilter" in err.value.reason and "MEMORY_MB=3072" in err.value.reason
    assert [(await usage(db, n))[0] for n in nodes] == [1, 1, 1]


async def test_concurrent_schedules_fill_exactly(db: Database) -> None:
    nodes = [await add_host(db, f"h{i}", memory_mb=4096, vcpus=64) for i in range(2)]
    # 2 hosts x 4 slots of 1 GiB; 12 concurrent boots: 8 placed, 4 NoValidHost.
    outcomes = await asyncio.gather(
        *(schedule(db, SETTINGS, spec(memory_mb=1024)) for _ in range(12)),
        return_exceptions=True,
    )
    assert sum(isinstance(o, list) for o in outcomes) == 8
    assert all(isinstance(o, (list, NoValidHost)) for o in outcomes)
    assert [(await usage(db, n))[2] for n in nodes] == [4096, 4096]


async def test_reschedule_avoids_tried_hosts_then_gives_up(db: Database) -> None:
    for i in range(2):
        await add_host(db, f"h{i}")
    s = spec()
    [first] = await schedule(db, SETTINGS, s)
    second, s2 = await reschedule(db, SETTINGS, s, first, attempts=1)
    assert second.host != first.host and s2.ignore_hosts == {first.host}
    with pytest.raises(MaxRetriesExceeded) as err:
        await reschedule(db, SETTINGS, s2, second, attempts=2)
    assert err.value.message.startswith("Exceeded maximum number of retries.")
    assert s.instance_uuid in err.value.message
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(models.Allocation)) == 0
