"""The compute cloud's lab: its settings, the ``Lab`` the tests drive it through, and the
host-side probes (QEMU processes, SSH into a guest)."""

from __future__ import annotations

import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import new_cloud
from tests.support.cloud import Cloud
from tests.support.consoles import wait_console
from tests.support.guests import device_prefix

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
    servers: dict[str, str] = field(default_factory=dict)  # name -> id, every guest booted
    first_console: dict[str, str] = field(default_factory=dict)  # name -> its first boot's log
    fips: dict[str, str] = field(default_factory=dict)  # name -> its floating IP

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

    def boot(self, name: str, *args: str, image: str = "onestack-test") -> dict[str, Any]:
        """``server create --wait`` on the private network; the guest is remembered for the
        module's clean-up."""
        server: dict[str, Any] = self.demo(
            "server", "create", "--image", image, "--flavor", "m1.tiny",
            "--network", "private", *args, "--wait", name,
        )  # fmt: skip
        self.servers[name] = server["id"]
        return server

    def floating_ip(self, name: str) -> str:
        """Guest ``name``'s floating IP: the one an earlier test gave it, else a new one (a
        fixed IP takes one floating IP per external network)."""
        if name not in self.fips:
            fip = self.demo("floating", "ip", "create", "public")["floating_ip_address"]
            self.demo("server", "add", "floating", "ip", name, fip)
            self.fips[name] = fip
        return self.fips[name]

    def guest(self, name: str, *args: str) -> str:
        """The id of guest ``name``: booted (with ``args``) the first time it is asked for,
        its first boot's console kept; ACTIVE whatever an earlier test left it in."""
        if name not in self.servers:
            self.boot(name, *args)
            self.wait_console(name, rf"onestack-guest ready {name} ")
            self.first_console[name] = self.console(name)
            return self.servers[name]
        status = self.status(name)
        if status == "SHUTOFF":
            self.demo("server", "start", name)
        elif status == "PAUSED":
            self.demo("server", "unpause", name)
        elif status == "VERIFY_RESIZE":
            self.demo("server", "resize", "confirm", name)
        self.wait_status(name, "ACTIVE")
        return self.servers[name]


def qemu_pids(uuid: str) -> list[int]:
    found = subprocess.run(["pgrep", "-f", f"qemu-system.*{uuid}"], capture_output=True, text=True)
    return [int(p) for p in found.stdout.split()]


def qemu_argv(uuid: str) -> list[str]:
    (pid,) = qemu_pids(uuid)
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")


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
            "ONESTACK_VOLUME_DRIVER": "file",  # the Heat stack's volume
            "ONESTACK_METERING_INTERVAL": "1",
            "ONESTACK_ALARMING_EVALUATION_INTERVAL": "1",
        }
    )
    cloud.start()
    return cloud


def ssh_root(lab: Lab, host: str, command: str, timeout: float) -> subprocess.CompletedProcess[str]:
    argv = ["ssh", "-i", str(lab.tmp / "mykey.pem"), "-o", "BatchMode=yes",
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=5", f"root@{host}", command]  # fmt: skip
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(argv, 255, "", "timeout")


def ssh_via(lab: Lab, netns: str, host: str, command: str) -> subprocess.CompletedProcess[str]:
    """``ssh_root`` from inside a router's namespace (a guest without a floating IP)."""
    argv = ["ip", "netns", "exec", netns, "ssh", "-i", str(lab.tmp / "mykey.pem"),
            "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
            "-o", "ConnectTimeout=5", f"root@{host}", command]  # fmt: skip
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=20, check=False)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(argv, 255, "", "timeout")


def wait_page(url: str, timeout: float = BOOT_TIMEOUT) -> str:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return httpx.get(url, timeout=3).text
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
