"""Conntrack zones end to end: two projects on one host with the very same CIDR and addresses.

  netA 10.86.1.0/24 (vxlan 8601, project A): a1 .11, a2 .12, DHCP .2
  netB 10.86.1.0/24 (vxlan 8602, project B): b1 .11, b2 .12, DHCP .2

The same TCP 4-tuple (10.86.1.11:40000 -> 10.86.1.12:80) lives in both networks at once. With
one shared conntrack table, B's packets would match A's ESTABLISHED entry and pass B's security
group on A's say-so; with a zone per network they are two entries, each network's own rules
decide, and forgetting a revoked flow of A leaves B's identical flow alone.
"""

from __future__ import annotations

import asyncio
import random
import re
import shutil
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import pytest_asyncio

from onestack.network.drivers.base import (
    FixedIP,
    HostState,
    Network,
    Port,
    SecurityGroup,
    SecurityGroupRule,
    Subnet,
)
from onestack.network.drivers.linuxbridge import DriverOptions, LinuxBridgeDriver
from onestack.network.drivers.linuxbridge.firewall import Firewall
from onestack.network.drivers.linuxbridge.zones import preferred_zone
from tests.support.guests import (
    DATAPLANE_MARKS,
    MetadataStandIn,
    add_guest,
    device_prefix,
    dhcp,
    must,
    owned_leftovers,
    ping,
    sh,
    start_listening,
)

pytestmark = [*DATAPLANE_MARKS]

PREFIX = device_prefix("k")
FOREIGN = f"test-{PREFIX}-zone"  # a raw chain standing for another user of conntrack zones
SECRET = "test-secret-" + uuid.uuid4().hex
CIDR, GATEWAY = "10.86.1.0/24", "10.86.1.1"
CLIENT, SERVER, SOURCE_PORT = "10.86.1.11", "10.86.1.12", 40000

# Accepts, greets, and holds every connection open (the flow stays ESTABLISHED).
HOLDING_SERVER = (
    "import socket\n"
    "s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
    "s.bind(('0.0.0.0', 80)); s.listen(); held=[]; print('listening', flush=True)\n"
    "while True:\n"
    "    c,a=s.accept(); c.sendall(('hello '+a[0]).encode()); held.append(c)\n"
)
# Connects from a fixed source port, prints the greeting ('' if none), then holds on.
HOLDING_CLIENT = (
    "import socket,sys,time\n"
    "s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
    "s.bind(('0.0.0.0', int(sys.argv[2]))); s.settimeout(2)\n"
    "try:\n"
    "    s.connect((sys.argv[1], 80)); print(s.recv(100).decode(), flush=True)\n"
    "except OSError:\n"
    "    print('', flush=True); sys.exit(1)\n"
    "time.sleep(120)\n"
)


def new_id() -> str:
    return str(uuid.uuid4())


def mac() -> str:
    return "fa:16:3e:" + ":".join(f"{random.randrange(256):02x}" for _ in range(3))


@dataclass
class Project:
    """One project's network, subnet, group and ports: the same addresses in both projects."""

    vni: int
    project: str = field(default_factory=new_id)
    net: str = field(default_factory=new_id)
    sub: str = field(default_factory=new_id)
    sg: str = field(default_factory=new_id)
    ports: dict[str, Port] = field(default_factory=dict)

    def __post_init__(self) -> None:
        def port(ip: str, owner: str) -> Port:
            vm = owner.startswith("compute")
            return Port(
                new_id(), self.net, self.project, mac(), (FixedIP(self.sub, ip),), owner,
                new_id(), security_group_ids=(self.sg,) if vm else (), port_security_enabled=vm,
            )  # fmt: skip

        self.ports = {
            "client": port(CLIENT, "compute:nova"),
            "server": port(SERVER, "compute:nova"),
            "dhcp": port("10.86.1.2", "network:dhcp"),
        }

    def network(self) -> Network:
        subnet = Subnet(self.sub, self.net, CIDR, 4, GATEWAY, True)
        return Network(
            self.net, self.project, "vxlan", self.vni, None, 1450, False, True, (subnet,)
        )

    def group(self, web: bool) -> SecurityGroup:
        rules = [
            SecurityGroupRule(f"icmp-{self.sg}", "ingress", "IPv4", "icmp"),
            SecurityGroupRule(f"out-{self.sg}", "egress", "IPv4", None),
        ]
        if web:
            rules.append(SecurityGroupRule(f"web-{self.sg}", "ingress", "IPv4", "tcp", 80, 80))
        return SecurityGroup(self.sg, tuple(rules))


