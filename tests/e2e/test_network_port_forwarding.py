"""Floating IP port forwarding end to end: one forwarded port of a floating IP reaches a guest
that has no floating IP of its own, through the router namespace's DNAT.

  net 10.87.1.0/24 (vxlan 8701): web .11 (serves TCP 80, its group admits it), router .1
  public 10.88.0.0/24 (flat, external): host side .1, router gateway .10,
      floating IP .30 with no port: 10.88.0.30:8080/tcp -> 10.87.1.11:80

The guest is a namespace wired like a QEMU tap (``tests/support/guests.py``) with a static
address; the driver is handed hand-built ``HostState`` values directly.
"""

from __future__ import annotations

import random
import shutil
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest_asyncio

from onestack.network.drivers.base import (
    FixedIP,
    HostState,
    Network,
    Port,
    PortForwarding,
    Router,
    RouterGateway,
    SecurityGroup,
    SecurityGroupRule,
    Subnet,
)
from onestack.network.drivers.linuxbridge import DriverOptions, LinuxBridgeDriver
from onestack.network.drivers.linuxbridge.names import Names
from tests.support.guests import (
    DATAPLANE_MARKS,
    add_guest,
    connect,
    device_prefix,
    must,
    owned_leftovers,
    sh,
    start_greeter,
)

pytestmark = [*DATAPLANE_MARKS]

PREFIX = device_prefix("f")
HOST = "e2e-pf-host"
WEB, FIP, HOST_SIDE, GATEWAY = "10.87.1.11", "10.88.0.30", "10.88.0.1", "10.88.0.10"


def new_id() -> str:
    return str(uuid.uuid4())


def mac() -> str:
    return "fa:16:3e:" + ":".join(f"{random.randrange(256):02x}" for _ in range(3))


@dataclass
class World:
    project: str
    net: str
    sub: str
    public: str
    sub_pub: str
    router: str
    sg: str
    web: Port
    rtr: Port
    rtr_gw: Port

    @classmethod
    def make(cls) -> World:
        project, net, sub, public, sub_pub, sg = (new_id() for _ in range(6))
        web = Port(
            new_id(), net, project, mac(), (FixedIP(sub, WEB),), "compute:nova",
            "instance-web", security_group_ids=(sg,), hostname="web",
        )  # fmt: skip
        rtr = Port(
            new_id(), net, project, mac(), (FixedIP(sub, "10.87.1.1"),),
            "network:router_interface", new_id(), port_security_enabled=False,
        )  # fmt: skip
        rtr_gw = Port(
            new_id(), public, "", mac(), (FixedIP(sub_pub, GATEWAY),),
            "network:router_gateway", new_id(), port_security_enabled=False,
        )  # fmt: skip
        return cls(project, net, sub, public, sub_pub, new_id(), sg, web, rtr, rtr_gw)

    def forwarding(self, external_port: int = 8080) -> PortForwarding:
        return PortForwarding("pf-" + self.router[:8], FIP, "tcp", external_port, WEB, 80)

    def state(self, *forwardings: PortForwarding) -> HostState:
        net = Network(
            self.net, self.project, "vxlan", 8701, None, 1450, False, True,
            (Subnet(self.sub, self.net, "10.87.1.0/24", 4, "10.87.1.1", False),),
        )  # fmt: skip
        public = Network(
            self.public, "", "flat", None, "public", 1500, True, True,
            (Subnet(self.sub_pub, self.public, "10.88.0.0/24", 4, HOST_SIDE, False),),
        )  # fmt: skip
        group = SecurityGroup(
            self.sg,
            (
                SecurityGroupRule(new_id(), "egress", "IPv4", None),
                SecurityGroupRule(
                    new_id(), "ingress", "IPv4", "tcp", 80, 80, remote_ip_prefix="0.0.0.0/0"
                ),
            ),
            member_ips=(WEB,),
        )
        router = Router(
            self.router, self.project, True, RouterGateway(self.public, self.rtr_gw, True),
            (self.rtr,), port_forwardings=forwardings,
        )  # fmt: skip
        return HostState(
            host=HOST,
            networks=(net, public),
            ports=(self.web,),
            routers=(router,),
            security_groups=(group,),
        )


