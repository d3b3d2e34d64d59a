"""The package's one cloud (``lab``), its project's network, router, group and key
(``world``), and the two long-lived guests (``vm1``, ``vm2``)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from onestack.image.testimage import BuildResult
from onestack.network.drivers.linuxbridge import DriverOptions, LinuxBridgeDriver
from tests.e2e.compute_cloud.lab import PREFIX, RUN_DIR, Lab, qemu_pids, start_cloud
from tests.support.guests import owned_leftovers


@pytest_asyncio.fixture(scope="package", loop_scope="package")
async def lab(
    tmp_path_factory: pytest.TempPathFactory, test_image: BuildResult
) -> AsyncIterator[Lab]:
    tmp = tmp_path_factory.mktemp("computecloud")
    instances = tmp / "instances"
    cloud = await asyncio.to_thread(start_cloud, tmp / "cloud", instances)
    lab = Lab(cloud, tmp, instances)
    lab.ids["image_path"] = str(test_image.path)
    lab.ids["vmlinuz"], lab.ids["initrd"] = test_image.vmlinuz, test_image.initrd
    try:
        yield lab
    finally:
        running = cloud.process is not None and cloud.process.poll() is None
        for name in lab.servers if running else ():
            with contextlib.suppress(subprocess.CalledProcessError, AssertionError):
                lab.demo("server", "delete", "--wait", name)
        if running:
            cloud.stop()
        for uuid in lab.servers.values():
            for pid in qemu_pids(uuid):
                os.kill(pid, signal.SIGKILL)
        await LinuxBridgeDriver(DriverOptions(prefix=PREFIX, run_dir=Path(RUN_DIR))).teardown()
        shutil.rmtree(RUN_DIR, ignore_errors=True)
    # Guests deleted, the cloud stopped and the driver's teardown run: nothing of ours is left.
    assert owned_leftovers(PREFIX) == []


@pytest.fixture(scope="package")
def world(lab: Lab) -> Lab:
    """What every guest of the package needs: the test image, project demo's network with a
    router to `public`, a security group for the web page, a key and a user-data script."""
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
    lab.ids["fingerprint"] = key["fingerprint"]
    boot = lab.tmp / "boot.sh"
    boot.write_text("#!/bin/sh\necho user-data-ran-$(hostname) > /dev/console\n")
    lab.ids["user_data"] = str(boot)
    return lab


@pytest.fixture
def vm1(world: Lab) -> str:
    """vm1 (metadata service, key, user data, the web group), ACTIVE."""
    return world.guest(
        "vm1", "--key-name", "mykey", "--user-data", world.ids["user_data"],
        "--security-group", "default", "--security-group", "web",
    )  # fmt: skip


@pytest.fixture
def vm2(world: Lab) -> str:
    """vm2 (config drive, key), ACTIVE."""
    return world.guest("vm2", "--key-name", "mykey", "--config-drive", "True")
