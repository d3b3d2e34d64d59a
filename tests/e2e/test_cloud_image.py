"""A genuine cloud image on the cloud: Debian 12 with its unchanged cloud-init (issue #10).

`onestack image build-cloud --register` (cached: built once per change of its inputs) uploads
`debian-12`; project demo boots it twice at once on the real data plane, once reading the
metadata service and once a config drive. Over SSH as `debian` on each floating IP, cloud-init
reports `done` without errors, and the guest has the server's hostname, the key, the effect of
the user-data script and the network configuration the cloud described. Slow under TCG: one
purposeful test with a generous timeout.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from onestack.image.cloudimage import CloudImage
from onestack.network.drivers.linuxbridge import DriverOptions, LinuxBridgeDriver
from tests.conftest import new_cloud
from tests.support.cloud import Cloud
from tests.support.guests import DATAPLANE_MARKS, device_prefix

pytestmark = [*DATAPLANE_MARKS, pytest.mark.qemu, pytest.mark.cli, pytest.mark.timeout(2400)]

PREFIX = device_prefix("k")
RUN_DIR = f"/run/onestack-test/{PREFIX}"
BOOT_TIMEOUT = 1500.0  # two Debian boots with cloud-init at once under TCG on 2 busy cores
USER_DATA = '#!/bin/sh\necho "user-data ran on $(hostname)" > /var/tmp/user-data-ran\n'


@dataclass
class Lab:
    cloud: Cloud
    tmp: Path

    def demo(self, *args: str, json_output: bool = True) -> Any:
        return self.cloud.openstack(*args, cloud="onestack-demo", json_output=json_output)


def guest_pids(root: Path) -> list[int]:
    found = subprocess.run(["pgrep", "-f", f"qemu-system.*{root}"], capture_output=True, text=True)
    return [int(p) for p in found.stdout.split()]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def lab(
    tmp_path_factory: pytest.TempPathFactory, cloud_image: CloudImage
) -> AsyncIterator[Lab]:
    tmp = tmp_path_factory.mktemp("cloudimage")
    cloud = new_cloud(tmp / "cloud", None)
    cloud.env.update(
        {
            "ONESTACK_NETWORK_DRIVER": "linuxbridge",
            "ONESTACK_NETWORK_DEVICE_PREFIX": PREFIX,
            "ONESTACK_NETWORK_HOST": f"e2e-{PREFIX}",
            "ONESTACK_NETWORK_RUN_DIR": RUN_DIR,
            "ONESTACK_COMPUTE_DRIVER": "qemu",
            "ONESTACK_COMPUTE_HOST": f"e2e-{PREFIX}",
            "ONESTACK_COMPUTE_INSTANCES_DIR": str(tmp / "instances"),
            # The image builder's cache, where the fixture built (or found) the image.
            "XDG_CACHE_HOME": str(cloud_image.path.parents[2]),
        }
    )
    await asyncio.to_thread(cloud.start)
    try:
        yield Lab(cloud, tmp)
    finally:
        cloud.stop()
        for pid in guest_pids(tmp / "instances"):
            os.kill(pid, signal.SIGKILL)
        await LinuxBridgeDriver(DriverOptions(prefix=PREFIX, run_dir=Path(RUN_DIR))).teardown()
        shutil.rmtree(RUN_DIR, ignore_errors=True)


def ssh(lab: Lab, host: str, command: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    argv = ["ssh", "-i", str(lab.tmp / "mykey.pem"), "-o", "BatchMode=yes",
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=5",
            f"debian@{host}", command]  # fmt: skip
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(argv, 255, "", "timeout")


async def wait_ssh(lab: Lab, host: str, deadline: float) -> None:
    while True:
        done = await asyncio.to_thread(ssh, lab, host, "true", 20)
        if done.returncode == 0:
            return
        assert time.monotonic() < deadline, f"no SSH login on {host}: {done.stderr}"
        await asyncio.sleep(5)


async def test_debian_cloud_init_gets_everything_from_metadata_service_and_config_drive(
    lab: Lab,
) -> None:
    registered = lab.cloud.onestack("image", "build-cloud", "--register", timeout=900)
    assert registered.returncode == 0, registered.stderr
    image = lab.cloud.openstack("image", "show", "debian-12")
    assert image["visibility"] == "public" and image["min_ram"] == 256
    assert image["properties"]["hw_qemu_guest_agent"] == "yes"

    lab.demo("network", "create", "private")
    lab.demo("subnet", "create", "--network", "private", "--subnet-range", "10.46.0.0/24",
             "private-subnet")  # fmt: skip
    lab.demo("router", "create", "r1", json_output=True)
    lab.demo("router", "set", "r1", "--external-gateway", "public", json_output=False)
    lab.demo("router", "add", "subnet", "r1", "private-subnet", json_output=False)
    lab.demo("security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "22",
             "default")  # fmt: skip
    lab.demo("keypair", "create", "--private-key", str(lab.tmp / "mykey.pem"), "mykey")
    (lab.tmp / "mykey.pem").chmod(0o600)  # ssh refuses a key others may read
    user_data = lab.tmp / "user-data.sh"
    user_data.write_text(USER_DATA)

    servers = {"deb-md": "False", "deb-cd": "True"}  # name -> config drive
    for name, drive in servers.items():
        lab.demo("server", "create", "--image", "debian-12", "--flavor", "m1.small",
                 "--network", "private", "--key-name", "mykey", "--user-data", str(user_data),
                 "--config-drive", drive, name)  # fmt: skip
    addresses = {}
    for name in servers:
        deadline = time.monotonic() + 300
        while (server := lab.demo("server", "show", name))["status"] != "ACTIVE":
            assert server["status"] != "ERROR" and time.monotonic() < deadline, server
            await asyncio.sleep(2)
        fip = lab.demo("floating", "ip", "create", "public")["floating_ip_address"]
        lab.demo("server", "add", "floating", "ip", name, fip, json_output=False)
        addresses[name] = (server["addresses"]["private"][0], fip)

    deadline = time.monotonic() + BOOT_TIMEOUT
    for name, (fixed, fip) in addresses.items():
        await wait_ssh(lab, fip, deadline)  # the key reached the default user
        status = await asyncio.to_thread(
            ssh, lab, fip, "cloud-init status --wait --long", max(60, deadline - time.monotonic())
        )
        assert "status: done" in status.stdout, f"{name}: {status.stdout}{status.stderr}"
        errors = ssh(lab, fip, "sudo cat /run/cloud-init/result.json").stdout
        assert '"errors": []' in errors, f"{name}: {errors}"
        source = "DataSourceConfigDrive" if servers[name] == "True" else "DataSourceOpenStack"
        assert source in status.stdout, f"{name}: {status.stdout}"
        assert ssh(lab, fip, "hostname").stdout.strip() == name
        assert ssh(lab, fip, "cat /var/tmp/user-data-ran").stdout.strip() == (
            f"user-data ran on {name}"
        )
        # The network configuration cloud-init rendered from network_data.json: the port's
        # interface, by its MAC, holding the fixed address.
        rendered = ssh(lab, fip, "cat /etc/network/interfaces.d/50-cloud-init").stdout
        assert ("iface" in rendered and "dhcp" in rendered) or fixed in rendered, rendered
        assert fixed in ssh(lab, fip, "ip -4 -o addr").stdout


async def test_the_guest_agent_sets_the_password_and_quiesces_snapshots(lab: Lab) -> None:
    """hw_qemu_guest_agent=yes (debian-12 carries it): changePassword reaches the guest's
    qemu-guest-agent, and a snapshot freezes and thaws its file systems, as Nova does."""
    server = lab.demo("server", "show", "deb-md")
    port = lab.demo("port", "list", "--server", "deb-md")[0]["ID"]
    fip = lab.demo("floating", "ip", "list", "--port", port)[0]["Floating IP Address"]
    conn = lab.cloud.sdk("onestack-demo")
    conn.compute.change_server_password(server["id"], "Onestack-pw-1")
    check = (
        "sudo python3 -c \"import crypt, spwd; e = spwd.getspnam('debian').sp_pwdp; "
        "print(crypt.crypt('Onestack-pw-1', e) == e)\""
    )
    assert ssh(lab, fip, check).stdout.strip() == "True"

    lab.demo("server", "image", "create", "--name", "deb-snap", "--wait", "deb-md")
    assert lab.demo("image", "show", "deb-snap")["status"] == "active"
    log = lab.cloud.log.read_text()
    assert f"instance {server['id']}: froze" in log and f"instance {server['id']}: thawed" in log
    journal = ssh(lab, fip, "sudo journalctl -t qemu-ga --no-pager").stdout
    assert "guest-fsfreeze called" in journal, journal