@dataclass
class Lab:
    world: World
    driver: LinuxBridgeDriver
    guest: str  # the web guest's namespace

    @property
    def router_ns(self) -> str:
        return self.driver.names.router_ns(self.world.router)

    async def converge(self, state: HostState) -> None:
        statuses = await self.driver.apply(state)
        assert {s.port_id: s.status for s in statuses} == {
            p.id: "ACTIVE" for p in (self.world.web, self.world.rtr, self.world.rtr_gw)
        }

    async def gateway_addresses(self) -> str:
        qg = Names.gateway_inner(self.world.rtr_gw.id)
        return await must("ip", "-4", "-o", "addr", "show", "dev", qg, netns=self.router_ns)

    async def flows_to_fip(self, port: int) -> str:
        listed = await sh(
            "conntrack", "-L", "-p", "tcp", "--orig-dst", FIP, "--orig-port-dst", str(port),
            netns=self.router_ns,
        )  # fmt: skip
        return listed.out


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def lab() -> AsyncIterator[Lab]:
    world = World.make()
    run_dir = Path(f"/run/onestack-test/{PREFIX}")
    driver = LinuxBridgeDriver(DriverOptions(prefix=PREFIX, run_dir=run_dir))
    guest = f"test-{PREFIX}-web"
    try:
        await add_guest(guest, driver.tap_name(world.web.id), world.web.mac_address)
        await must("ip", "addr", "add", f"{WEB}/24", "dev", "eth0", netns=guest)
        await must("ip", "route", "add", "default", "via", "10.87.1.1", netns=guest)
        lab = Lab(world, driver, guest)
        await lab.converge(world.state())
        yield lab
    finally:
        await driver.teardown()
        await sh("ip", "netns", "del", guest)
        shutil.rmtree(run_dir, ignore_errors=True)


async def test_without_a_forwarding_the_guest_is_unreachable_from_outside(lab: Lab) -> None:
    server = await start_greeter(lab.guest, 80)
    try:
        # The guest serves, and its group admits TCP 80 (seen from its router).
        assert await connect(WEB, 80, lab.router_ns) == "hello 10.87.1.1"
        assert await connect(FIP, 8080, None) == ""
        assert FIP not in await lab.gateway_addresses()
    finally:
        server.kill()
        await server.wait()


async def test_forwarded_port_reaches_the_guest_and_only_that_port(lab: Lab) -> None:
    server = await start_greeter(lab.guest, 80)
    try:
        await lab.converge(lab.world.state(lab.world.forwarding()))
        # The floating IP is held by the gateway though no port carries it.
        assert f"{FIP}/32" in await lab.gateway_addresses()
        # From the host on the external network: to the guest, the host's own address seen.
        assert await connect(FIP, 8080, None) == f"hello {HOST_SIDE}"
        assert await connect(FIP, 80, None) == ""  # the guest's port itself is not forwarded
        assert await connect(FIP, 8081, None) == ""
        # From the router namespace itself too (OUTPUT), as Neutron's l3 agent renders it;
        # the namespace speaks from the floating IP, the address it was asked for.
        assert await connect(FIP, 8080, lab.router_ns) == f"hello {FIP}"
    finally:
        server.kill()
        await server.wait()


async def test_the_guest_leaves_by_the_routers_address_not_the_floating_ip(lab: Lab) -> None:
    port = random.randrange(20000, 30000)
    server = await start_greeter(None, port)  # on the host, at 10.88.0.1
    try:
        assert await connect(HOST_SIDE, port, lab.guest) == f"hello {GATEWAY}"
    finally:
        server.kill()
        await server.wait()


async def test_removing_the_forwarding_cuts_it_and_forgets_its_flows(lab: Lab) -> None:
    server = await start_greeter(lab.guest, 80)
    try:
        assert await connect(FIP, 8080, None) == f"hello {HOST_SIDE}"
        # The flows the forwarding translated: their replies come from the guest.
        assert f"src={WEB} " in await lab.flows_to_fip(8080)
        await lab.converge(lab.world.state())
        assert f"src={WEB} " not in await lab.flows_to_fip(8080)
        assert FIP not in await lab.gateway_addresses()
        assert await connect(FIP, 8080, None) == ""
        # And back: the same forwarding on another external port.
        await lab.converge(lab.world.state(lab.world.forwarding(9090)))
        assert await connect(FIP, 9090, None) == f"hello {HOST_SIDE}"
        assert await connect(FIP, 8080, None) == ""
    finally:
        server.kill()
        await server.wait()


async def test_reapplying_the_same_state_reloads_nothing(lab: Lab) -> None:
    state = lab.world.state(lab.world.forwarding(9090))
    await lab.converge(state)
    assert await connect(FIP, 8080, None) == ""  # counted by PREROUTING's policy
    before = await must("iptables-save", "-t", "nat", netns=lab.router_ns)
    assert ":PREROUTING ACCEPT [0:0]" not in before
    await lab.converge(state)
    after = await must("iptables-save", "-t", "nat", netns=lab.router_ns)

    def counters_and_rules(text: str) -> list[str]:
        return [line for line in text.splitlines() if not line.startswith("#")]

    # A reload would zero the packet counters of the chains: they are kept.
    assert counters_and_rules(before) == counters_and_rules(after)
    assert "--to-destination 10.87.1.11:80" in after


async def test_teardown_leaves_nothing_behind(lab: Lab) -> None:
    await lab.driver.teardown()
    assert owned_leftovers(PREFIX) == []
