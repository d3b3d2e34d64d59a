"""One contract, every virt driver: what the compute agent may rely on whichever driver runs.

The qemu run boots the test image under TCG; boots are few (one guest walks through most of the
life cycle) and only the steps that need the guest's OS wait for its ready marker.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from onestack.compute.dataplane import load_driver
from onestack.compute.drivers.base import (
    BootSource,
    ComputeDriver,
    DriverError,
    InstanceSpec,
    PowerState,
    Volume,
)
from onestack.compute.drivers.fake import FakeDriver

READY = "onestack-guest ready"
BOOT_TIMEOUT = 60.0  # a TCG boot takes ~10 s; generous for a loaded runner
# A guest that is still booting misses the power button: resize and revert would wait out the
# whole clean-shutdown time.
OPTIONS: dict[str, dict[str, object]] = {"fake": {}, "qemu": {"stop_timeout": 3.0}}
CAN_RUN_QEMU = os.geteuid() == 0 and all(
    shutil.which(t) for t in ("qemu-system-x86_64", "qemu-img")
)


@pytest.fixture(
    params=[
        "fake",
        pytest.param(
            "qemu",
            marks=[
                pytest.mark.qemu,
                pytest.mark.root,
                pytest.mark.skipif(not CAN_RUN_QEMU, reason="needs root and QEMU"),
            ],
        ),
    ]
)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def image(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    if kind == "qemu":
        return Path(request.getfixturevalue("test_image").path)
    path = tmp_path / "image.qcow2"
    path.write_bytes(b"QFI\xfb\x00\x00\x00\x03" + bytes(504))
    return path


@pytest.fixture
async def driver(kind: str, tmp_path: Path) -> AsyncIterator[ComputeDriver]:
    d = load_driver(kind, tmp_path / "instances", **OPTIONS[kind])
    await d.init_host()
    try:
        yield d
    finally:
        for uuid_ in await d.list_instances():
            await d.destroy(uuid_)
        await d.close()


def make_spec(image: Path, hostname: str = "contract", **changes: object) -> InstanceSpec:
    server = str(uuid.uuid4())
    meta = {"uuid": server, "hostname": hostname, "name": hostname, "launch_index": 0}
    spec = InstanceSpec(
        uuid=server,
        name="instance-00000001",
        hostname=hostname,
        vcpus=1,
        memory_mb=256,
        root_gb=0,
        boot=BootSource(image_id="test-image", image_path=image, image_format="qcow2"),
        config_drive={"openstack/latest/meta_data.json": json.dumps(meta).encode()},
    )
    return replace(spec, **changes)  # type: ignore[arg-type]


async def wait_ready(driver: ComputeDriver, spec: InstanceSpec, boots: int = 1) -> None:
    """Until the console shows the ready marker of boot number ``boots``."""
    pattern = re.compile(rf"^{READY} {re.escape(spec.hostname)} \S+\s*$", re.MULTILINE)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + BOOT_TIMEOUT
    text = ""
    while loop.time() < deadline:
        text = await driver.console_output(spec.uuid)
        if len(pattern.findall(text)) >= boots:
            return
        await asyncio.sleep(0.2)
    tail = "\n".join(text.splitlines()[-30:])
    pytest.fail(f"no ready marker #{boots} within {BOOT_TIMEOUT}s; console:\n{tail}")


async def power(driver: ComputeDriver, spec: InstanceSpec) -> PowerState:
    return (await driver.list_instances())[spec.uuid].power_state


def qemu_img_info(path: Path) -> dict[str, object]:
    done = subprocess.run(
        ["qemu-img", "info", "-U", "--output=json", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    info: dict[str, object] = json.loads(done.stdout)
    return info


# --- the life cycle of one guest --------------------------------------------------------------


async def test_life_cycle_of_one_guest(
    driver: ComputeDriver, kind: str, image: Path, tmp_path: Path
) -> None:
    spec = make_spec(image)
    await driver.spawn(spec)
    assert await power(driver, spec) == PowerState.RUNNING
    if kind == "qemu":
        # The (compressed) qcow2 image is cached raw, as Nova's force_raw_images does.
        disk = qemu_img_info(tmp_path / "instances" / spec.uuid / "disk")
        assert disk["backing-filename-format"] == "raw"
        assert str(disk["backing-filename"]).endswith(".raw")
    await wait_ready(driver, spec)
    assert (await driver.console_output(spec.uuid, length=1)).count("\n") <= 1
    await driver.spawn(spec)  # again: the guest already runs, nothing happens
    assert await power(driver, spec) == PowerState.RUNNING

    await driver.pause(spec.uuid)
    assert await power(driver, spec) == PowerState.PAUSED
    await driver.unpause(spec.uuid)
    assert await power(driver, spec) == PowerState.RUNNING

    diag = await driver.diagnostics(spec.uuid)
    assert diag["state"] == "running" and diag["num_cpus"] == 1
    assert diag["config_drive"] is True
    assert diag["memory_details"]["maximum"] == 256
    disks = diag["num_disks"]

    # A volume comes and goes while the guest runs.
    volume_path = tmp_path / "vol1.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(volume_path), "16M"],
                   check=True)  # fmt: skip
    volume = Volume("vol-1", volume_path, "qcow2", serial="vol-1")
    await driver.attach_volume(spec.uuid, volume)
    await driver.attach_volume(spec.uuid, volume)  # again: nothing changes
    assert (await driver.diagnostics(spec.uuid))["num_disks"] == disks + 1
    await driver.detach_volume(spec.uuid, "vol-1")
    assert (await driver.diagnostics(spec.uuid))["num_disks"] == disks
    await driver.detach_volume(spec.uuid, "vol-1")  # already gone: fine

    snapshot = tmp_path / "snap.qcow2"
    assert await driver.snapshot(spec.uuid, snapshot) == "qcow2"
    assert await power(driver, spec) == PowerState.RUNNING
    if kind == "qemu":
        info = qemu_img_info(snapshot)
        assert info["format"] == "qcow2"
        assert "backing-filename" not in info  # flattened: stands alone

    await driver.suspend(spec.uuid)
    assert await power(driver, spec) == PowerState.SUSPENDED
    await driver.resume(spec)
    assert await power(driver, spec) == PowerState.RUNNING

    await driver.power_off(spec.uuid, timeout=30)
    assert await power(driver, spec) == PowerState.SHUTDOWN
    await driver.power_off(spec.uuid, timeout=30)  # again: still off
    await driver.power_on(spec)
    assert await power(driver, spec) == PowerState.RUNNING
    await wait_ready(driver, spec, boots=2)

    await driver.destroy(spec.uuid)
    assert spec.uuid not in await driver.list_instances()
    if kind == "qemu":
        assert not (tmp_path / "instances" / spec.uuid).exists()
    await driver.destroy(spec.uuid)  # gone already: fine


async def test_resize_grows_the_disk_and_revert_restores_it(
    driver: ComputeDriver, kind: str, image: Path, tmp_path: Path
) -> None:
    spec = make_spec(image, hostname="resized")
    await driver.spawn(spec)
    bigger = replace(spec, vcpus=2, memory_mb=320, root_gb=1)
    await driver.resize(spec, bigger)
    assert await power(driver, spec) == PowerState.RUNNING
    diag = await driver.diagnostics(spec.uuid)
    assert diag["num_cpus"] == 2 and diag["memory_details"]["maximum"] == 320
    disk = tmp_path / "instances" / spec.uuid / "disk"
    if kind == "qemu":
        assert qemu_img_info(disk)["virtual-size"] == 2**30
    await driver.revert_resize(spec)
    assert await power(driver, spec) == PowerState.RUNNING
    diag = await driver.diagnostics(spec.uuid)
    assert diag["num_cpus"] == 1 and diag["memory_details"]["maximum"] == 256
    if kind == "qemu":
        assert qemu_img_info(disk)["virtual-size"] < 2**30
        assert not (disk.parent / "disk.resize-backup").exists()
    with pytest.raises(DriverError):
        await driver.revert_resize(spec)  # nothing left to revert
    await driver.resize(spec, bigger)
    await driver.confirm_resize(spec.uuid)
    with pytest.raises(DriverError):
        await driver.revert_resize(bigger)


async def test_rescue_and_nmi(
    driver: ComputeDriver, kind: str, image: Path, tmp_path: Path
) -> None:
    spec = make_spec(image, hostname="rescued")
    await driver.spawn(spec)
    rescue = BootSource(image_id="rescue-image", image_path=image, image_format="qcow2")
    await driver.rescue(replace(spec, rescue=rescue))
    assert await power(driver, spec) == PowerState.RUNNING
    files = tmp_path / "instances" / spec.uuid
    if kind == "qemu":
        argv = await qemu_argv(driver, spec)
        assert blockdev(argv, "root").endswith(f"file.filename={files / 'disk.rescue'}")
        assert blockdev(argv, "rescued").endswith(f"file.filename={files / 'disk'}")
        assert "virtio-blk-pci,id=rescued-disk,drive=rescued" in argv
        # The rescue system boots: one more ready marker than the first guest printed.
        before = (await driver.console_output(spec.uuid)).count(f"{READY} rescued ")
        await wait_ready(driver, spec, boots=before + 1)
    else:
        assert "rescue from image rescue-image" in await driver.console_output(spec.uuid)
    await driver.unrescue(spec)
    assert await power(driver, spec) == PowerState.RUNNING
    if kind == "qemu":
        argv = await qemu_argv(driver, spec)
        assert blockdev(argv, "root").endswith(f"file.filename={files / 'disk'}")
        assert not blockdev(argv, "rescued")
        assert not (files / "disk.rescue").exists()
    with pytest.raises(DriverError):
        await driver.rescue(spec)  # no rescue image given
    # An NMI (trigger_crash_dump) reaches a running guest, not a stopped one.
    await driver.inject_nmi(spec.uuid)
    assert await power(driver, spec) == PowerState.RUNNING
    await driver.power_off(spec.uuid, timeout=0)
    with pytest.raises(DriverError):
        await driver.inject_nmi(spec.uuid)


async def qemu_argv(driver: ComputeDriver, spec: InstanceSpec) -> list[str]:
    """The running QEMU's command line."""
    pid = (await driver.list_instances())[spec.uuid].pid
    assert pid is not None
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")


