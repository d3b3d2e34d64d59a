"""Guests in a real cloud: ``server create`` to the console marker, to the first SSH login and
(cloud image) to cloud-init done, for the test image and the Debian 12 cloud image booted one
after the other under the same accelerator by one private ``onestack up`` (qemu and linuxbridge
drivers, a device prefix and run directory of its own). Used by ``bench/testimage.py --cloud``.

The floating IP is bound to the server's port before the create call, so the SSH clock starts
when ``server create`` returns and counts nothing but the boot.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import string
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localcloud import LocalCloud
from onestack.network.drivers.linuxbridge import DriverOptions, LinuxBridgeDriver


@dataclass(frozen=True)
class Guest:
    label: str  # what the report calls it
    image: Path
    image_name: str
    user: str
    flavor: str
    marker: str  # the console line that says the guest is up
    min_ram: int
    min_disk: int
    cloud_init: bool = False


@dataclass
class Timings:
    marker_s: float | None = None
    ssh_s: float | None = None
    cloud_init_s: float | None = None


def ssh(
    key: Path, user: str, host: str, command: str, timeout: float = 5
) -> subprocess.CompletedProcess[str]:
    argv = ["ssh", "-i", str(key), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
            "-o", f"ConnectTimeout={max(1, int(timeout))}", f"{user}@{host}", command]  # fmt: skip
    try:
        return subprocess.run(
            argv, capture_output=True, text=True, timeout=timeout + 5, check=False
        )
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(argv, 255, "", "timeout")


class GuestBench:
    def __init__(self) -> None:
        self.prefix = "b" + "".join(random.choices(string.ascii_lowercase + string.digits, k=2))
        self.run_dir = Path(f"/run/onestack-bench/{self.prefix}")
        self.cloud = LocalCloud(hash_rounds=4, prefix="onestack-bench-guests-", env={
            "ONESTACK_NETWORK_DRIVER": "linuxbridge",
            "ONESTACK_NETWORK_DEVICE_PREFIX": self.prefix,
            "ONESTACK_NETWORK_RUN_DIR": str(self.run_dir),
            "ONESTACK_COMPUTE_DRIVER": "qemu",
        })  # fmt: skip
        self.cloud.settings["ONESTACK_COMPUTE_INSTANCES_DIR"] = str(self.cloud.root / "instances")
        self.conn: Any = None
        self.key = self.cloud.root / "key"

    def start(self) -> None:
        import openstack

        self.cloud.start()
        self.conn = openstack.connect(
            auth_url=self.cloud.auth_url, username="admin", password=self.cloud.admin_password(),
            project_name="admin", user_domain_name="Default", project_domain_name="Default",
            region_name="RegionOne",
        )  # fmt: skip
        c = self.conn
        net = c.network.create_network(name="bench")
        subnet = c.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.77.0.0/24")
        router = c.network.create_router(
            name="bench", external_gateway_info={"network_id": c.network.find_network("public").id}
        )
        c.network.add_interface_to_router(router, subnet_id=subnet.id)
        group = c.network.find_security_group("default", project_id=c.current_project_id)
        c.network.create_security_group_rule(
            security_group_id=group.id, direction="ingress", protocol="tcp",
            port_range_min=22, port_range_max=22, remote_ip_prefix="0.0.0.0/0",
        )  # fmt: skip
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.key)],
                       check=True)  # fmt: skip
        public = self.key.with_suffix(".pub").read_text()
        c.compute.create_keypair(name="bench", public_key=public)
        self.network = net

    def register(self, guest: Guest) -> str:
        image = self.conn.image.create_image(
            name=guest.image_name, filename=str(guest.image), disk_format="qcow2",
            container_format="bare", min_ram=guest.min_ram, min_disk=guest.min_disk, wait=True,
        )  # fmt: skip
        return str(image.id)

    def boot(self, guest: Guest, timeout: float) -> Timings:
        c = self.conn
        image_id = self.register(guest)
        port = c.network.create_port(network_id=self.network.id)
        fip = c.network.create_ip(
            floating_network_id=c.network.find_network("public").id, port_id=port.id
        ).floating_ip_address
        flavor = c.compute.find_flavor(guest.flavor)
        server = c.compute.create_server(
            name=f"bench-{guest.image_name}", image_id=image_id, flavor_id=flavor.id,
            networks=[{"port": port.id}], key_name="bench",
        )  # fmt: skip
        started = time.monotonic()
        t = Timings()
        while time.monotonic() - started < timeout:
            now = time.monotonic() - started
            if t.marker_s is None:
                try:
                    console = c.compute.get_server_console_output(server.id).get("output", "")
                except Exception:
                    console = ""
                if guest.marker in console:
                    t.marker_s = now
            if t.ssh_s is None and ssh(self.key, guest.user, fip, "true", 1).returncode == 0:
                t.ssh_s = time.monotonic() - started
            if t.ssh_s is not None and guest.cloud_init and t.cloud_init_s is None:
                done = ssh(self.key, guest.user, fip, "cloud-init status", 10)
                if "status: done" in done.stdout or "status: error" in done.stdout:
                    t.cloud_init_s = time.monotonic() - started
            if (
                t.marker_s is not None
                and t.ssh_s is not None
                and (t.cloud_init_s is not None or not guest.cloud_init)
            ):
                break
            time.sleep(0.2)
        c.compute.delete_server(server.id)
        c.compute.wait_for_delete(server, wait=120)
        c.network.delete_ip(c.network.find_ip(fip))
        return t

    def close(self) -> None:
        self.cloud.stop()
        for pid in guest_pids(self.cloud.root):
            os.kill(pid, signal.SIGKILL)
        import asyncio

        driver = LinuxBridgeDriver(DriverOptions(prefix=self.prefix, run_dir=self.run_dir))
        asyncio.run(driver.teardown())
        shutil.rmtree(self.run_dir, ignore_errors=True)
        shutil.rmtree(self.cloud.root, ignore_errors=True)

    def accelerator(self) -> str:
        state = json.loads((self.cloud.data_dir / "state.json").read_text())
        return str(state.get("data_plane", {}).get("compute", {}).get("detail", "?"))


def guest_pids(root: Path) -> list[int]:
    """The QEMU processes whose command line names ``root`` (this benchmark's guests only)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if b"qemu-system" in cmdline and str(root).encode() in cmdline:
            found.append(int(proc.name))
    return found


def run(guests: list[Guest], timeout: float) -> tuple[str, dict[str, Timings]]:
    """(the accelerator, each guest's timings)."""
    if os.geteuid() != 0:
        raise SystemExit("the cloud part needs root (QEMU, bridges, namespaces)")
    bench = GuestBench()
    try:
        bench.start()
        return bench.accelerator(), {g.label: bench.boot(g, timeout) for g in guests}
    finally:
        bench.close()
