"""Server lists and shows against a real database: the metadata, tags, volumes and server
groups of many servers read in one query, the same for a list as for a show of each server.
A throwaway SQLite file by default; ``--db-url`` runs the same on PostgreSQL or MariaDB."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from onestack.common import migrations
from onestack.common.bus import MemoryBus
from onestack.common.context import RequestContext
from onestack.common.db import Database, utcnow
from onestack.common.policy import Enforcer
from onestack.common.runtime import Runtime
from onestack.compute import models
from onestack.compute.service.base import ComputeContext
from onestack.compute.service.quotas import Quotas
from onestack.compute.service.server_lists import ListedServer, ListFilters
from onestack.compute.service.servers import Servers
from onestack.config import Settings
from onestack.network.facade import NetworkAPI

VERSIONS = Path(__file__).resolve().parents[2] / "src/onestack/compute/migrations/versions"
PROJECT = "p-list"
CTX = RequestContext(request_id="req-1", user_id="u-1", project_id=PROJECT)


class FakeNetwork:
    """The network service's ``device_addresses``: one port per device, the devices asked
    for remembered."""

    def __init__(self) -> None:
        self.asked: list[list[str]] = []

    async def device_addresses(self, device_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        self.asked.append(list(device_ids))
        return {d: [{"id": f"port-of-{d}"}] for d in device_ids}


@pytest.fixture
async def servers(tmp_path: Path, fresh_database: str | None) -> AsyncIterator[Servers]:
    db = Database(fresh_database or f"sqlite+aiosqlite:///{tmp_path / 'compute.db'}")
    await migrations.upgrade(db.engine, [VERSIONS])
    bus = MemoryBus()
    runtime = Runtime(settings=Settings(), db=db, bus=bus, enforcer=Enforcer([], ""), services=())
    runtime.provide(NetworkAPI, FakeNetwork())  # type: ignore[arg-type]
    store = ComputeContext(db, bus, Settings(), runtime)
    yield Servers(store, Quotas(store))
    await bus.stop()
    await db.close()


def instance(name: str) -> models.Instance:
    return models.Instance(
        uuid=str(uuid.uuid4()),
        display_name=name,
        hostname=name,
        project_id=PROJECT,
        user_id="u-1",
        flavor={"flavorid": "f1", "name": "tiny", "vcpus": 1, "memory_mb": 64, "root_gb": 0},
        vm_state="active",
        request={"disk_config": "AUTO"},
    )


async def test_list_extras_match_each_show(servers: Servers) -> None:
    db = servers.context.db
    a, b, c = instance("a"), instance("b"), instance("c")
    b.network_info = [{"port_id": f"port-of-{b.uuid}", "network_id": "n"}]
    now = utcnow()
    async with db.session() as s:
        s.add_all([a, b, c])
        group = models.ServerGroup(
            uuid=str(uuid.uuid4()), name="g", project_id=PROJECT, user_id="u-1", policy="affinity"
        )
        s.add(group)
        await s.flush()
        for key, value in (("zeta", "1"), ("alpha", "2"), ("mid", "3")):
            s.add(models.InstanceMetadata(instance_uuid=a.uuid, key=key, value=value))
        s.add(models.InstanceMetadata(instance_uuid=b.uuid, key="only", value="b"))
        for tag in ("t2", "t1"):
            s.add(models.InstanceTag(instance_uuid=a.uuid, tag=tag))
        # Attached out of id order: shown in attachment order.
        for volume, at, delete in (("vol-z", 1, True), ("vol-a", 2, False)):
            s.add(
                models.VolumeAttachment(
                    id=str(uuid.uuid4()),
                    instance_uuid=a.uuid,
                    volume_id=volume,
                    delete_on_termination=delete,
                    created_at=now + timedelta(seconds=at),
                )
            )
        s.add(models.ServerGroupMember(group_id=group.id, instance_uuid=b.uuid))

    listed = await servers.listing(CTX, ListFilters(), [], 1000, None, detail=True)
    assert sorted(srv.row.display_name for srv in listed) == ["a", "b", "c"]
    assert all(isinstance(srv.row, ListedServer) for srv in listed)
    by_name = {srv.row.display_name: srv for srv in listed}
    got = by_name["a"]
    assert list(got.metadata.items()) == [("alpha", "2"), ("mid", "3"), ("zeta", "1")]
    assert got.tags == ["t1", "t2"]
    assert got.volumes == [
        {"id": "vol-z", "delete_on_termination": True},
        {"id": "vol-a", "delete_on_termination": False},
    ]
    assert got.group_uuids == [] and by_name["b"].group_uuids == [group.uuid]
    assert by_name["b"].metadata == {"only": "b"} and by_name["b"].tags == []
    assert by_name["c"].metadata == {} and by_name["c"].volumes == []
    assert got.row.request == {"disk_config": "AUTO"} and got.row.flavor["name"] == "tiny"
    for srv in listed:
        shown = await servers.get(CTX, srv.row.uuid)
        assert (shown.metadata, shown.tags, shown.volumes, shown.group_uuids) == (
            srv.metadata,
            srv.tags,
            srv.volumes,
            srv.group_uuids,
        )
        assert shown.ports == srv.ports
    # Ports asked only for the server with network info, by the list then by its show.
    network = servers.context.runtime.service(NetworkAPI)
    assert isinstance(network, FakeNetwork)
    assert network.asked == [[b.uuid], [b.uuid]]
    assert by_name["b"].ports == [{"id": f"port-of-{b.uuid}"}] and got.ports == []
