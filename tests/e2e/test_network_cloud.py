"""Networking end to end through the real cloud: the `openstack` CLI, the API, the agent, and
the Linux bridge data plane, with network namespaces standing in for guests on their taps.

The cloud runs as root with the linuxbridge driver and a device prefix of this module's own.
Project demo builds what a user builds (network, subnet, router to `public`, security group);
admin binds the ports to this host as compute will. Guests take DHCP leases, talk to each other,
stay apart from another project's guests, are reached through a floating IP only while a
security group rule allows it, leave through SNAT, and get their own metadata only.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from onestack.network.drivers.linuxbridge import DriverOptions, LinuxBridgeDriver
from onestack.network.drivers.linuxbridge.names import Names
from tests.conftest import new_cloud
from tests.support.cloud import Cloud
from tests.support.guests import (
    DATAPLANE_MARKS,
    MetadataStandIn,
    add_guest,
    connect,
    device_prefix,
    dhcp,
    http_get,
    owned_leftovers,
    ping,
    sh,
    start_greeter,
)

pytestmark = [*DATAPLANE_MARKS, pytest.mark.cli]

PREFIX = device_prefix("y")
SECRET = "e2e-secret-" + uuid.uuid4().hex
HOST = f"e2e-{PREFIX}"


@dataclass
class Guest:
    name: str
    port: dict[str, Any]
    netns: str

    @property
    def ip(self) -> str:
        return str(self.port["fixed_ips"][0]["ip_address"])


@dataclass
class Lab:
    cloud: Cloud
    metadata: MetadataStandIn
    tmp: Path
    ids: dict[str, str] = field(default_factory=dict)
    guests: dict[str, Guest] = field(default_factory=dict)

    def cli(self, *args: str, cloud: str = "onestack") -> Any:
        # Commands that change without showing (set, add, delete) print nothing and take no -f.
        quiet = any(word in ("set", "add", "delete", "unset", "remove") for word in args[:4])
        return self.cloud.openstack(*args, cloud=cloud, json_output=not quiet)

    def demo(self, *args: str) -> Any:
        return self.cli(*args, cloud="onestack-demo")

    def wait_active(self, port_id: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.cli("port", "show", port_id)["status"] == "ACTIVE":
                return
            time.sleep(0.3)
        raise AssertionError(f"port {port_id} never went ACTIVE")

    async def add(self, name: str, network: str, project: str, groups: list[str]) -> Guest:
        """A compute-style port, a guest on its tap, then the binding to this host."""
        args = ["port", "create", "--network", network, "--project", project]
        args += ["--device-owner", "compute:nova", "--device", str(uuid.uuid4())]
        for group in groups:
            args += ["--security-group", group]
        port = self.cli(*args, f"{name}-port")
        netns = f"test-{PREFIX}-{name}"
        await add_guest(netns, Names(PREFIX).tap(port["id"]), port["mac_address"])
        self.guests[name] = Guest(name, port, netns)
        self.cli("port", "set", "--host", HOST, port["id"])
        self.wait_active(port["id"])
        return self.guests[name]


def start_cloud(root: Path, metadata_url: str) -> Cloud:
    cloud = new_cloud(root, None)
    cloud.env.update(
        {
            "ONESTACK_NETWORK_DRIVER": "linuxbridge",
            "ONESTACK_NETWORK_DEVICE_PREFIX": PREFIX,
            "ONESTACK_NETWORK_HOST": HOST,
            "ONESTACK_NETWORK_RUN_DIR": f"/run/onestack-test/{PREFIX}",
            "ONESTACK_NETWORK_METADATA_URL": metadata_url,
            "ONESTACK_NETWORK_METADATA_SECRET": SECRET,
        }
    )
    cloud.start()
    return cloud


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def lab(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Lab]:
    tmp = tmp_path_factory.mktemp("netcloud")
    metadata = MetadataStandIn(SECRET)
    await metadata.start()
    cloud = await asyncio.to_thread(start_cloud, tmp / "cloud", metadata.url)
    lab = Lab(cloud, metadata, tmp)
    try:
        yield lab
    finally:
        cloud.stop()
        await LinuxBridgeDriver(
            DriverOptions(prefix=PREFIX, run_dir=Path(f"/run/onestack-test/{PREFIX}"))
        ).teardown()
        for guest in lab.guests.values():
            await sh("ip", "netns", "del", guest.netns)
        metadata.close()
        shutil.rmtree(f"/run/onestack-test/{PREFIX}", ignore_errors=True)


async def test_a_project_builds_its_network_and_guests_get_their_addresses(lab: Lab) -> None:
    demo_project = lab.cli("project", "show", "demo")["id"]
    admin_project = lab.cli("project", "show", "admin")["id"]
    public = lab.cli("network", "list", "--external")
    assert [n["Name"] for n in public] == ["public"]

    lab.demo("network", "create", "private")
    subnet = lab.demo(
        "subnet", "create", "--network", "private", "--subnet-range", "10.42.0.0/24",
        "--dns-nameserver", "10.42.0.2", "private-subnet",
    )  # fmt: skip
    lab.demo("router", "create", "r1")
    lab.demo("router", "set", "r1", "--external-gateway", "public")
    lab.demo("router", "add", "subnet", "r1", "private-subnet")
    web = lab.demo("security", "group", "create", "web")
    default = lab.demo("security", "group", "show", "default")
    lab.ids.update(subnet=subnet["id"], web=web["id"], demo=demo_project)

    # Another project's network, with a guest of its own.
    lab.cli("network", "create", "--project", admin_project, "other")
    lab.cli(
        "subnet", "create", "--project", admin_project, "--network", "other",
        "--subnet-range", "10.43.0.0/24", "other-subnet",
    )  # fmt: skip
    admin_groups = lab.cli("security", "group", "list", "--project", admin_project)
    admin_default = next(g for g in admin_groups if g["Name"] == "default")

    vm1 = await lab.add("vm1", "private", demo_project, [default["id"], web["id"]])
    vm2 = await lab.add("vm2", "private", demo_project, [default["id"]])
    vm3 = await lab.add("vm3", "other", admin_project, [admin_default["ID"]])

    for guest in (vm1, vm2, vm3):
        lease = await dhcp(guest.netns, lab.tmp)
        assert lease["ip"] == guest.ip, guest.name
    lease = await dhcp(vm1.netns, lab.tmp)
    assert lease["router"] == "10.42.0.1"
    assert lease["staticroutes"].split()[:1] == ["169.254.169.254/32"]


async def test_guests_on_one_network_ping_each_other(lab: Lab) -> None:
    vm1, vm2 = lab.guests["vm1"], lab.guests["vm2"]
    assert await ping(vm1.netns, vm2.ip)
    assert await ping(vm2.netns, vm1.ip)


async def test_another_projects_guest_cannot_reach_them(lab: Lab) -> None:
    vm1, vm3 = lab.guests["vm1"], lab.guests["vm3"]
    assert not await ping(vm3.netns, vm1.ip)
    assert not await ping(vm1.netns, vm3.ip)


async def test_floating_ip_reaches_port_80_only_while_a_rule_allows_it(lab: Lab) -> None:
    vm1 = lab.guests["vm1"]
    fip = lab.demo("floating", "ip", "create", "public")
    lab.demo("floating", "ip", "set", "--port", vm1.port["id"], fip["floating_ip_address"])
    address = fip["floating_ip_address"]
    gateway = lab.cli("subnet", "show", lab.cli("network", "show", "public")["subnets"][0])
    server = await start_greeter(vm1.netns, 80)
    try:
        assert await connect(address, 80, None) == ""  # no rule opens port 80 yet
        rule = lab.demo(
            "security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "80",
            "--remote-ip", "0.0.0.0/0", "web",
        )  # fmt: skip
        assert await eventually(lambda: connect(address, 80, None)) == (
            f"hello {gateway['gateway_ip']}"
        )
        lab.demo("security", "group", "rule", "delete", rule["id"])
        assert await eventually(lambda: connect(address, 80, None), want="") == ""
    finally:
        server.kill()
        await server.wait()


async def test_egress_leaves_through_the_routers_snat(lab: Lab) -> None:
    vm2 = lab.guests["vm2"]
    router = lab.demo("router", "show", "r1")
    snat_ip = router["external_gateway_info"]["external_fixed_ips"][0]["ip_address"]
    public_subnet = lab.cli("subnet", "show", lab.cli("network", "show", "public")["subnets"][0])
    host_side = public_subnet["gateway_ip"]
    server = await start_greeter(None, 18081)
    try:
        assert await connect(host_side, 18081, vm2.netns) == f"hello {snat_ip}"
    finally:
        server.kill()
        await server.wait()


async def test_metadata_proxy_answers_each_guest_with_its_own_data(lab: Lab) -> None:
    for name in ("vm1", "vm2"):
        guest = lab.guests[name]
        status, body = await http_get(
            guest.netns,
            "http://169.254.169.254/openstack/latest/meta_data.json",
            {"X-Instance-ID": "someone-else"},  # never believed
        )
        assert status == 200, body
        instance, forwarded_for, _path = body.split()
        assert (instance, forwarded_for) == (guest.port["device_id"], guest.ip)
    assert lab.metadata.requests[-1]["x-tenant-id"] == lab.ids["demo"]


async def test_port_forwarding_reaches_a_guest_without_a_floating_ip(lab: Lab) -> None:
    """``openstack floating ip port forwarding create``: FIP:8080 leads to vm2:80 (vm2 has no
    floating IP of its own) until the forwarding is deleted."""
    vm2 = lab.guests["vm2"]
    lab.demo("security", "group", "create", "pf-web")
    lab.demo(
        "security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "80",
        "--remote-ip", "0.0.0.0/0", "pf-web",
    )  # fmt: skip
    lab.demo("port", "set", "--security-group", "pf-web", vm2.port["id"])
    fip = lab.demo("floating", "ip", "create", "public")
    address = fip["floating_ip_address"]
    gateway = lab.cli("subnet", "show", lab.cli("network", "show", "public")["subnets"][0])
    server = await start_greeter(vm2.netns, 80)
    try:
        assert await connect(address, 8080, None) == ""
        pf = lab.demo(
            "floating", "ip", "port", "forwarding", "create", "--internal-ip-address", vm2.ip,
            "--port", vm2.port["id"], "--internal-protocol-port", "80",
            "--external-protocol-port", "8080", "--protocol", "tcp", fip["id"],
        )  # fmt: skip
        assert await eventually(lambda: connect(address, 8080, None)) == (
            f"hello {gateway['gateway_ip']}"
        )
        assert await connect(address, 80, None) == ""  # only the forwarded port
        lab.cloud.openstack(
            "floating", "ip", "port", "forwarding", "delete", fip["id"], pf["id"],
            cloud="onestack-demo", json_output=False,
        )  # fmt: skip
        assert await eventually(lambda: connect(address, 8080, None), want="") == ""
    finally:
        server.kill()
        await server.wait()


def dnsmasq_pid(network_id: str) -> int | None:
    pid_file = Path(f"/run/onestack-test/{PREFIX}/dhcp/{network_id}/pid")
    try:
        pid = int(pid_file.read_text().strip())
        return pid if Path(f"/proc/{pid}").exists() else None
    except (OSError, ValueError):
        return None


async def lease_within(lab: Lab, guest: Guest, seconds: float) -> float:
    """How long until ``guest`` gets its lease again (udhcpc retrying), at most ``seconds``."""
    started = time.monotonic()
    while True:
        try:
            lease = await dhcp(guest.netns, lab.tmp)
            assert lease["ip"] == guest.ip
            return time.monotonic() - started
        except AssertionError:
            if time.monotonic() - started > seconds:
                raise


async def test_a_killed_dnsmasq_or_deleted_namespace_is_repaired_within_10_s(lab: Lab) -> None:
    """Issue #10: the agent's periodic check restarts what died, without a port change."""
    network = lab.demo("network", "show", "private")["id"]
    vm2 = lab.guests["vm2"]
    old = dnsmasq_pid(network)
    assert old is not None
    os.kill(old, signal.SIGKILL)
    took = await lease_within(lab, vm2, 10)
    assert dnsmasq_pid(network) not in (None, old)
    assert took < 10, f"lease back after {took:.1f}s"

    # The deleted namespace lives on (dnsmasq holds it) but is lost to the driver: made again.
    namespace = Names(PREFIX).dhcp_ns(network)
    await sh("ip", "netns", "del", namespace)
    started = time.monotonic()
    while namespace not in (await sh("ip", "netns", "list")).out:
        assert time.monotonic() - started < 10, f"{namespace} not made again in 10 s"
        await asyncio.sleep(0.2)
    took = await lease_within(lab, vm2, 10)
    assert took < 10, f"lease back after {took:.1f}s"