def host_state(a: Project, b: Project, *, web_a: bool, web_b: bool) -> HostState:
    vms = [p for x in (a, b) for k, p in x.ports.items() if k != "dhcp"]
    return HostState(
        host="e2e-zones",
        networks=(a.network(), b.network()),
        ports=tuple(vms),
        dhcp_ports=(a.ports["dhcp"], b.ports["dhcp"]),
        security_groups=(a.group(web_a), b.group(web_b)),
        network_ports={x.net: tuple(x.ports.values()) for x in (a, b)},
    )


@dataclass
class Lab:
    a: Project
    b: Project
    driver: LinuxBridgeDriver
    guests: dict[str, str]  # "a-client" ... -> namespace
    tmp: Path
    procs: list[asyncio.subprocess.Process] = field(default_factory=list)

    async def apply(self, *, web_a: bool = True, web_b: bool = False) -> HostState:
        state = host_state(self.a, self.b, web_a=web_a, web_b=web_b)
        statuses = await self.driver.apply(state)
        assert {s.status for s in statuses} == {"ACTIVE"}
        return state

    def zone(self, project: Project) -> int:
        return self.driver.firewall.zone(project.net)

    async def stop(self) -> None:
        for proc in self.procs:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        self.procs.clear()

    async def serve(self, guest: str) -> None:
        argv = [sys.executable, "-c", HOLDING_SERVER]
        self.procs.append(await start_listening(self.guests[guest], *argv))

    async def hold_connection(self, guest: str) -> str:
        """Connect from CLIENT:SOURCE_PORT to SERVER:80 and keep the flow open."""
        argv = ["ip", "netns", "exec", self.guests[guest], sys.executable, "-c", HOLDING_CLIENT]
        proc = await asyncio.create_subprocess_exec(
            *argv, SERVER, str(SOURCE_PORT), stdout=asyncio.subprocess.PIPE
        )
        self.procs.append(proc)
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 10)
        return line.decode().strip()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def lab(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Lab]:
    tmp = tmp_path_factory.mktemp("zones")
    a, b = Project(8601), Project(8602)
    metadata = MetadataStandIn(SECRET)
    await metadata.start()
    run_dir = Path(f"/run/onestack-test/{PREFIX}")
    driver = LinuxBridgeDriver(
        DriverOptions(
            prefix=PREFIX, run_dir=run_dir, metadata_url=metadata.url, metadata_secret=SECRET
        )
    )
    guests: dict[str, str] = {}
    lab = Lab(a, b, driver, guests, tmp)
    # Another user of the host holds B's preferred zone: B is given another one.
    await must("iptables", "-t", "raw", "-N", FOREIGN)
    try:
        await must("iptables", "-t", "raw", "-A", FOREIGN, "-j", "CT", "--zone",
                   str(preferred_zone(b.net)))  # fmt: skip
        for name, project in (("a", a), ("b", b)):
            for role in ("client", "server"):
                ns = f"test-{PREFIX}-{name}-{role}"
                port = project.ports[role]
                guests[f"{name}-{role}"] = ns
                await add_guest(ns, driver.tap_name(port.id), port.mac_address)
        await lab.apply()
        yield lab
    finally:
        await lab.stop()
        await driver.teardown()
        await sh("iptables", "-t", "raw", "-F", FOREIGN)
        await sh("iptables", "-t", "raw", "-X", FOREIGN)
        for ns in guests.values():
            await sh("ip", "netns", "del", ns)
        metadata.close()
        shutil.rmtree(run_dir, ignore_errors=True)


def flows(text: str) -> list[str]:
    """The conntrack lines of our TCP 4-tuple."""
    return [
        line
        for line in text.splitlines()
        if f"src={CLIENT} dst={SERVER} sport={SOURCE_PORT} dport=80 " in line
    ]


async def conntrack_flows(zone: int) -> list[str]:
    argv = ("conntrack", "-L", "-w", str(zone), "-p", "tcp", "--dport", "80")
    return flows((await sh(*argv)).out)


