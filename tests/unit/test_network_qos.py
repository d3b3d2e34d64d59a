"""QoS policies in the network service layer, on a throwaway SQLite database: a VM port's
effective rules in its host's state (its own policy winning over its network's), the project's
default policy on new networks, a policy in use that cannot go; and the agent schedulers'
record of which agent hosts a network's DHCP and a router."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from onestack.common import errors, migrations
from onestack.common.bus import MemoryBus
from onestack.common.db import Database
from onestack.config import NetworkSettings
from onestack.network.drivers import base as d
from onestack.network.service import Caller, NetworkService

VERSIONS = Path(__file__).resolve().parents[2] / "src/onestack/network/migrations/versions"
HOST = "host-a"
ADMIN = Caller(project_id="p-admin", is_admin=True)
ALICE = Caller(project_id="p-alice")
BOB = Caller(project_id="p-bob")


@pytest.fixture
async def svc(tmp_path: Path) -> AsyncIterator[NetworkService]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'net.db'}")
    await migrations.upgrade(db.engine, [VERSIONS])
    bus = MemoryBus()
    yield NetworkService(db, bus, NetworkSettings(), HOST)
    await bus.stop()
    await db.close()


async def _policy(svc: NetworkService, name: str, **extra: object) -> str:
    row = await svc.qos.create(ADMIN, {"name": name, "project_id": ALICE.project_id, **extra})
    return row.id


async def test_port_policy_wins_over_the_network_policy(svc: NetworkService) -> None:
    slow = await _policy(svc, "slow")
    fast = await _policy(svc, "fast")
    await svc.qos.create_rule(ADMIN, slow, "bandwidth_limit", {"max_kbps": 1000})
    await svc.qos.create_rule(ADMIN, slow, "dscp_marking", {"dscp_mark": 26})
    # Kept for the API, never sent to the agent: nothing on the host enforces a minimum.
    await svc.qos.create_rule(ADMIN, slow, "minimum_bandwidth", {"min_kbps": 500})
    await svc.qos.create_rule(
        ADMIN, fast, "bandwidth_limit", {"max_kbps": 9000, "direction": "ingress"}
    )
    net = await svc.networks.create(ALICE, {"name": "n", "qos_policy_id": slow})
    plain = await svc.ports.create(ALICE, {"network_id": net.id})
    own = await svc.ports.create(ALICE, {"network_id": net.id, "qos_policy_id": fast})
    for port, device in ((plain, "vm-1"), (own, "vm-2")):
        await svc.bind_port(port.id, host=HOST, device_id=device, device_owner="compute:nova")
    ports = {p.id: p for p in (await svc.host_state(HOST)).ports}
    assert set(ports[plain.id].qos) == {
        d.QosRule("bandwidth_limit", "egress", 1000, 0, 0),
        d.QosRule("dscp_marking", "", 0, 0, 26),
    }
    assert ports[own.id].qos == (d.QosRule("bandwidth_limit", "ingress", 9000, 0, 0),)
    # Taking the port's own policy away leaves it the network's.
    await svc.ports.update(ALICE, own.id, {"qos_policy_id": None})
    ports = {p.id: p for p in (await svc.host_state(HOST)).ports}
    assert len(ports[own.id].qos) == 2
    await svc.networks.update(ADMIN, net.id, {"qos_policy_id": None})
    assert all(p.qos == () for p in (await svc.host_state(HOST)).ports)


async def test_default_policy_applies_to_new_networks_and_is_unique(svc: NetworkService) -> None:
    default = await _policy(svc, "default", is_default=True)
    with pytest.raises(errors.Conflict):
        await _policy(svc, "another", is_default=True)
    net = await svc.networks.create(ALICE, {"name": "n"})
    assert net.qos_policy_id == default
    explicit = await svc.networks.create(ALICE, {"name": "m", "qos_policy_id": None})
    assert explicit.qos_policy_id is None
    # In use: not deleted, not unshared from under another project's port.
    with pytest.raises(errors.Conflict):
        await svc.qos.delete(ADMIN, default)


async def test_a_project_attaches_only_policies_it_can_see(svc: NetworkService) -> None:
    private = await _policy(svc, "private")
    shared = await _policy(svc, "shared", shared=True)
    net = await svc.networks.create(BOB, {"name": "n"})
    with pytest.raises(errors.NotFound):
        await svc.ports.create(BOB, {"network_id": net.id, "qos_policy_id": private})
    port = await svc.ports.create(BOB, {"network_id": net.id, "qos_policy_id": shared})
    assert port.qos_policy_id == shared
    with pytest.raises(errors.Conflict):
        await svc.qos.update(ADMIN, shared, {"shared": False})


async def test_rules_are_validated(svc: NetworkService) -> None:
    policy = await _policy(svc, "p")
    for rule_type, body in (
        ("bandwidth_limit", {}),
        ("bandwidth_limit", {"max_kbps": -1}),
        ("bandwidth_limit", {"max_kbps": 10, "direction": "sideways"}),
        ("dscp_marking", {"dscp_mark": 7}),
        ("dscp_marking", {"dscp_mark": 26, "max_kbps": 3}),
        ("minimum_bandwidth", {"direction": "egress"}),
        ("minimum_bandwidth", {"min_kbps": 10, "max_kbps": 3}),
        ("minimum_bandwidth", {"min_kbps": 2**31}),
    ):
        with pytest.raises(errors.BadRequest):
            await svc.qos.create_rule(ADMIN, policy, rule_type, body)
    await svc.qos.create_rule(ADMIN, policy, "bandwidth_limit", {"max_kbps": 10})
    with pytest.raises(errors.Conflict):  # one per direction
        await svc.qos.create_rule(ADMIN, policy, "bandwidth_limit", {"max_kbps": 20})
    await svc.qos.create_rule(
        ADMIN, policy, "bandwidth_limit", {"max_kbps": 20, "direction": "ingress"}
    )
    minimum = await svc.qos.create_rule(ADMIN, policy, "minimum_bandwidth", {"min_kbps": 10})
    assert minimum == {"id": minimum["id"], "min_kbps": 10, "direction": "egress"}
    with pytest.raises(errors.Conflict):  # one per direction, beside the limits
        await svc.qos.create_rule(ADMIN, policy, "minimum_bandwidth", {"min_kbps": 20})


async def test_dhcp_and_l3_hosting(svc: NetworkService) -> None:
    for agent_type, binary in (("DHCP agent", "dhcp"), ("L3 agent", "l3")):
        await svc.report_agent(HOST, agent_type, binary, {})
    await svc.report_agent("host-b", "DHCP agent", "dhcp", {})
    assert await svc.scheduler.agents_of("dhcp", "no-such-network") == []
    net = await svc.networks.create(ALICE, {"name": "n"})
    await svc.subnets.create(ALICE, {"network_id": net.id, "ip_version": 4, "cidr": "10.7.0.0/24"})
    hosting = await svc.scheduler.agents_of("dhcp", net.id)
    assert [a.host for a in hosting] == [HOST]  # where its DHCP port is bound
    b = await _agent_id(svc, "host-b", "DHCP agent")
    await svc.scheduler.add("dhcp", b, net.id)
    with pytest.raises(errors.Conflict):
        await svc.scheduler.add("dhcp", b, net.id)
    assert net.id in await svc.scheduler.resources_of_agent("dhcp", b)
    a = hosting[0].id
    await svc.scheduler.remove("dhcp", a, net.id)
    assert [x.host for x in await svc.scheduler.agents_of("dhcp", net.id)] == ["host-b"]
    with pytest.raises(errors.Conflict):
        await svc.scheduler.remove("dhcp", a, net.id)
    with pytest.raises(errors.NotFound):  # not a DHCP agent
        await svc.scheduler.add("dhcp", await _agent_id(svc, HOST, "L3 agent"), net.id)
    # A bare router is on no agent until one is chosen for it.
    router = await svc.routers.create(ALICE, {"name": "r"})
    l3 = await _agent_id(svc, HOST, "L3 agent")
    assert await svc.scheduler.agents_of("l3", router.id) == []
    await svc.scheduler.add("l3", l3, router.id)
    assert [x.id for x in await svc.scheduler.agents_of("l3", router.id)] == [l3]
    await svc.scheduler.remove("l3", l3, router.id)
    assert await svc.scheduler.resources_of_agent("l3", l3) == []


async def _agent_id(svc: NetworkService, host: str, agent_type: str) -> str:
    rows, _ = await svc.list_page("agents", ADMIN, _q(host=[host], agent_type=[agent_type]))
    return str(rows[0]["id"])


def _q(**filters: list[str]) -> Any:
    from onestack.network.service import ListQuery

    return ListQuery(filters=filters)
