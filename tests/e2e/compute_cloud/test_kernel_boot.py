"""Direct kernel boot (issue #10) on the real data plane."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import time

import pytest

from tests.e2e.compute_cloud.lab import BOOT_TIMEOUT, Lab, qemu_argv, ssh_root
from tests.support.guests import DATAPLANE_MARKS

pytestmark = [*DATAPLANE_MARKS, pytest.mark.cli]


async def test_an_image_with_kernel_id_and_ramdisk_id_boots_them_directly_and_answers_ssh(
    world: Lab, vm1: str
) -> None:
    """Direct kernel boot (issue #10), as a Glance user sets it up: the test image's kernel
    and initramfs uploaded as aki/ari images, named by the disk image's kernel_id/ramdisk_id
    with an os_command_line. QEMU boots them (from the host's image cache) with that line, the
    guest gets its lease, key and hostname, and root logs in over SSH on a floating IP; a guest
    of the same disk without the properties (vm1) boots through its own boot loader."""
    lab = world
    if lab.ids["vmlinuz"] is None:
        pytest.skip("the cached test image predates its kernel kept apart: rebuild it")
    kernel = lab.cli("image", "create", "--public", "--disk-format", "aki", "--container-format",
                     "aki", "--file", str(lab.ids["vmlinuz"]), "direct-kernel")["id"]  # fmt: skip
    ramdisk = lab.cli("image", "create", "--public", "--disk-format", "ari", "--container-format",
                      "ari", "--file", str(lab.ids["initrd"]), "direct-ramdisk")["id"]  # fmt: skip
    line = "console=ttyS0,115200 loglevel=4 onestack.direct=1"
    lab.cli(
        "image", "create", "--public", "--disk-format", "qcow2", "--container-format", "bare",
        "--property", f"kernel_id={kernel}", "--property", f"ramdisk_id={ramdisk}",
        "--property", f"os_command_line={line}", "--min-ram", "128",
        "--file", lab.ids["image_path"], "onestack-test-direct",
    )  # fmt: skip
    with contextlib.suppress(subprocess.CalledProcessError, AssertionError):
        lab.demo("security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "22",
                 "--remote-ip", "0.0.0.0/0", "web")  # fmt: skip
    uuid = lab.boot("vm-direct", "--key-name", "mykey", "--security-group", "web",
                    image="onestack-test-direct")["id"]  # fmt: skip
    argv = qemu_argv(uuid)
    base = lab.instances / "_base"
    assert argv[argv.index("-kernel") + 1] == str(base / kernel)
    assert argv[argv.index("-initrd") + 1] == str(base / ramdisk)
    assert argv[argv.index("-append") + 1].startswith(line)
    assert "-kernel" not in qemu_argv(vm1), "vm1 (no kernel_id) boots its disk's boot loader"

    fip = lab.floating_ip("vm-direct")
    (lab.tmp / "mykey.pem").chmod(0o600)  # ssh refuses a key others may read
    deadline = time.monotonic() + BOOT_TIMEOUT
    while (done := await asyncio.to_thread(ssh_root, lab, fip, "hostname; cat /proc/cmdline",
                                           20)).returncode != 0:  # fmt: skip
        assert time.monotonic() < deadline, f"no SSH to vm-direct: {done.stderr}"
        await asyncio.sleep(1)
    hostname, cmdline = done.stdout.splitlines()[:2]
    assert hostname == "vm-direct"
    assert "onestack.direct=1" in cmdline.split()