def blockdev(argv: list[str], node: str) -> str:
    """The ``-blockdev`` of node ``node`` (empty when there is none)."""
    return next((a for a in argv if a.startswith(f"driver=qcow2,node-name={node},")), "")


async def test_a_new_driver_finds_the_running_guest(
    driver: ComputeDriver, kind: str, image: Path, tmp_path: Path
) -> None:
    """The agent was killed and started again: the guest kept running and is found again."""
    if kind == "fake":
        pytest.skip("the fake driver keeps its guests in memory")
    spec = make_spec(image, hostname="survivor")
    await driver.spawn(spec)
    await driver.close()  # the old agent lets go without stopping the guest
    again = load_driver(kind, tmp_path / "instances", **OPTIONS[kind])
    try:
        await again.init_host()
        found = await again.list_instances()
        assert found[spec.uuid].power_state == PowerState.RUNNING
        assert found[spec.uuid].pid
        await again.power_off(spec.uuid, timeout=0)
        assert (await again.list_instances())[spec.uuid].power_state == PowerState.SHUTDOWN
    finally:
        await again.close()


async def test_unknown_instances_are_errors_and_destroy_is_not(driver: ComputeDriver) -> None:
    ghost = str(uuid.uuid4())
    await driver.destroy(ghost)
    for call in (
        driver.pause(ghost),
        driver.power_off(ghost),
        driver.suspend(ghost),
        driver.console_output(ghost),
        driver.diagnostics(ghost),
        driver.attach_volume(ghost, Volume("v", Path("/nonexistent"), "raw", "v")),
    ):
        with pytest.raises(DriverError):
            await call


