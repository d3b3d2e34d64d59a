"""Block storage end to end: a volume made by the ``file`` driver (a sparse qcow2 through
qemu-img) is hot-plugged over QMP into a running QEMU guest, which sees a new virtio disk and
writes on it; detached, the volume goes to a second server, whose guest reads the same data
back; the volume grows while attached (3.42) and the guest sees it; a QoS spec throttles a
disk in QEMU. The guests find each disk by its serial (the volume id) and report on their
consoles."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from onestack.image.testimage import BuildResult
from tests.conftest import new_cloud
from tests.support.cloud import Cloud
from tests.support.consoles import wait_console
from tests.support.guests import DATAPLANE_MARKS

pytestmark = [*DATAPLANE_MARKS, pytest.mark.cli]

BOOT_TIMEOUT = 180.0  # TCG on a busy 2-core machine
DATA = "onestack-volume-data-42"

# Run in the background by the guest's user data: wait for the disk whose serial is the
# volume's id, then write (or read) the first sector.
WATCHER = """
(
while true; do
  for d in /sys/block/vd*; do
    if [ "$(cat "$d/serial" 2> /dev/null)" = "{serial}" ]; then
      dev=/dev/$(basename "$d")
      echo "volume-seen $(basename "$d") $(cat "$d/size")" > /dev/console
      {action}
      exit 0
    fi
  done
  sleep 1
done
) &
"""
WRITE = (
    'echo {data} | dd of="$dev" bs=512 count=1 conv=sync 2> /dev/null; sync; '
    'echo "volume-written" > /dev/console'
)
# Four MiB read from a disk QEMU throttles to 1 MiB/s (a QoS spec on the volume's type).
TIMED_READ = (
    's=$(date +%s); dd if="$dev" of=/dev/null bs=65536 count=64 2> /dev/null; '
    'echo "volume-read-seconds $(($(date +%s) - s))" > /dev/console'
)
READ = (
    'echo "volume-read $(dd if="$dev" bs=512 count=1 2> /dev/null | head -n 1)" > /dev/console; '
    'old=$(cat "$d/size"); while true; do new=$(cat "$d/size"); '
    'if [ "$new" != "$old" ]; then echo "volume-size $new" > /dev/console; old=$new; fi; '
    "sleep 1; done"
)


@dataclass
class Lab:
    cloud: Cloud
    tmp: Path

    def cli(self, *args: str, json_output: bool = True) -> Any:
        return self.cloud.openstack(*args, cloud="onestack-demo", json_output=json_output)

    def console(self, name: str) -> str:
        out: str = self.cli("console", "log", "show", name, json_output=False)
        return out

    def wait_console(self, name: str, pattern: str, timeout: float = BOOT_TIMEOUT) -> re.Match[str]:
        return wait_console(self.console, name, pattern, timeout)

    def wait_volume(self, name: str, status: str, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            shown: dict[str, Any] = self.cli("volume", "show", name)
            if shown["status"] == status:
                return shown
            assert time.monotonic() < deadline, f"{name} is {shown['status']}, not {status}"
            time.sleep(0.5)

    def boot(self, name: str, watchers: list[tuple[str, str]]) -> str:
        """A server whose guest runs ``action`` when the volume ``id`` appears, per watcher."""
        script = self.tmp / f"{name}.sh"
        parts = [WATCHER.format(serial=vid[:20], action=action) for vid, action in watchers]
        script.write_text("#!/bin/sh\n" + "".join(parts))
        server = self.cli(
            "server", "create", "--image", "onestack-test", "--flavor", "m1.tiny",
            "--nic", "none", "--config-drive", "True", "--user-data", str(script), "--wait", name,
        )  # fmt: skip
        assert server["status"] == "ACTIVE"
        self.wait_console(name, r"onestack-guest ready")
        return str(server["id"])


def qemu_pids(uuid: str) -> list[int]:
    found = subprocess.run(["pgrep", "-f", f"qemu-system.*{uuid}"], capture_output=True, text=True)
    return [int(p) for p in found.stdout.split()]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def lab(
    tmp_path_factory: pytest.TempPathFactory, test_image: BuildResult
) -> AsyncIterator[Lab]:
    tmp = tmp_path_factory.mktemp("volumecloud")
    cloud = new_cloud(tmp / "cloud", None)
    cloud.env.update(
        {
            "ONESTACK_COMPUTE_DRIVER": "qemu",
            "ONESTACK_COMPUTE_INSTANCES_DIR": str(tmp / "instances"),
            "ONESTACK_COMPUTE_SHUTDOWN_TIMEOUT": "5",
            "ONESTACK_VOLUME_DRIVER": "file",
        }
    )
    await asyncio.to_thread(cloud.start)
    lab = Lab(cloud, tmp)
    cloud.openstack(
        "image", "create", "--public", "--disk-format", "qcow2", "--container-format", "bare",
        "--file", str(test_image.path), "onestack-test",
    )  # fmt: skip
    servers: list[str] = []
    try:
        yield lab
    finally:
        with contextlib.suppress(AssertionError):
            servers = [row["ID"] for row in cloud.openstack("server", "list", "--all-projects")]
        cloud.stop()
        for uuid in servers:
            for pid in qemu_pids(uuid):
                os.kill(pid, signal.SIGKILL)


async def test_data_written_by_one_guest_is_read_by_another(lab: Lab) -> None:
    volume = lab.cli("volume", "create", "--size", "1", "shared")
    volume_path = lab.cloud.data_dir / "volumes" / f"volume-{volume['id']}.qcow2"
    lab.wait_volume("shared", "available")
    assert volume_path.exists(), "the file driver made no qcow2 file"
    # A type whose front-end QoS spec reads at most 1 MiB/s, and a volume of it.
    admin = lab.cloud.openstack
    admin("volume", "type", "create", "limited")
    admin("volume", "qos", "create", "--consumer", "front-end", "--property",
          "read_bytes_sec=1048576", "slow-reads")  # fmt: skip
    admin("volume", "qos", "associate", "slow-reads", "limited", json_output=False)
    slow = lab.cli("volume", "create", "--size", "1", "--type", "limited", "slow")
    lab.wait_volume("slow", "available")
    watchers = [(volume["id"], WRITE.format(data=DATA)), (slow["id"], TIMED_READ)]
    vm1 = await asyncio.to_thread(lab.boot, "vm1", watchers)

    lab.cli("server", "add", "volume", "vm1", "shared", json_output=False)
    shown = lab.wait_volume("shared", "in-use")
    assert shown["attachments"][0]["server_id"] == vm1
    seen = lab.wait_console("vm1", r"volume-seen (vd\w+) (\d+)", 60)
    assert int(seen.group(2)) * 512 == 1024**3, "the guest's disk is not the volume's size"
    lab.wait_console("vm1", r"volume-written", 60)

    lab.cli("server", "remove", "volume", "vm1", "shared", json_output=False)
    assert lab.wait_volume("shared", "available")["attachments"] == []
    await asyncio.to_thread(lab.boot, "vm2", [(volume["id"], READ)])
    lab.cli("server", "add", "volume", "vm2", "shared", json_output=False)
    lab.wait_volume("shared", "in-use")
    read = lab.wait_console("vm2", r"volume-read (\S*)", 60)
    assert read.group(1) == DATA, "the second guest did not read what the first wrote"

    # 3.42: the volume grows while attached, and the running guest sees the new size.
    lab.cloud.openstack(
        "--os-volume-api-version", "3.42", "volume", "set", "--size", "2", "shared",
        cloud="onestack-demo", json_output=False,
    )  # fmt: skip
    assert lab.wait_volume("shared", "in-use")["size"] == 2
    grown = lab.wait_console("vm2", r"volume-size (\d+)", 60)
    assert int(grown.group(1)) * 512 == 2 * 1024**3, "the guest did not see the volume grow"

    # The QoS spec reaches QEMU: the guest reads the throttled disk at about 1 MiB/s.
    lab.cli("server", "add", "volume", "vm1", "slow", json_output=False)
    timed = lab.wait_console("vm1", r"volume-read-seconds (\d+)", 60)
    assert int(timed.group(1)) >= 3, "4 MiB at 1 MiB/s took under 3 s: not throttled"

    # A server deleted with the volume attached leaves it available.
    lab.cli("server", "delete", "--wait", "vm2", json_output=False)
    assert lab.wait_volume("shared", "available")["attachments"] == []
    lab.cli("server", "delete", "--wait", "vm1", json_output=False)
    lab.wait_volume("slow", "available")
    lab.cli("volume", "delete", "shared", "slow", json_output=False)
    deadline = time.monotonic() + 30
    while volume_path.exists():
        assert time.monotonic() < deadline, "the volume's file stayed"
        await asyncio.sleep(0.2)


# Run by a guest booted from a volume: its root disk's serial (the volume id), then a marker
# written past the end of the image's partition (the volume is larger than the image), where
# nothing of the guest's file system lives.
ROOT_CHECK = """#!/bin/sh
echo "root-serial $(cat /sys/block/vda/serial)" > /dev/console
echo {data} | dd of=/dev/vda bs=512 seek=200000 count=1 conv=sync 2> /dev/null; sync
echo "root-written" > /dev/console
"""


async def test_a_guest_booted_from_a_volume_runs_from_it(lab: Lab) -> None:
    marker = "onestack-boot-volume-marker-7"
    script = lab.tmp / "root-check.sh"
    script.write_text(ROOT_CHECK.format(data=marker))
    # The test image written into a new 1 GiB volume by the file driver, the guest started on
    # that file (no overlay of the image).
    server = lab.cli(
        "server", "create", "--image", "onestack-test", "--boot-from-volume", "1",
        "--flavor", "m1.tiny", "--nic", "none", "--config-drive", "True",
        "--user-data", str(script), "--wait", "bfv",
    )  # fmt: skip
    assert server["status"] == "ACTIVE" and "booted from volume" in server["image"]
    (attached,) = [v["id"] for v in server["volumes_attached"]]
    shown = lab.wait_volume(attached, "in-use")
    assert shown["bootable"] in (True, "true")
    assert shown["attachments"][0]["device"] == "/dev/vda"
    serial = lab.wait_console("bfv", r"root-serial (\S+)")
    assert serial.group(1) == attached[:20], "the guest's root disk is not the volume"
    lab.wait_console("bfv", r"root-written", 60)
    assert not (lab.tmp / "instances" / server["id"] / "disk").exists(), "an overlay was made"
    # The server goes; the volume (not delete_on_termination) stays with what the guest wrote.
    lab.cli("server", "delete", "--wait", "bfv", json_output=False)
    lab.wait_volume(attached, "available")
    (path,) = (lab.cloud.data_dir / "volumes").glob(f"volume-{attached}.*")
    data = await asyncio.to_thread(path.read_bytes)
    assert marker.encode() in data, "the guest's write did not reach the volume's file"
    lab.cli("volume", "delete", attached, json_output=False)