# -- the tests, in order -------------------------------------------------------------------------
async def test_each_network_has_its_own_zone_and_raw_rules(lab: Lab) -> None:
    za, zb = lab.zone(lab.a), lab.zone(lab.b)
    assert za != zb and 1 <= za <= 65535 and 1 <= zb <= 65535
    raw = await must("iptables-save", "-t", "raw")
    names, chain = lab.driver.names, lab.driver.names.zone_chain
    assert f"-A PREROUTING -j {chain}" in raw
    assert f"-A OUTPUT -j {names.zone_output_chain}" in raw
    for project, zone in ((lab.a, za), (lab.b, zb)):
        assert f"-A {chain} -i {names.bridge(project.net)} -j CT --zone {zone}" in raw
    assert f"-A {chain} -i {names.bridge(lab.a.net)}" in await must("ip6tables-save", "-t", "raw")


async def test_both_networks_work_with_the_same_addresses(lab: Lab) -> None:
    for name in ("a", "b"):
        for role, ip in (("client", CLIENT), ("server", SERVER)):
            lease = await dhcp(lab.guests[f"{name}-{role}"], lab.tmp)
            assert lease["ip"] == ip
        assert await ping(lab.guests[f"{name}-client"], SERVER)
        assert await ping(lab.guests[f"{name}-server"], CLIENT)


async def test_the_same_flow_in_two_networks_is_two_entries_in_two_zones(lab: Lab) -> None:
    za, zb = lab.zone(lab.a), lab.zone(lab.b)
    await lab.serve("a-server")
    await lab.serve("b-server")
    # A's group admits TCP 80: the flow is ESTABLISHED in A's zone, and only there.
    assert await lab.hold_connection("a-client") == f"hello {CLIENT}"
    held = await conntrack_flows(za)
    assert len(held) == 1 and "ESTABLISHED" in held[0] and f"zone={za}" in held[0]
    assert await conntrack_flows(zb) == []
    # B's group does not: the very same 4-tuple in B finds no entry to ride on and is dropped.
    assert await lab.hold_connection("b-client") == ""
    # Opened in B, the same 4-tuple is a second flow, in B's zone.
    await lab.apply(web_b=True)
    assert await lab.hold_connection("b-client") == f"hello {CLIENT}"
    assert len(await conntrack_flows(za)) == 1
    in_b = await conntrack_flows(zb)
    assert len(in_b) == 1 and "ESTABLISHED" in in_b[0] and f"zone={zb}" in in_b[0]
    both = flows(await must("conntrack", "-L", "-p", "tcp", "--dport", "80"))
    assert sorted(re.findall(r"zone=(\d+)", "\n".join(both))) == sorted([str(za), str(zb)])


async def test_revoking_a_rule_forgets_flows_in_that_network_only(lab: Lab) -> None:
    await lab.apply(web_a=False, web_b=True)
    # A's flow had been let in by the removed rule: forgotten. B's identical flow stays.
    assert await conntrack_flows(lab.zone(lab.a)) == []
    assert len(await conntrack_flows(lab.zone(lab.b))) == 1
    assert await ping(lab.guests["a-client"], SERVER)
    assert await ping(lab.guests["b-client"], SERVER)


async def test_zones_survive_an_agent_restart_as_the_host_carries_them(lab: Lab) -> None:
    """B's zone is not its preferred one (that was taken when B came): a fresh firewall (an
    agent restart), with the other user gone, reads B's zone back from the raw table."""
    za, zb = lab.zone(lab.a), lab.zone(lab.b)
    assert zb != preferred_zone(lab.b.net)
    await must("iptables", "-t", "raw", "-F", FOREIGN)
    await must("iptables", "-t", "raw", "-X", FOREIGN)
    names = lab.driver.names
    restarted = Firewall(names)
    state = host_state(lab.a, lab.b, web_a=False, web_b=True)
    restarted.apply(state, [names.bridge(lab.a.net), names.bridge(lab.b.net)])
    assert (restarted.zone(lab.a.net), restarted.zone(lab.b.net)) == (za, zb)
    # Nothing was cut: B's flow is still tracked in its zone, both networks still work.
    assert len(await conntrack_flows(zb)) == 1
    assert await ping(lab.guests["a-client"], SERVER)
    assert await ping(lab.guests["b-client"], SERVER)


async def test_teardown_leaves_nothing_behind(lab: Lab) -> None:
    za, zb = lab.zone(lab.a), lab.zone(lab.b)
    await lab.stop()
    await lab.driver.teardown()
    assert owned_leftovers(PREFIX) == []
    for zone in (za, zb):
        listed = await sh("conntrack", "-L", "-w", str(zone))
        assert f"zone={zone} " not in listed.out
    assert "PREROUTING" in await must("iptables", "-t", "raw", "-S", "PREROUTING")
