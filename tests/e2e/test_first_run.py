"""A fresh machine's first cloud on the REAL default paths (issue #10).

`onestack up` with no --data-dir (the default `~/.local/share/onestack`, under a throwaway HOME
so a developer's data is never touched), the default device prefix `os` and run directory
`/run/onestack/os`, starting from a missing `/run/onestack` as after a reboot. The CI layers
use run directories of their own and never saw the regression: `/run/onestack` made 0700 by
the accelerator cache under the server's umask, dnsmasq (dropped to nobody) unable to read its
hosts file, and the first guest without a lease (`onestack-guest ready vm1 none`). The
README's guest lines run here as written (a shell with the venv first on PATH): network,
router, floating IP, `ssh root@FIP hostname`; and m1.nano is refused for the test image.

A developer's cloud may use the same paths: the module takes a lock and skips when a data
plane with the prefix `os` is present; it tears down everything it made.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from onestack.image.testimage import BuildResult
from onestack.image.testimage.build import cache_dir
from onestack.network.drivers.linuxbridge import DriverOptions, LinuxBridgeDriver
from tests.support.cloud import base_env, free_port
from tests.support.consoles import wait_console
from tests.support.guests import DATAPLANE_MARKS, owned_leftovers

pytestmark = [*DATAPLANE_MARKS, pytest.mark.qemu, pytest.mark.cli]

REPO = Path(__file__).resolve().parents[2]

DEFAULT_PREFIX = "os"
RUN_ROOT = Path("/run/onestack")
RUN_DIR = RUN_ROOT / DEFAULT_PREFIX
LOCK = Path("/run/lock/onestack-default-paths.lock")
BOOT_TIMEOUT = 180.0  # TCG on a busy 2-core machine


@dataclass
class FirstRun:
    home: Path
    env: dict[str, str]
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    readme_dir: Path | None = None  # where the README's lines ran (mykey.pem)

    @property
    def data_dir(self) -> Path:
        return self.home / ".local" / "share" / "onestack"

    def openstack(self, *args: str, cloud: str = "onestack-demo", json_out: bool = True) -> Any:
        """The README's plain `openstack --os-cloud ...`: ~/.config/openstack/clouds.yaml."""
        import json

        argv = [str(Path(sys.executable).with_name("openstack")), "--os-cloud", cloud, *args]
        if json_out:
            argv += ["-f", "json"]
        done = subprocess.run(
            argv, env=self.env, capture_output=True, text=True, timeout=180, check=False
        )
        assert done.returncode == 0, f"openstack {' '.join(args)}:\n{done.stderr}"
        return json.loads(done.stdout) if json_out and done.stdout.strip() else done.stdout

    def console(self, name: str) -> str:
        out: str = self.openstack("console", "log", "show", name, json_out=False)
        return out

    def wait_console(self, name: str, pattern: str, timeout: float = BOOT_TIMEOUT) -> re.Match[str]:
        return wait_console(self.console, name, pattern, timeout)


