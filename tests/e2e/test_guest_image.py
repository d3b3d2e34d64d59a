"""The test guest image boots under QEMU TCG and behaves as a cloud guest.

One boot per way the guest can get its metadata: a config drive on virtio-blk (q35), a config
drive on an IDE CD-ROM (pc), and the metadata service at 169.254.169.254 (a network namespace
with dnsmasq and an HTTP server, as Neutron provides it). Each asserts the ready marker, the key
fingerprint, the user-data script's effect and the guest's web page.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import re
import secrets
import socket
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from onestack.compute.drivers import configdrive
from onestack.image.testimage import READY_MARKER, BuildResult
from tests.support.cloud import free_port

pytestmark = [pytest.mark.qemu, pytest.mark.root]

BOOT_TIMEOUT = 60.0  # generous for loaded CI runners; a boot takes a few seconds
READY_RE = re.compile(rf"^{READY_MARKER} (\S+) (\S+)\s*$", re.MULTILINE)


# --- what the cloud hands the guest -------------------------------------------------------------


@dataclass
class Instance:
    """The metadata of one boot, and what the guest should show for it."""

    hostname: str
    uuid: str = field(default_factory=lambda: str(uuid.uuid4()))
    token: str = field(default_factory=lambda: secrets.token_hex(8))
    public_key: str = ""
    fingerprint: str = ""

    def __post_init__(self) -> None:
        key = ed25519.Ed25519PrivateKey.generate().public_key()
        openssh = key.public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        )
        self.public_key = f"{openssh.decode()} tester@{self.hostname}\n"
        blob = base64.b64decode(openssh.split()[1])
        digest = hashlib.md5(blob, usedforsecurity=False).hexdigest()
        pairs = ":".join(digest[i : i + 2] for i in range(0, 32, 2))
        # as `ssh-keygen -l -E md5` prints it
        self.fingerprint = f"256 MD5:{pairs} tester@{self.hostname} (ED25519)"

    def meta_data(self) -> bytes:
        return json.dumps(
            {
                "uuid": self.uuid,
                "name": self.hostname,
                "hostname": self.hostname,
                "launch_index": 0,
                "availability_zone": "nova",
                "project_id": "p1",
                "public_keys": {"testkey": self.public_key},
                "keys": [{"name": "testkey", "type": "ssh", "data": self.public_key}],
                "meta": {},
                "devices": [],
            }
        ).encode()

    def user_data(self) -> bytes:
        return (
            "#!/bin/sh\n"
            f"echo 'user-data token {self.token}'\n"
            f"echo '{self.token}' > /var/www/token.txt\n"
        ).encode()

    def files(self) -> dict[str, bytes]:
        """The OpenStack metadata tree (paths under openstack/)."""
        return {
            "latest/meta_data.json": self.meta_data(),
            "latest/user_data": self.user_data(),
        }


def config_drive(instance: Instance, path: Path) -> Path:
    return configdrive.write({f"openstack/{k}": v for k, v in instance.files().items()}, path)


# --- running the guest --------------------------------------------------------------------------


@dataclass
class Guest:
    process: subprocess.Popen[bytes]
    console: Path
    qmp: Path
    started: float

    def text(self) -> str:
        try:
            return self.console.read_bytes().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def wait_ready(self, timeout: float = BOOT_TIMEOUT) -> tuple[str, str, float]:
        """(hostname, ip, seconds) from the ready marker."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = READY_RE.search(self.text())
            if m:
                return m.group(1), m.group(2), time.monotonic() - self.started
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        pytest.fail(f"no ready marker after {timeout}s; console:\n{self.tail()}")

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.text().splitlines()[-lines:])

    def log_lines(self) -> list[str]:
        return [line.strip() for line in self.text().splitlines()]

    def powerdown(self, timeout: float = 20.0) -> float:
        """ACPI power button over QMP; seconds until QEMU exits."""
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(str(self.qmp))
            f = s.makefile("rwb")
            f.readline()  # greeting
            for command in ("qmp_capabilities", "system_powerdown"):
                f.write(json.dumps({"execute": command}).encode() + b"\n")
                f.flush()
                while b'"return"' not in (line := f.readline()):
                    assert line, "QMP closed"
        started = time.monotonic()
        self.process.wait(timeout)
        return time.monotonic() - started


