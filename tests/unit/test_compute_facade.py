"""Compute's facade (``ComputeAPI``): what other services see of a server, as the caller may see
it (SQLite, no other service running)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from onestack.common import migrations
from onestack.common.bus import MemoryBus
from onestack.common.context import RequestContext
from onestack.common.db import Database
from onestack.common.policy import Enforcer
from onestack.common.runtime import Runtime
from onestack.compute import models
from onestack.compute.bootstrap import start
from onestack.compute.facade import ComputeAPI
from onestack.compute.service.records import InstanceNotFound
from onestack.config import Settings

VERSIONS = Path(__file__).resolve().parents[2] / "src/onestack/compute/migrations/versions"
FLAVOR = {"name": "m1.tiny", "flavorid": "1", "vcpus": 1, "memory_mb": 512, "root_gb": 1}
ALICE = RequestContext(request_id="r1", user_id="u-alice", project_id="p-alice")
BOB = RequestContext(request_id="r2", user_id="u-bob", project_id="p-bob")
ADMIN = RequestContext(request_id="r3", user_id="u-admin", project_id="p-admin", roles=("admin",))


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'compute.db'}")
    await migrations.upgrade(db.engine, [VERSIONS])
    bus = MemoryBus()
    await bus.start()
    settings = Settings(data_dir=tmp_path)
    settings.compute.create_flavors = False
    rt = Runtime(
        settings=settings,
        db=db,
        bus=bus,
        enforcer=Enforcer([], ""),
        services=(),
        roles=frozenset({"api"}),
    )
    await start(rt)
    yield rt
    await rt.close()


async def add_server(rt: Runtime, uuid: str, project: str, **fields: Any) -> None:
    values: dict[str, Any] = {
        "uuid": uuid,
        "display_name": f"vm-{uuid}",
        "hostname": uuid,
        "project_id": project,
        "user_id": "u",
        "flavor": FLAVOR,
        "image_ref": "img-1",
        "vm_state": "active",
        "power_state": 1,
        "host": "h1",
        "network_info": [],
        **fields,
    }
    async with rt.db.session() as s:
        s.add(models.Instance(**values))


async def test_a_server_as_its_caller_sees_it(runtime: Runtime) -> None:
    compute = runtime.service(ComputeAPI)
    await add_server(runtime, "a1", "p-alice")
    await add_server(runtime, "b1", "p-bob", vm_state="stopped")
    await add_server(runtime, "gone", "p-alice", deleted=True, vm_state="deleted")

    mine = await compute.get_server(ALICE, "a1")
    assert (mine.id, mine.name, mine.status, mine.host) == ("a1", "vm-a1", "ACTIVE", "h1")
    assert (mine.flavor_name, mine.image_id) == ("m1.tiny", "img-1")
    for ctx, uuid in ((ALICE, "b1"), (BOB, "a1"), (ALICE, "gone"), (ALICE, "nothing")):
        with pytest.raises(InstanceNotFound):
            await compute.get_server(ctx, uuid)
    assert (await compute.get_server(ADMIN, "b1")).status == "SHUTOFF"
    assert (await compute.get_server(None, "b1")).project_id == "p-bob"

    assert [s.id for s in await compute.list_servers(ALICE)] == ["a1"]
    assert [s.id for s in await compute.list_servers(BOB, all_projects=True)] == ["b1"]
    everyone = await compute.list_servers(ADMIN, all_projects=True)
    assert sorted(s.id for s in everyone) == ["a1", "b1"]