@pytest.fixture(scope="module")
def default_paths_lock() -> Iterator[None]:
    """One user of the default paths at a time; none while a cloud of the host uses them."""
    with open(LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        # Devices or namespaces of the prefix: a cloud runs there. Rules alone are what a
        # stopped cloud leaves (the teardown below removes them too).
        if any(item.startswith(("link ", "netns ")) for item in owned_leftovers(DEFAULT_PREFIX)):
            pytest.skip("a cloud on the default paths (device prefix os) is running here")
        yield


def qemu_pids(marker: str) -> list[int]:
    found = subprocess.run(
        ["pgrep", "-f", f"qemu-system.*{marker}"], capture_output=True, text=True
    )
    return [int(p) for p in found.stdout.split()]


def start(
    env: dict[str, str], port: int, log: Path, timeout: float = 90
) -> subprocess.Popen[bytes]:
    out = open(log, "ab")  # noqa: SIM115 - closed with the process
    offset = log.stat().st_size
    proc = subprocess.Popen(
        [sys.executable, "-m", "onestack", "up", "--port", str(port)],
        env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if "OneStack is up" in log.read_bytes()[offset:].decode(errors="replace"):
            return proc
        assert proc.poll() is None, log.read_text()[-4000:]
        time.sleep(0.05)
    raise AssertionError(f"onestack up did not start in {timeout}s:\n{log.read_text()[-4000:]}")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def first_run(
    tmp_path_factory: pytest.TempPathFactory, test_image: BuildResult, default_paths_lock: None
) -> AsyncIterator[FirstRun]:
    tmp = tmp_path_factory.mktemp("firstrun")
    home = tmp / "home"
    home.mkdir()
    env = base_env(home, None)
    for name in ("ONESTACK_NETWORK_DRIVER", "ONESTACK_COMPUTE_DRIVER"):
        env.pop(name)  # `auto`, as a user gets: real drivers as root with the tools present
    env["XDG_CACHE_HOME"] = str(cache_dir().parents[1])  # the test image already built
    # As after a reboot (/run is a tmpfs): no accelerator cache, no run directory.
    shutil.rmtree(RUN_ROOT, ignore_errors=True)
    port = free_port()
    log = tmp / "up.log"
    log.touch()
    proc = await asyncio.to_thread(start, env, port, log)
    run = FirstRun(home, env, port, proc, log)
    try:
        yield run
    finally:
        if run.process.poll() is None:
            run.process.send_signal(signal.SIGINT)
            try:
                run.process.wait(30)
            except subprocess.TimeoutExpired:
                run.process.kill()
        instances = run.data_dir / "instances"
        for pid in qemu_pids(str(instances)):
            os.kill(pid, signal.SIGKILL)
        options = DriverOptions(prefix=DEFAULT_PREFIX, run_dir=RUN_DIR)
        await LinuxBridgeDriver(options).teardown()
        shutil.rmtree(RUN_DIR, ignore_errors=True)


async def test_up_on_the_default_paths_uses_the_real_data_plane(first_run: FirstRun) -> None:
    banner = first_run.log.read_text()
    assert "network linuxbridge" in banner and "compute qemu" in banner, banner[-2000:]
    assert first_run.data_dir.joinpath("clouds.yaml").exists()
    # The compute agent registers in the background once the accelerator probe answers.
    deadline = time.monotonic() + 60
    while not (RUN_ROOT / "accelerator.json").exists():
        assert time.monotonic() < deadline, "the accelerator probe did not run"
        await asyncio.sleep(0.2)


def readme_block(containing: str) -> str:
    text = (REPO / "README.md").read_text()
    blocks = re.findall(r"^```sh\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
    (block,) = [b for b in blocks if containing in b]
    return str(block)


async def test_the_readme_guest_lines_work_first_time(first_run: FirstRun, tmp_path: Path) -> None:
    """The README's guest block, copied line by line into a shell: lease, floating IP, SSH."""
    first_run.readme_dir = tmp_path
    script = "set -euo pipefail\n" + readme_block("keypair create mykey")
    venv_bin = str(Path(sys.executable).parent)  # what `. .venv/bin/activate` puts first
    env = {**first_run.env, "PATH": f"{venv_bin}:{os.environ['PATH']}"}
    done = await asyncio.to_thread(
        subprocess.run, ["bash", "-c", script], cwd=tmp_path, env=env,
        capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    # The ssh line printed the server's name; the console shows the lease it got.
    assert "vm1" in done.stdout.splitlines(), done.stdout[-3000:]
    ip = first_run.openstack("server", "show", "vm1")["addresses"]["private"][0]
    ready = first_run.wait_console("vm1", r"onestack-guest ready (\S+) (\S+)")
    assert ready.groups() == ("vm1", ip), first_run.console("vm1")
    # What made the difference: every level down to dnsmasq's files is open to nobody.
    hosts = next((RUN_DIR / "dhcp").glob("*/host"))
    for level in hosts.parents:
        assert level.stat().st_mode & 0o001, f"{level} is closed to nobody"
    assert hosts.stat().st_mode & 0o004


async def test_m1_nano_is_refused_for_the_test_image_with_novas_400(first_run: FirstRun) -> None:
    image = first_run.openstack("image", "show", "onestack-test")
    assert (image["min_ram"], image["min_disk"]) == (128, 1)
    # Registered with its kernel and initramfs as images of their own: compute boots them
    # directly (issue #10), and the README's SSH line above reached a guest booted so.
    kernel = first_run.openstack("image", "show", image["properties"]["kernel_id"])
    assert (kernel["name"], kernel["disk_format"]) == ("onestack-test-kernel", "aki")
    assert image["properties"]["ramdisk_id"] and image["properties"]["os_command_line"]
    argv = [str(Path(sys.executable).with_name("openstack")), "--os-cloud", "onestack-demo",
            "server", "create", "--image", "onestack-test", "--flavor", "m1.nano",
            "--network", "private", "nano"]  # fmt: skip
    done = subprocess.run(argv, env=first_run.env, capture_output=True, text=True, check=False)
    assert done.returncode != 0
    assert "Flavor's memory is too small for requested image." in done.stderr
    assert "400" in done.stderr


def ssh_hostname(key: Path, address: str) -> str:
    done = subprocess.run(
        ["ssh", "-i", str(key), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
         "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=3", f"root@{address}",
         "hostname"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    return done.stdout.strip()


async def test_after_a_host_reboot_the_guest_is_back_without_a_user_command(
    first_run: FirstRun,
) -> None:
    """Issue #10: a reboot simulated (kill -9 of the cloud and its guests; /run/onestack,
    devices, namespaces and rules gone), then `onestack up`: vm1 is ACTIVE again, has its
    lease and answers on its floating IP, started by resume_guests_state_on_host_boot."""
    fip = first_run.openstack("floating", "ip", "list")[0]["Floating IP Address"]
    assert first_run.readme_dir is not None, "runs after the README's lines"
    key = first_run.readme_dir / "mykey.pem"
    ready_before = first_run.console("vm1").count("onestack-guest ready vm1 ")
    first_run.process.kill()
    first_run.process.wait()
    for pid in qemu_pids(str(first_run.data_dir / "instances")):
        os.kill(pid, signal.SIGKILL)
    options = DriverOptions(prefix=DEFAULT_PREFIX, run_dir=RUN_DIR)
    await LinuxBridgeDriver(options).teardown()
    shutil.rmtree(RUN_ROOT, ignore_errors=True)
    assert not qemu_pids(str(first_run.data_dir / "instances"))

    first_run.process = await asyncio.to_thread(start, first_run.env, first_run.port, first_run.log)

    deadline = time.monotonic() + BOOT_TIMEOUT
    ip = first_run.openstack("server", "show", "vm1")["addresses"]["private"][0]
    while first_run.console("vm1").count(f"onestack-guest ready vm1 {ip}") <= ready_before:
        assert time.monotonic() < deadline, first_run.console("vm1")[-3000:]
        await asyncio.sleep(2)
    server = first_run.openstack("server", "show", "vm1")
    assert server["status"] == "ACTIVE" and server["OS-EXT-STS:power_state"] in (1, "Running")
    while ssh_hostname(key, fip) != "vm1":
        assert time.monotonic() < deadline, f"vm1 does not answer on {fip}"
        await asyncio.sleep(2)
