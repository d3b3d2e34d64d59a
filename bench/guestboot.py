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
import socket
import string
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localcloud import LocalCloud
from onestack.image.testimage.register import BootFiles, GuestImage
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
    # Its kernel and initramfs, registered as the image's kernel_id/ramdisk_id as
    # `onestack image build-test --register` does: the guest boots them directly.
    boot: BootFiles | None = None


@dataclass
class Timings:
    marker_s: float | None = None
    ssh_s: float | None = None
    cloud_init_s: float | None = None
    created_at: float = 0.0  # wall clock (time.time()) when `server create` returned
    # CPU seconds the guest's QEMU had used at the first SSH login: what a boot costs, which
    # (unlike the wall clock) other work on the machine barely changes.
    qemu_cpu_s: float | None = None


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


def port_open(host: str, port: int, timeout: float = 0.25) -> bool:
    """Whether ``host`` accepts a TCP connection on ``port`` within ``timeout`` (as Ansible's
    ``wait_for`` asks before an SSH login): a short probe, so that the login is tried within a
    fraction of a second of the port opening, not after an ssh attempt's own connect timeout."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


class ConsoleClock:
    """The guest's console lines with when each reached the host's log, in seconds from
    ``started`` (``time.monotonic()`` when ``server create`` returned): the guest prints no
    clock of its own before its last line, and QEMU writes each byte to the log as the guest
    sends it, so the arrival times show where a boot's seconds go (``--keep``)."""

    def __init__(self, path: Path, started: float) -> None:
        self.path, self.started = path, started
        self.lines: list[tuple[float, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._follow, daemon=True)
        self._thread.start()

    def _follow(self) -> None:
        seen, partial = 0, b""
        while not self._stop.is_set():
            try:
                with open(self.path, "rb") as f:
                    f.seek(seen)
                    data = f.read()
            except FileNotFoundError:
                data = b""
            now = time.monotonic() - self.started
            if data:
                seen += len(data)
                *complete, partial = (partial + data).split(b"\n")
                for line in complete:
                    self.lines.append((now, line.decode(errors="replace").rstrip("\r")))
            self._stop.wait(0.01)

    def write(self, target: Path, marks: dict[str, float | None]) -> None:
        self._stop.set()
        self._thread.join()
        events = [(t, line) for t, line in self.lines]
        events += [(t, f"== {what} ==") for what, t in marks.items() if t is not None]
        target.write_text("".join(f"{t:7.2f}  {line}\n" for t, line in sorted(events)))


class GuestBench:
    def __init__(self, keep: Path | None = None) -> None:
        self.keep = keep  # where to copy the cloud's log and each guest's console (profiling)
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
        described = GuestImage(guest.image_name, guest.image, boot=guest.boot)
        ids = {}
        for part in described.boot_parts():
            made = self.conn.image.create_image(
                name=part.name, filename=str(part.path), disk_format=part.fmt,
                container_format=part.fmt, wait=True,
            )  # fmt: skip
            ids[part.prop] = str(made.id)
        image = self.conn.image.create_image(
            name=guest.image_name, filename=str(guest.image), disk_format="qcow2",
            container_format="bare", min_ram=guest.min_ram, min_disk=guest.min_disk, wait=True,
            **described.with_boot_images(ids),
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
        t = Timings(created_at=time.time())
        clock = None
        if self.keep is not None:
            clock = ConsoleClock(self.cloud.root / "instances" / server.id / "console.log", started)
        port_open_s = None
        while time.monotonic() - started < timeout:
            now = time.monotonic() - started
            if t.marker_s is None:
                try:
                    console = c.compute.get_server_console_output(server.id).get("output", "")
                except Exception:
                    console = ""
                if guest.marker in console:
                    t.marker_s = now
            if t.ssh_s is None and port_open(fip, 22):
                if port_open_s is None:
                    port_open_s = time.monotonic() - started
                if ssh(self.key, guest.user, fip, "true", 5).returncode == 0:
                    t.ssh_s = time.monotonic() - started
                    t.qemu_cpu_s = qemu_cpu_seconds(self.cloud.root, server.id)
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
            time.sleep(0.1)
        if self.keep is not None:
            console = self.cloud.root / "instances" / server.id / "console.log"
            if console.exists():
                shutil.copyfile(console, self.keep / f"console-{guest.image_name}.log")
        if clock is not None and self.keep is not None:
            marks = {"port 22 answers": port_open_s, "ssh login": t.ssh_s,
                     "console marker seen by the API": t.marker_s}  # fmt: skip
            clock.write(self.keep / f"console-{guest.image_name}.timed.log", marks)
        c.compute.delete_server(server.id)
        c.compute.wait_for_delete(server, wait=120)
        c.network.delete_ip(c.network.find_ip(fip))
        return t

    def close(self) -> None:
        self.cloud.stop()
        if self.keep is not None and self.cloud.log.exists():
            shutil.copyfile(self.cloud.log, self.keep / "onestack.log")
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


def qemu_cpu_seconds(root: Path, uuid: str) -> float | None:
    """User and system CPU seconds of the QEMU that runs server ``uuid`` (under ``root``)."""
    for pid in guest_pids(root):
        try:
            if uuid.encode() not in Path(f"/proc/{pid}/cmdline").read_bytes():
                continue
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return None


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


def run(
    guests: list[Guest], timeout: float, keep: Path | None = None
) -> tuple[str, dict[str, Timings]]:
    """(the accelerator, each guest's timings); ``keep``: a directory that receives the cloud's
    log and the guests' consoles, to see where the time went."""
    if os.geteuid() != 0:
        raise SystemExit("the cloud part needs root (QEMU, bridges, namespaces)")
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
    bench = GuestBench(keep)
    try:
        bench.start()
        return bench.accelerator(), {g.label: bench.boot(g, timeout) for g in guests}
    finally:
        bench.close()