async def test_a_failed_spawn_leaves_nothing_behind(
    driver: ComputeDriver, kind: str, tmp_path: Path
) -> None:
    if kind == "fake":
        pytest.skip("the fake driver does not read images")
    spec = make_spec(tmp_path / "no-such-image.qcow2")
    with pytest.raises(DriverError):
        await driver.spawn(spec)
    assert spec.uuid not in await driver.list_instances()
    assert not (tmp_path / "instances" / spec.uuid).exists()


async def test_states_a_guest_cannot_leave(driver: ComputeDriver, image: Path) -> None:
    """A stopped guest cannot be paused, suspended or resumed."""
    spec = make_spec(image, hostname="stopped")
    await driver.spawn(spec)
    await driver.power_off(spec.uuid, timeout=0)
    for call in (driver.pause(spec.uuid), driver.suspend(spec.uuid), driver.resume(spec)):
        with pytest.raises(DriverError):
            await call
    assert await power(driver, spec) == PowerState.SHUTDOWN


async def test_a_failing_fake_spawn_leaves_nothing(tmp_path: Path) -> None:
    driver = FakeDriver(tmp_path, fail_spawn=True)
    spec = make_spec(tmp_path / "image.qcow2")
    with pytest.raises(DriverError):
        await driver.spawn(spec)
    assert await driver.list_instances() == {}
    driver.fail_spawn = False
    await driver.spawn(spec)
    assert READY in await driver.console_output(spec.uuid)