@contextlib.contextmanager
def boot(
    image: BuildResult,
    work: Path,
    *,
    network: list[str],
    drives: list[str],
    machine: str = "q35",
    netns: str | None = None,
) -> Iterator[Guest]:
    """A TCG guest on a throwaway overlay of the image; killed on exit whatever happens."""
    overlay = work / "disk.qcow2"
    subprocess.run(
        [
            "qemu-img",
            "create",
            "-q",
            "-f",
            "qcow2",
            "-F",
            "qcow2",
            "-b",
            str(image.path),
            str(overlay),
        ],
        check=True,
    )
    console = work / "console.log"
    qmp = work / "qmp.sock"
    argv = [
        "qemu-system-x86_64",
        "-accel", "tcg",
        "-machine", machine,
        "-m", "256",
        "-display", "none",
        "-monitor", "none",
        "-serial", f"file:{console}",
        "-qmp", f"unix:{qmp},server=on,wait=off",
        "-drive", f"file={overlay},if=virtio,format=qcow2",
        *network,
        *drives,
    ]  # fmt: skip
    if netns:
        argv = ["ip", "netns", "exec", netns, *argv]
    process = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    guest = Guest(process, console, qmp, time.monotonic())
    try:
        yield guest
    finally:
        if process.poll() is None:
            process.kill()
        _, stderr = process.communicate(timeout=10)
        if stderr.strip():
            print(f"qemu stderr: {stderr.decode(errors='replace')[-2000:]}")


def http_get(url: str, timeout: float = 10.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=3) as resp:  # noqa: S310 - test URL
                return str(resp.read().decode())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def assert_cloud_guest(guest: Guest, instance: Instance, ip_prefix: str) -> tuple[str, float]:
    """The marker, then the console lines every boot must show; returns (ip, seconds)."""
    hostname, ip, seconds = guest.wait_ready()
    print(f"guest ready in {seconds:.1f}s (wall, from QEMU start): {hostname} {ip}")
    assert hostname == instance.hostname
    assert ip.startswith(ip_prefix), guest.tail()
    lines = guest.log_lines()
    assert f"onestack-guest: ssh key {instance.fingerprint}" in lines, guest.tail()
    assert f"user-data token {instance.token}" in lines, guest.tail()
    assert f"onestack-guest: instance {instance.uuid}" in lines, guest.tail()
    return ip, seconds


# --- the boots ----------------------------------------------------------------------------------


def test_config_drive_on_virtio(test_image: BuildResult, tmp_path: Path) -> None:
    """q35, config drive as a virtio disk: marker, key, user data, web page, ACPI poweroff."""
    instance = Instance(hostname="cd-virtio")
    drive = config_drive(instance, tmp_path / "config.iso")
    port = free_port()
    with boot(
        test_image,
        tmp_path,
        network=[
            "-netdev", f"user,id=n0,hostfwd=tcp:127.0.0.1:{port}-:80",
            "-device", "virtio-net-pci,netdev=n0",
        ],
        drives=["-drive", f"file={drive},if=virtio,format=raw,readonly=on"],
    ) as guest:  # fmt: skip
        assert_cloud_guest(guest, instance, "10.0.2.")
        assert "onestack-guest: metadata from config drive /dev/vdb" in guest.log_lines()
        page = http_get(f"http://127.0.0.1:{port}/")
        assert f"onestack-guest {instance.hostname}" in page
        assert instance.uuid in page
        assert http_get(f"http://127.0.0.1:{port}/token.txt").strip() == instance.token
        seconds = guest.powerdown()
        assert guest.process.returncode == 0
        assert "onestack-guest: power button pressed: powering off" in guest.text()
        print(f"ACPI powerdown took {seconds:.1f}s")


def test_config_drive_on_ide_cdrom(test_image: BuildResult, tmp_path: Path) -> None:
    """The PC machine with the config drive as an IDE CD-ROM (Nova's default bus for it)."""
    instance = Instance(hostname="cd-ide")
    drive = config_drive(instance, tmp_path / "config.iso")
    with boot(
        test_image,
        tmp_path,
        machine="pc",
        network=["-netdev", "user,id=n0", "-device", "virtio-net-pci,netdev=n0"],
        drives=["-drive", f"file={drive},if=ide,media=cdrom,readonly=on"],
    ) as guest:
        assert_cloud_guest(guest, instance, "10.0.2.")
        assert "onestack-guest: metadata from config drive /dev/sr0" in guest.log_lines()


# --- the metadata service, as Neutron's DHCP and metadata proxy provide it ---------------------


