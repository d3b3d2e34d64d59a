"""Compute end to end through the real cloud: `openstack server create` boots the test image as
a QEMU virtual machine on the Linux bridge data plane, and the guest shows what it got.

The cloud runs as root with the qemu and linuxbridge drivers, a device prefix of this module's
own and an instances directory in the test's temporary directory. Project demo builds a
network with a router to `public`, imports a key and boots vm1 (metadata service) and vm2
(config drive); the console proves DHCP, hostname, key and user data; a floating IP reaches the
guest's web page; power actions, resize, a snapshot that boots, and a kill -9 of the whole
cloud while guests run are lived through; deleting leaves no process, file or port.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from onestack.image.testimage import BuildResult
from onestack.network.drivers.linuxbridge import DriverOptions, LinuxBridgeDriver
from tests.conftest import new_cloud
from tests.support.cloud import Cloud
from tests.support.consoles import wait_console
from tests.support.guests import DATAPLANE_MARKS, device_prefix, owned_leftovers

pytestmark = [*DATAPLANE_MARKS, pytest.mark.cli]

PREFIX = device_prefix("c")
HOST = f"e2e-{PREFIX}"
RUN_DIR = f"/run/onestack-test/{PREFIX}"
BOOT_TIMEOUT = 120.0  # TCG on a busy 2-core machine


@dataclass
class Lab:
    cloud: Cloud
    tmp: Path
    instances: Path
    ids: dict[str, Any] = field(default_factory=dict)

    def cli(self, *args: str, cloud: str = "onestack") -> Any:
        quiet = any(
            word in ("set", "add", "delete", "unset", "remove", "stop", "start", "reboot",
                     "pause", "unpause", "suspend", "resume", "lock", "unlock", "confirm", "resize")
            for word in args[:4]
        )  # fmt: skip
        return self.cloud.openstack(*args, cloud=cloud, json_output=not quiet)

    def demo(self, *args: str) -> Any:
        return self.cli(*args, cloud="onestack-demo")

    def status(self, name: str) -> str:
        return str(self.demo("server", "show", name)["status"])

    def wait_status(self, name: str, want: str, timeout: float = BOOT_TIMEOUT) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            server: dict[str, Any] = self.demo("server", "show", name)
            if server["status"] == want and not server.get("OS-EXT-STS:task_state"):
                return server
            assert server["status"] != "ERROR", server.get("fault")
            if time.monotonic() > deadline:
                raise AssertionError(f"{name} is {server['status']}, not {want}")
            time.sleep(0.5)

    def console(self, name: str) -> str:
        out: str = self.cloud.openstack(
            "console", "log", "show", name, cloud="onestack-demo", json_output=False
        )
        return out

    def wait_console(self, name: str, pattern: str, timeout: float = BOOT_TIMEOUT) -> re.Match[str]:
        return wait_console(self.console, name, pattern, timeout)


def qemu_pids(uuid: str) -> list[int]:
    found = subprocess.run(["pgrep", "-f", f"qemu-system.*{uuid}"], capture_output=True, text=True)
    return [int(p) for p in found.stdout.split()]


def start_cloud(root: Path, instances: Path) -> Cloud:
    cloud = new_cloud(root, None)
    cloud.env.update(
        {
            "ONESTACK_NETWORK_DRIVER": "linuxbridge",
            "ONESTACK_NETWORK_DEVICE_PREFIX": PREFIX,
            "ONESTACK_NETWORK_HOST": HOST,
            "ONESTACK_NETWORK_RUN_DIR": RUN_DIR,
            "ONESTACK_COMPUTE_DRIVER": "qemu",
            "ONESTACK_COMPUTE_HOST": HOST,
            "ONESTACK_COMPUTE_INSTANCES_DIR": str(instances),
            "ONESTACK_COMPUTE_SHUTDOWN_TIMEOUT": "5",
            "ONESTACK_COMPUTE_SYNC_POWER_STATE_INTERVAL": "2",
        }
    )
    cloud.start()
    return cloud


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def lab(
    tmp_path_factory: pytest.TempPathFactory, test_image: BuildResult
) -> AsyncIterator[Lab]:
    tmp = tmp_path_factory.mktemp("computecloud")
    instances = tmp / "instances"
    cloud = await asyncio.to_thread(start_cloud, tmp / "cloud", instances)
    lab = Lab(cloud, tmp, instances)
    lab.ids["image_path"] = str(test_image.path)
    try:
        yield lab
    finally:
        if cloud.process is not None and cloud.process.poll() is None:
            cloud.stop()
        for uuid in lab.ids.get("servers", []):
            for pid in qemu_pids(uuid):
                os.kill(pid, signal.SIGKILL)
        await LinuxBridgeDriver(DriverOptions(prefix=PREFIX, run_dir=Path(RUN_DIR))).teardown()
        shutil.rmtree(RUN_DIR, ignore_errors=True)


async def test_a_user_boots_the_test_image_and_the_guest_gets_ip_hostname_key_and_user_data(
    lab: Lab,
) -> None:
    lab.cli(
        "image", "create", "--public", "--disk-format", "qcow2", "--container-format", "bare",
        "--file", lab.ids["image_path"], "onestack-test",
    )  # fmt: skip
    lab.demo("network", "create", "private")
    lab.demo("subnet", "create", "--network", "private", "--subnet-range", "10.44.0.0/24",
             "private-subnet")  # fmt: skip
    lab.demo("router", "create", "r1")
    lab.demo("router", "set", "r1", "--external-gateway", "public")
    lab.demo("router", "add", "subnet", "r1", "private-subnet")
    lab.demo("security", "group", "create", "web")
    lab.demo("security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "80",
             "--remote-ip", "0.0.0.0/0", "web")  # fmt: skip
    key = lab.demo("keypair", "create", "--private-key", str(lab.tmp / "mykey.pem"), "mykey")
    boot = lab.tmp / "boot.sh"
    boot.write_text("#!/bin/sh\necho user-data-ran-$(hostname) > /dev/console\n")

    vm1 = lab.demo(
        "server", "create", "--image", "onestack-test", "--flavor", "m1.tiny",
        "--network", "private", "--key-name", "mykey", "--user-data", str(boot),
        "--security-group", "default", "--security-group", "web", "--wait", "vm1",
    )  # fmt: skip
    assert vm1["status"] == "ACTIVE"
    lab.ids["servers"] = [vm1["id"]]
    assert qemu_pids(vm1["id"]), "no QEMU process runs the server"

    ip = lab.demo("server", "show", "vm1")["addresses"]["private"][0]
    ready = lab.wait_console("vm1", r"onestack-guest ready (\S+) (\S+)")
    assert ready.groups() == ("vm1", ip), "the guest's DHCP address or hostname is wrong"
    console = lab.console("vm1")
    assert "metadata from metadata service" in console
    assert f"MD5:{key['fingerprint']}" in console, "the key did not reach the guest"
    assert "user-data-ran-vm1" in console


async def test_a_config_drive_carries_the_same_to_a_second_guest(lab: Lab) -> None:
    vm2 = lab.demo(
        "server", "create", "--image", "onestack-test", "--flavor", "m1.tiny",
        "--network", "private", "--key-name", "mykey", "--config-drive", "True", "--wait", "vm2",
    )  # fmt: skip
    lab.ids["servers"].append(vm2["id"])
    ready = lab.wait_console("vm2", r"onestack-guest ready (\S+) (\S+)")
    assert ready.group(1) == "vm2"
    assert "metadata from config drive" in lab.console("vm2")


async def test_a_floating_ip_reaches_the_guests_web_page(lab: Lab) -> None:
    fip = lab.demo("floating", "ip", "create", "public")["floating_ip_address"]
    lab.demo("server", "add", "floating", "ip", "vm1", fip)
    addresses = lab.demo("server", "show", "vm1")["addresses"]["private"]
    assert fip in addresses
    deadline = time.monotonic() + 30
    while True:
        try:
            page = httpx.get(f"http://{fip}/", timeout=3).text
            break
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    assert "onestack-guest vm1" in page


async def test_power_actions_change_the_guest_for_real(lab: Lab) -> None:
    uuid = lab.ids["servers"][0]
    lab.demo("server", "stop", "vm1")
    lab.wait_status("vm1", "SHUTOFF")
    assert qemu_pids(uuid) == []
    lab.demo("server", "start", "vm1")
    lab.wait_status("vm1", "ACTIVE")
    assert qemu_pids(uuid)
    lab.demo("server", "pause", "vm1")
    lab.wait_status("vm1", "PAUSED")
    lab.demo("server", "unpause", "vm1")
    lab.wait_status("vm1", "ACTIVE")
    lab.demo("server", "reboot", "--hard", "vm1")
    lab.wait_status("vm1", "ACTIVE")
    events = [e["Action"] for e in lab.demo("server", "event", "list", "vm1")]
    assert {"create", "stop", "start", "pause", "unpause", "reboot"} <= set(events)


async def test_resize_to_a_bigger_flavor_then_confirm(lab: Lab) -> None:
    uuid = lab.ids["servers"][1]
    lab.demo("server", "resize", "--flavor", "m1.small", "vm2")
    lab.wait_status("vm2", "VERIFY_RESIZE")
    cmdline = Path(f"/proc/{qemu_pids(uuid)[0]}/cmdline").read_bytes().replace(b"\0", b" ")
    assert b"2048" in cmdline, "the guest does not run with the new flavor's memory"
    lab.demo("server", "resize", "confirm", "vm2")
    server = lab.wait_status("vm2", "ACTIVE")
    assert server["flavor"]["name"] == "m1.small" or "m1.small" in str(server["flavor"])


async def test_a_snapshot_becomes_an_image_that_boots(lab: Lab) -> None:
    lab.demo("server", "image", "create", "--name", "vm1-snap", "--wait", "vm1")
    image = lab.demo("image", "show", "vm1-snap")
    assert image["status"] == "active"
    vm3 = lab.demo(
        "server", "create", "--image", "vm1-snap", "--flavor", "m1.tiny",
        "--network", "private", "--wait", "vm3",
    )  # fmt: skip
    lab.ids["servers"].append(vm3["id"])
    lab.wait_console("vm3", r"onestack-guest ready vm3 ")


async def test_killing_the_whole_cloud_loses_no_guest(lab: Lab) -> None:
    uuid = lab.ids["servers"][0]
    before = qemu_pids(uuid)
    lab.cloud.stop(signal.SIGKILL)
    assert qemu_pids(uuid) == before, "the guest died with the cloud"
    lab.cloud.start()
    assert lab.wait_status("vm1", "ACTIVE")["OS-EXT-STS:power_state"] in (1, "Running")
    assert qemu_pids(uuid) == before
    lab.demo("server", "stop", "vm1")  # proves QMP was re-attached
    lab.wait_status("vm1", "SHUTOFF")
    assert qemu_pids(uuid) == []


async def test_a_guest_that_dies_shows_shutoff(lab: Lab) -> None:
    uuid = lab.ids["servers"][2]
    for pid in qemu_pids(uuid):
        os.kill(pid, signal.SIGKILL)
    server = lab.wait_status("vm3", "SHUTOFF", timeout=30)
    assert server["OS-EXT-STS:power_state"] in (0, 4, "NOSTATE", "Shutdown")


async def test_delete_leaves_no_process_file_or_port(lab: Lab) -> None:
    ports = {s: lab.cli("port", "list", "--device-id", s) for s in lab.ids["servers"]}
    assert all(ports.values())
    by_server = lab.demo("port", "list", "--server", "vm1")
    assert [p["ID"] for p in by_server] == [p["ID"] for p in ports[lab.ids["servers"][0]]]
    for name in ("vm1", "vm2", "vm3"):
        lab.demo("server", "delete", "--wait", name)
    for uuid in lab.ids["servers"]:
        assert qemu_pids(uuid) == []
        assert not (lab.instances / uuid).exists()
        assert lab.cli("port", "list", "--device-id", uuid) == []
    lab.cloud.stop()
    await LinuxBridgeDriver(DriverOptions(prefix=PREFIX, run_dir=Path(RUN_DIR))).teardown()
    assert owned_leftovers(PREFIX) == []
