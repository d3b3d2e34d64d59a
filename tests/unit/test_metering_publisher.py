"""The Gnocchi publisher on a real metering service (SQLite index, file stores): a resource
is made with its type's defined metrics, each with the archive policy its first sample would
have given it, and that sample then lands on the metric made for it, not on a second one."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import func, select

from onestack.common import migrations
from onestack.common.db import Database
from onestack.compute.agent.pollsters import guest_samples
from onestack.compute.drivers.base import GuestStats
from onestack.compute.drivers.fake import FakeDriver
from onestack.config import Settings
from onestack.metering import models
from onestack.metering.definitions import RESOURCE_METRICS
from onestack.metering.drivers.file import FileIncoming
from onestack.metering.drivers.sqlite import SqliteAggregates
from onestack.metering.facade import Sample
from onestack.metering.listener import sample_of
from onestack.metering.publisher import Publisher
from onestack.metering.service import MeteringService
from onestack.metering.service.base import resource_uuid
from tests.unit.test_metering_pollsters import META, spec

VERSIONS = Path(models.__file__).parent / "migrations" / "versions"
SERVER = "3f6c1d0e-1b7a-4c5e-9a43-2b0d8f1e7a11"
ATTRS = {"display_name": "vm", "host": "h", "flavor_id": "1", "flavor_name": "m1.tiny"}


async def service(tmp_path: Path) -> MeteringService:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'metering.db'}")
    await migrations.upgrade(db.engine, [VERSIONS])
    settings = Settings(data_dir=tmp_path).metering
    svc = MeteringService(db, settings, FileIncoming(tmp_path), SqliteAggregates(tmp_path))
    await svc.bootstrap()
    return svc


async def policies_of(svc: MeteringService, rid: str) -> dict[str, str]:
    async with svc.ctx.db.session() as s:
        rows = await s.execute(
            select(models.Metric.name, models.Metric.archive_policy_name).where(
                models.Metric.resource_id == rid
            )
        )
        return {str(name): str(policy) for name, policy in rows.all()}


async def metric_count(svc: MeteringService) -> int:
    async with svc.ctx.db.session() as s:
        return int(await s.scalar(select(func.count()).select_from(models.Metric)) or 0)


async def test_a_new_server_has_its_metrics_and_its_first_poll_lands_on_them(
    tmp_path: Path,
) -> None:
    svc = await service(tmp_path)
    try:
        # The boot's notification (compute.instance.create.end): no sample yet.
        maker = Publisher(svc)
        await maker.ensure_resource("instance", SERVER, "p", "u", ATTRS, new=True)
        made = (await svc.metrics.names_of([SERVER]))[SERVER]
        assert set(made) == set(RESOURCE_METRICS["instance"])
        assert await policies_of(svc, SERVER) == {
            "cpu": "ceilometer-high-rate", "vcpus": "ceilometer-high",
            "memory": "ceilometer-high", "memory.usage": "ceilometer-high",
            "disk.root.size": "ceilometer-high",
        }  # fmt: skip
        before = await metric_count(svc)
        assert before == len(made)

        driver = FakeDriver()
        await driver.spawn(spec(SERVER))
        stats: GuestStats = await driver.guest_stats(SERVER)
        poll = [sample_of(raw) for raw in guest_samples(stats, META, 1000.0)]
        # A publisher that did not make it (another process, or after a restart) and the
        # one that did: both put the poll's measures on the metrics made at the boot.
        for publisher in (Publisher(svc), maker):
            await publisher.publish(poll)
            assert (await svc.metrics.names_of([SERVER]))[SERVER] == made
        cpu = made["cpu"]
        assert cpu in await asyncio.to_thread(svc.ctx.incoming.pending)
        # The guest's disk and interface: made by the poll with their defined metrics.
        children = {s.resource_id for s in poll if s.resource_type != "instance"}
        assert len(children) == 2
        assert await metric_count(svc) == before + 8
    finally:
        svc.close()
        await svc.ctx.db.close()


async def test_a_resource_made_by_one_sample_gets_all_its_types_metrics(tmp_path: Path) -> None:
    """One sample makes the resource with every metric of its type, not just its own: an
    object-storage account's three gauges, a guest disk's four counters (-rate policy)."""
    svc = await service(tmp_path)
    try:
        publisher = Publisher(svc)
        account = "5b1c6a8e2f0d4d7e9a3b1c2d3e4f5a6b"
        disk = f"{SERVER}-vda"
        await publisher.publish(
            [
                Sample(account, "swift_account", "storage.objects", "object", 3.0, 1000.0, account),
                Sample(disk, "instance_disk", "disk.device.read.bytes", "B", 1.0, 1000.0, "p",
                       "u", {"name": "vda", "instance_id": SERVER}, cumulative=True),
            ]
        )  # fmt: skip
        policies = await policies_of(svc, resource_uuid(account))
        assert policies == dict.fromkeys(RESOURCE_METRICS["swift_account"], "ceilometer-high")
        policies = await policies_of(svc, resource_uuid(disk))
        assert policies == dict.fromkeys(RESOURCE_METRICS["instance_disk"], "ceilometer-high-rate")
        assert len(await asyncio.to_thread(svc.ctx.incoming.pending)) == 2
    finally:
        svc.close()
        await svc.ctx.db.close()