def run(*argv: str) -> None:
    subprocess.run(argv, check=True, capture_output=True)


@dataclass
class MetadataNetwork:
    """A network namespace: a bridge with a tap for the guest, dnsmasq for DHCP, and an HTTP
    server on 169.254.169.254:80 serving the OpenStack metadata tree."""

    netns: str
    tap: str
    subnet: str  # e.g. "10.231.0"


@contextlib.contextmanager
def metadata_network(instance: Instance, work: Path) -> Iterator[MetadataNetwork]:
    netns = f"tgi{secrets.token_hex(3)}"
    subnet = f"10.{200 + secrets.randbelow(50)}.{secrets.randbelow(250)}"
    bridge, tap = "tgibr0", "tgitap0"
    root = work / "metadata"
    for rel, data in instance.files().items():
        path = root / "openstack" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    processes: list[subprocess.Popen[bytes]] = []
    run("ip", "netns", "add", netns)
    try:
        ns = ("ip", "-n", netns)
        run(*ns, "link", "set", "lo", "up")
        run(*ns, "link", "add", bridge, "type", "bridge")
        run(*ns, "addr", "add", f"{subnet}.1/24", "dev", bridge)
        # on the bridge, as Neutron puts it on the DHCP port (gVisor, unlike Linux, does not
        # accept a packet for an address on another interface)
        run(*ns, "addr", "add", "169.254.169.254/32", "dev", bridge)
        run(*ns, "link", "set", bridge, "up")
        run(*ns, "tuntap", "add", "dev", tap, "mode", "tap")
        run(*ns, "link", "set", tap, "master", bridge, "up")
        inside = ("ip", "netns", "exec", netns)
        processes.append(
            subprocess.Popen(
                [
                    *inside,
                    "dnsmasq",
                    "--no-daemon",
                    "--conf-file=/dev/null",
                    "--user=root",
                    "--port=0",
                    "--no-ping",  # Neutron gives fixed addresses: no ping check either
                    "--bind-interfaces",
                    f"--interface={bridge}",
                    f"--dhcp-range={subnet}.10,{subnet}.50,255.255.255.0,1h",
                    f"--dhcp-leasefile={work / 'leases'}",
                    f"--dhcp-option=option:router,{subnet}.1",
                    # as Neutron's DHCP agent sends it: the metadata route, then the default
                    "--dhcp-option=option:classless-static-route,"
                    f"169.254.169.254/32,{subnet}.1,0.0.0.0/0,{subnet}.1",
                ],
                stdout=subprocess.DEVNULL,
                stderr=(work / "dnsmasq.log").open("wb"),
            )
        )
        processes.append(
            subprocess.Popen(
                [
                    *inside,
                    "python3",
                    "-m",
                    "http.server",
                    "80",
                    "--bind",
                    "169.254.169.254",
                    "--directory",
                    str(root),
                ],
                stdout=subprocess.DEVNULL,
                stderr=(work / "metadata.log").open("wb"),
            )
        )
        yield MetadataNetwork(netns, tap, subnet)
    finally:
        for process in processes:
            process.kill()
            process.wait(10)
        for device in (tap, bridge):
            subprocess.run(["ip", "-n", netns, "link", "del", device], capture_output=True)
        subprocess.run(["ip", "netns", "del", netns], capture_output=True)


def http_get_in(netns: str, url: str) -> str:
    code = (
        "import sys, urllib.request\n"
        "print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())"
    )
    done = subprocess.run(
        ["ip", "netns", "exec", netns, "python3", "-c", code, url],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return done.stdout


@pytest.mark.netns
def test_metadata_service(test_image: BuildResult, tmp_path: Path) -> None:
    """No config drive: DHCP with the metadata route, then http://169.254.169.254."""
    instance = Instance(hostname="md-service")
    with metadata_network(instance, tmp_path) as net, boot(
        test_image,
        tmp_path,
        netns=net.netns,
        network=[
            "-netdev", f"tap,id=n0,ifname={net.tap},script=no,downscript=no",
            "-device", "virtio-net-pci,netdev=n0",
        ],
        drives=[],
    ) as guest:  # fmt: skip
        ip, _ = assert_cloud_guest(guest, instance, f"{net.subnet}.")
        assert "onestack-guest: metadata from metadata service" in guest.log_lines()
        assert http_get_in(net.netns, f"http://{ip}/token.txt").strip() == instance.token
        assert instance.hostname in http_get_in(net.netns, f"http://{ip}/hostname")