async def test_an_address_freed_by_a_deleted_port_is_leased_to_the_next_port(lab: Lab) -> None:
    """dnsmasq keeps a departed host's lease in memory: the address's next port got no offer
    (Tempest reuses addresses of small subnets at once) until the driver restarted it."""
    demo = lab.ids["demo"]
    groups = [lab.demo("security", "group", "show", "default")["id"]]
    first = await lab.add("reuse1", "private", demo, groups)
    assert (await dhcp(first.netns, lab.tmp))["ip"] == first.ip
    address = first.ip
    lab.cli("port", "delete", first.port["id"])
    await sh("ip", "netns", "del", first.netns)
    del lab.guests["reuse1"]
    args = ["port", "create", "--network", "private", "--project", demo,
            "--fixed-ip", f"subnet={lab.ids['subnet']},ip-address={address}",
            "--device-owner", "compute:nova", "--device", str(uuid.uuid4())]  # fmt: skip
    port = lab.cli(*args, "reuse2-port")
    netns = f"test-{PREFIX}-reuse2"
    await add_guest(netns, Names(PREFIX).tap(port["id"]), port["mac_address"])
    lab.guests["reuse2"] = Guest("reuse2", port, netns)
    lab.cli("port", "set", "--host", HOST, port["id"])
    lab.wait_active(port["id"])
    assert (await dhcp(netns, lab.tmp))["ip"] == address


async def test_stopping_the_cloud_and_tearing_down_leaves_nothing(lab: Lab) -> None:
    lab.cloud.stop()
    await LinuxBridgeDriver(
        DriverOptions(prefix=PREFIX, run_dir=Path(f"/run/onestack-test/{PREFIX}"))
    ).teardown()
    assert owned_leftovers(PREFIX) == []


async def eventually(probe: Any, want: str | None = None, timeout: float = 30) -> str:
    """Retry ``probe`` until it answers (``want`` given: until it answers exactly that)."""
    deadline = time.monotonic() + timeout
    while True:
        got: str = await probe()
        if (got == want) if want is not None else bool(got):
            return got
        if time.monotonic() > deadline:
            return got
        await asyncio.sleep(0.3)
