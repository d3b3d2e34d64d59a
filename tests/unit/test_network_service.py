"""The network service layer's contract with the agent and compute, on a throwaway SQLite
database: ``host_state``, ``set_port_statuses``, ``port_for_address``, ``bind_port`` /
``unbind_port``, ``report_agent``, the ``network.changed`` events, and race-free IPAM."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from onestack.common import migrations
from onestack.common.bus import MemoryBus
from onestack.common.db import Database
from onestack.config import NetworkSettings
from onestack.network.drivers import base as d
from onestack.network.drivers.base import HostState, PortStatus
from onestack.network.service import Caller, NetworkService
from onestack.network.service.base import retrying

VERSIONS = Path(__file__).resolve().parents[2] / "src/onestack/network/migrations/versions"
HOST = "host-a"
ADMIN = Caller(project_id="p-admin", is_admin=True)
ALICE = Caller(project_id="p-alice")


@pytest.fixture
async def svc(tmp_path: Path) -> AsyncIterator[NetworkService]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'net.db'}")
    await migrations.upgrade(db.engine, [VERSIONS])
    bus = MemoryBus()
    service = NetworkService(db, bus, NetworkSettings(), HOST)
    await service.ensure_public_network("public", "10.199.0.0/24", "public", "p-admin")
    yield service
    await bus.stop()
    await db.close()


async def topology(svc: NetworkService) -> dict[str, Any]:
    net = await svc.networks.create(ALICE, {"name": "private"})
    sub = await svc.subnets.create(
        ALICE, {"network_id": net.id, "ip_version": 4, "cidr": "10.42.0.0/24"}
    )
    vm = await svc.ports.create(ALICE, {"network_id": net.id, "name": "vm"})
    router = await svc.routers.create(ALICE, {"name": "r1"})
    public = (await svc.list_page("networks", ADMIN, _q(name=["public"])))[0][0]
    await svc.routers.update(
        ALICE, router.id, {"external_gateway_info": {"network_id": public["id"]}}
    )
    await svc.routers.add_interface(ALICE, router.id, {"subnet_id": sub.id})
    fip = await svc.floating_ips.create(
        ALICE, {"floating_network_id": public["id"], "port_id": vm.id}
    )
    return {"net": net, "sub": sub, "vm": vm, "router": router, "fip": fip, "public": public}


def _q(**filters: list[str]) -> Any:
    from onestack.network.service import ListQuery

    return ListQuery(filters=filters)


async def test_host_state_of_the_one_host(svc: NetworkService) -> None:
    t = await topology(svc)
    await svc.bind_port(t["vm"].id, host=HOST, device_id="server-1", device_owner="compute:nova")
    state = await svc.host_state(HOST)
    assert isinstance(state, HostState)
    assert [p.id for p in state.ports] == [t["vm"].id]
    vm = state.ports[0]
    assert vm.device_owner == "compute:nova" and vm.hostname == "host-10-42-0-3"
    assert vm.fixed_ips[0].ip_address == "10.42.0.3" and len(vm.security_group_ids) == 1
    # DHCP: one port on the private network, at the first address.
    assert [(p.network_id, p.fixed_ips[0].ip_address) for p in state.dhcp_ports] == [
        (t["net"].id, "10.42.0.2")
    ]
    assert state.dhcp_ports[0].device_id.startswith("dhcp") and state.dhcp_ports[
        0
    ].device_id.endswith(t["net"].id)
    nets = {n.id: n for n in state.networks}
    assert set(nets) == {t["net"].id, t["public"]["id"]}
    assert nets[t["net"].id].network_type == "vxlan" and nets[t["net"].id].segmentation_id == 1
    assert nets[t["net"].id].mtu == 1450 and nets[t["public"]["id"]].external
    assert nets[t["public"]["id"]].physical_network == "public"
    assert [s.cidr for s in nets[t["net"].id].subnets] == ["10.42.0.0/24"]
    # Every port of the served network, for the DHCP host file.
    served = {p.device_owner for p in state.network_ports[t["net"].id]}
    assert served == {"network:dhcp", "compute:nova", "network:router_interface"}
    # The router with its gateway, interface and floating IP.
    (router,) = state.routers
    assert router.gateway is not None and router.gateway.network_id == t["public"]["id"]
    assert router.gateway.enable_snat
    assert [i.fixed_ips[0].ip_address for i in router.interfaces] == ["10.42.0.1"]
    (fip,) = router.floating_ips
    assert (fip.fixed_ip_address, fip.port_id) == ("10.42.0.3", t["vm"].id)
    assert fip.floating_ip_address == t["fip"].floating_ip_address
    # The default group: its members and its rules.
    (group,) = state.security_groups
    assert group.member_ips == ("10.42.0.3",)
    rules = sorted((r.direction, r.ethertype, r.remote_group_id == group.id) for r in group.rules)
    assert rules == [
        ("egress", "IPv4", False), ("egress", "IPv6", False),
        ("ingress", "IPv4", True), ("ingress", "IPv6", True),
    ]  # fmt: skip


async def test_port_forwardings_go_to_the_router_owning_their_floating_ip(
    svc: NetworkService,
) -> None:
    t = await topology(svc)
    # A second router on the same external network, routing another subnet only.
    other_net = await svc.networks.create(ALICE, {"name": "other"})
    other_sub = await svc.subnets.create(
        ALICE, {"network_id": other_net.id, "ip_version": 4, "cidr": "10.43.0.0/24"}
    )
    other = await svc.routers.create(ALICE, {"name": "r2"})
    gw = {"external_gateway_info": {"network_id": t["public"]["id"]}}
    await svc.routers.update(ALICE, other.id, gw)
    await svc.routers.add_interface(ALICE, other.id, {"subnet_id": other_sub.id})
    web = await svc.ports.create(ALICE, {"network_id": t["net"].id, "name": "web"})
    (fixed,) = web.fixed_ips
    fip = await svc.floating_ips.create(ALICE, {"floating_network_id": t["public"]["id"]})
    pf = await svc.floating_ips.create_forwarding(
        ALICE,
        fip.id,
        {"internal_port_id": web.id, "internal_ip_address": fixed.ip_address,
         "internal_port": 80, "external_port": 8080, "protocol": "TCP"},
    )  # fmt: skip
    routers = {r.id: r for r in (await svc.host_state(HOST)).routers}
    assert routers[other.id].port_forwardings == ()
    (got,) = routers[t["router"].id].port_forwardings
    assert got == d.PortForwarding(
        pf.id, fip.floating_ip_address, "tcp", 8080, fixed.ip_address, 80
    )
    # The associated floating IP is still the only plain one: a forwarding one has no port.
    assert [f.id for f in routers[t["router"].id].floating_ips] == [t["fip"].id]
    # Without the router's interface on the subnet, no router carries it.
    await svc.floating_ips.update(ALICE, t["fip"].id, {"port_id": None})
    await svc.routers.remove_interface(ALICE, t["router"].id, {"subnet_id": t["sub"].id})
    routers = {r.id: r for r in (await svc.host_state(HOST)).routers}
    assert all(r.port_forwardings == () for r in routers.values())
    await svc.routers.add_interface(ALICE, t["router"].id, {"subnet_id": t["sub"].id})
    assert len((await svc.host_state(HOST)).routers[0].port_forwardings) == 1
    await svc.floating_ips.delete_forwarding(ALICE, fip.id, pf.id)
    assert all(r.port_forwardings == () for r in (await svc.host_state(HOST)).routers)


async def test_routers_carry_their_projects_and_the_shared_metering_labels(
    svc: NetworkService,
) -> None:
    t = await topology(svc)
    admin = Caller(project_id="p-admin", is_admin=True)
    mine = await svc.metering.create_label(admin, {"name": "m", "project_id": "p-alice"})
    await svc.metering.create_rule(
        admin,
        {"metering_label_id": mine.id, "direction": "egress", "remote_ip_prefix": "0.0.0.0/0"},
    )
    await svc.metering.create_rule(
        admin,
        {"metering_label_id": mine.id, "direction": "ingress", "excluded": True,
         "source_ip_prefix": "10.1.0.0/16"},
    )  # fmt: skip
    shared = await svc.metering.create_label(admin, {"name": "s", "shared": True})
    await svc.metering.create_label(admin, {"name": "theirs", "project_id": "p-bob"})
    (router,) = (await svc.host_state(HOST)).routers
    assert router.id == t["router"].id
    by_id = {x.id: x for x in router.metering_labels}
    assert set(by_id) == {mine.id, shared.id}
    assert sorted(by_id[mine.id].rules, key=lambda r: r.direction) == [
        d.MeteringRule("egress", False, "0.0.0.0/0"),
        d.MeteringRule("ingress", True, None, "10.1.0.0/16"),
    ]
    assert by_id[shared.id].shared and by_id[shared.id].rules == ()
    # Without a gateway, nothing to count across.
    await svc.floating_ips.update(ALICE, t["fip"].id, {"port_id": None})
    await svc.routers.update(ALICE, t["router"].id, {"external_gateway_info": {}})
    assert (await svc.host_state(HOST)).routers[0].metering_labels == ()


async def test_other_hosts_get_only_their_ports(svc: NetworkService) -> None:
    t = await topology(svc)
    await svc.bind_port(t["vm"].id, host="host-b", device_id="s", device_owner="compute:nova")
    state = await svc.host_state("host-b")
    assert [p.id for p in state.ports] == [t["vm"].id]
    assert state.routers == () and state.dhcp_ports == ()
    assert [n.id for n in state.networks] == [t["net"].id]
    assert (await svc.host_state(HOST)).ports == ()


async def test_new_ports_added_to_the_last_state_match_a_full_read(svc: NetworkService) -> None:
    """The incremental round's state (``host_state_with``): the last state with the ports just
    created is what reading the whole host gives, for a port on this host, one on another
    host in a network served here (its DHCP host), and a port with an address pair (its
    group's members)."""
    events: list[dict[str, Any]] = []

    async def seen(_type: str, payload: dict[str, Any]) -> None:
        events.append(payload)

    svc.ctx.bus.subscribe("network.changed", seen)
    t = await topology(svc)
    await svc.bind_port(t["vm"].id, host=HOST, device_id="server-1", device_owner="compute:nova")
    last = await svc.host_state(HOST)
    net = t["net"].id

    async def vm(host: str, **extra: Any) -> str:
        body = {"network_id": net, "project_id": ALICE.project_id, "binding_host_id": host,
                "device_id": f"srv-{len(events)}", "device_owner": "compute:nova"}  # fmt: skip
        body.update(extra)
        return (await svc.ports.create(ADMIN, body)).id

    mine = await vm(HOST)
    await asyncio.sleep(0)
    assert events[-1] == {"host": HOST, "created_ports": [mine]}
    added = await svc.host_state_with(last, [mine])
    assert added == await svc.host_state(HOST)
    assert added is not None and mine in [p.id for p in added.ports]
    assert len(added.security_groups[0].member_ips) == 2  # the default group: both VMs
    # Two ports at once, one elsewhere (a DHCP host here), one with an address pair.
    elsewhere = await vm("host-b")
    paired = await vm(HOST, allowed_address_pairs=[{"ip_address": "10.42.0.200"}])
    both = await svc.host_state_with(added, [paired, elsewhere])
    assert both == await svc.host_state(HOST)
    assert both is not None and elsewhere in [p.id for p in both.network_ports[net]]
    assert "10.42.0.200" in both.security_groups[0].member_ips
    # Applying it twice (a full round read the port before its event came) changes nothing.
    assert await svc.host_state_with(both, [paired]) == both


async def test_new_ports_the_last_state_cannot_take_ask_for_a_full_read(
    svc: NetworkService,
) -> None:
    """A port gone again, a network-owned port, a port on a network or in a group the host
    does not carry yet: ``host_state_with`` answers None (the agent reads it all)."""
    t = await topology(svc)
    last = await svc.host_state(HOST)
    body = {"project_id": ALICE.project_id, "binding_host_id": HOST,
            "device_owner": "compute:nova"}  # fmt: skip
    gone = await svc.ports.create(ADMIN, {**body, "network_id": t["net"].id, "device_id": "a"})
    await svc.ports.delete(ADMIN, gone.id, internal=True)
    assert await svc.host_state_with(last, [gone.id]) is None
    other = await svc.networks.create(ALICE, {"name": "other"})
    await svc.subnets.create(
        ALICE, {"network_id": other.id, "ip_version": 4, "cidr": "10.43.0.0/24"}
    )
    new_net = await svc.ports.create(ADMIN, {**body, "network_id": other.id, "device_id": "b"})
    assert await svc.host_state_with(last, [new_net.id]) is None
    group = await svc.security_groups.create(ALICE, {"name": "web"})
    grouped = await svc.ports.create(
        ADMIN,
        {**body, "network_id": t["net"].id, "device_id": "c", "security_groups": [group.id]},
    )
    assert await svc.host_state_with(last, [grouped.id]) is None
    dhcp = [p.id for p in (await svc.host_state(HOST)).dhcp_ports]
    assert await svc.host_state_with(last, dhcp) is None


async def test_statuses_bindings_and_events(svc: NetworkService) -> None:
    events: list[dict[str, Any]] = []

    async def seen(_type: str, payload: dict[str, Any]) -> None:
        events.append(payload)

    svc.ctx.bus.subscribe("network.changed", seen)
    t = await topology(svc)
    port_id = t["vm"].id
    bound = await svc.bind_port(port_id, host=HOST, device_id="srv", device_owner="compute:nova")
    assert bound["binding:host_id"] == HOST and bound["device_id"] == "srv"
    await asyncio.sleep(0)
    assert {"host": HOST} in events
    await svc.set_port_statuses(HOST, [PortStatus(port_id, "ACTIVE")])
    shown = await svc.show("ports", ADMIN, port_id)
    assert shown["status"] == "ACTIVE" and shown["binding:vif_type"] == "bridge"
    await svc.set_port_statuses(HOST, [PortStatus(port_id, "ERROR")])
    assert (await svc.show("ports", ADMIN, port_id))["binding:vif_type"] == "binding_failed"
    found = await svc.port_for_address(t["net"].id, "10.42.0.3")
    assert found is not None and found.id == port_id and found.device_id == "srv"
    assert await svc.port_for_address(t["net"].id, "10.42.0.99") is None
    await svc.unbind_port(port_id)
    shown = await svc.show("ports", ADMIN, port_id)
    assert (shown["binding:host_id"], shown["device_id"], shown["status"]) == ("", "", "DOWN")
    assert shown["binding:vif_type"] == "unbound"


async def test_report_agent_creates_then_refreshes(svc: NetworkService) -> None:
    first = await svc.report_agent(HOST, "Linux bridge agent", "onestack-agent", {"devices": 1})
    again = await svc.report_agent(HOST, "Linux bridge agent", "onestack-agent", {"devices": 2})
    assert first["id"] == again["id"] and again["alive"] is True
    listed, _ = await svc.list_page("agents", ADMIN, _q())
    assert [(a["host"], a["configurations"]) for a in listed] == [(HOST, {"devices": 2})]


async def test_concurrent_port_creates_never_share_an_address(svc: NetworkService) -> None:
    net = await svc.networks.create(ALICE, {"name": "busy"})
    await svc.subnets.create(
        ALICE, {"network_id": net.id, "ip_version": 4, "cidr": "10.50.0.0/24", "enable_dhcp": False}
    )

    async def one() -> str:
        port = await retrying(lambda: svc.ports.create(ALICE, {"network_id": net.id}))
        return port.fixed_ips[0].ip_address

    addresses = await asyncio.gather(*[one() for _ in range(20)])
    assert len(set(addresses)) == 20


async def test_only_the_routers_project_plugs_interfaces_into_it(svc: NetworkService) -> None:
    """``device_owner``/``device_id`` are a port's own say-so: a port of another project that
    names a router is no interface of it (Neutron keeps router ports in their own table)."""
    from onestack.network import errors as nerr

    t = await topology(svc)
    bob = Caller(project_id="p-bob")
    net = await svc.networks.create(bob, {"name": "bob"})
    await svc.subnets.create(bob, {"network_id": net.id, "ip_version": 4, "cidr": "10.43.0.0/24"})
    spoof = {"network_id": net.id, "device_owner": "network:router_interface",
             "device_id": t["router"].id}  # fmt: skip
    with pytest.raises(nerr.DeviceIDNotOwnedByTenant):
        await svc.ports.create(bob, spoof)
    # Even a port made so by an admin in bob's project stays out of alice's router.
    await svc.ports.create(ADMIN, {**spoof, "project_id": "p-bob"})
    (router,) = (await svc.host_state(HOST)).routers
    assert [i.fixed_ips[0].ip_address for i in router.interfaces] == ["10.42.0.1"]


async def test_device_addresses_match_the_port_lists(svc: NetworkService) -> None:
    t = await topology(svc)
    other = await svc.networks.create(ALICE, {"name": ""})  # no name: shown by its id
    await svc.subnets.create(
        ALICE, {"network_id": other.id, "ip_version": 4, "cidr": "10.43.0.0/24"}
    )
    second = await svc.ports.create(ALICE, {"network_id": other.id})
    bare = await svc.ports.create(ALICE, {"network_id": t["net"].id, "fixed_ips": []})
    for port in (t["vm"], second):
        await svc.bind_port(port.id, host=HOST, device_id="server-1", device_owner="compute:n")
    await svc.bind_port(bare.id, host=HOST, device_id="server-2", device_owner="compute:n")

    got = await svc.device_addresses(["server-1", "server-2", "server-3"])

    # What compute built from the generic lists before: ports by creation (to the second),
    # then id; the network's name or id; the floating IPs by id.
    ports = (await svc.list_page("ports", ADMIN, _q(device_id=["server-1", "server-2"])))[0]
    fips = (await svc.list_page("floatingips", ADMIN, _q()))[0]
    names = {n["id"]: n["name"] for n in (await svc.list_page("networks", ADMIN, _q()))[0]}
    groups = {g["id"]: g["name"] for g in (await svc.list_page("security-groups", ADMIN, _q()))[0]}
    want: dict[str, list[dict[str, Any]]] = {}
    for p in sorted(ports, key=lambda p: p["created_at"]):
        want.setdefault(p["device_id"], []).append(
            {
                "id": p["id"],
                "device_id": p["device_id"],
                "network_id": p["network_id"],
                "network_name": names[p["network_id"]] or p["network_id"],
                "mac_address": p["mac_address"],
                "fixed_ips": p["fixed_ips"],
                "floating_ips": [
                    {"floating_ip_address": f["floating_ip_address"]}
                    for f in fips
                    if f["port_id"] == p["id"]
                ],
                "security_groups": sorted(groups[g] for g in p["security_groups"]),
            }
        )
    assert got == want
    by_id = {p["id"]: p for p in got["server-1"]}
    assert by_id[t["vm"].id]["floating_ips"] == [
        {"floating_ip_address": t["fip"].floating_ip_address}
    ]
    assert by_id[t["vm"].id]["network_name"] == "private"
    assert by_id[second.id]["network_name"] == other.id and by_id[second.id]["floating_ips"] == []
    assert got["server-2"][0]["fixed_ips"] == []
    assert await svc.device_addresses([]) == {}


async def test_port_status_of_a_port_deleted_meanwhile_is_not_an_error(
    svc: NetworkService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The agent's status report races port deletion: the UPDATE of a port deleted after it
    was read raises StaleDataError; the report is read again and applied to what is left."""
    from sqlalchemy.orm.exc import StaleDataError

    t = await topology(svc)
    port_id = t["vm"].id
    await svc.bind_port(port_id, host=HOST, device_id="srv", device_owner="compute:nova")
    real = svc._apply_port_statuses
    calls: list[int] = []

    async def racing(statuses: list[PortStatus]) -> dict[str, str]:
        calls.append(1)
        if len(calls) == 1:
            raise StaleDataError("UPDATE statement on table 'network_port' matched 0 rows")
        changed: dict[str, str] = await real(statuses)
        return changed

    monkeypatch.setattr(svc, "_apply_port_statuses", racing)
    await svc.set_port_statuses(HOST, [PortStatus(port_id, "ACTIVE"), PortStatus("gone", "DOWN")])
    assert len(calls) == 2
    assert (await svc.show("ports", ADMIN, port_id))["status"] == "ACTIVE"


async def test_public_network_id_finds_only_the_external_network(svc: NetworkService) -> None:
    """A restart skips picking the public range (reading the host's routes) when it exists."""
    made = await svc.ensure_public_network("public", "10.199.1.0/24", "public", "p-admin")
    assert await svc.public_network_id("public") == made
    assert await svc.public_network_id("elsewhere") is None
    await svc.networks.create(ALICE, {"name": "private-one"})
    assert await svc.public_network_id("private-one") is None  # not external
