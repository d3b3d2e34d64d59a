"""The volume driver contract, run against every driver of the seam (``file`` needs
qemu-img), and the scheduler's capacity filter and weigher."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from onestack.volume.drivers.base import NewVolume, VolumeDriver
from onestack.volume.drivers.fake import FakeDriver
from onestack.volume.drivers.file import FileDriver
from onestack.volume.models import Pool
from onestack.volume.service.pools import NoValidBackend, choose, fits

HAVE_QEMU_IMG = shutil.which("qemu-img") is not None


@pytest.fixture(params=["fake", "file-qcow2", "file-raw"])
def driver(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[VolumeDriver, str]:
    if request.param == "fake":
        return FakeDriver(100), "qcow2"
    if not HAVE_QEMU_IMG:
        pytest.skip("qemu-img is not installed")
    return FileDriver(tmp_path / "volumes"), request.param.split("-")[1]


def virtual_size(path: str) -> int:
    out = subprocess.run(
        ["qemu-img", "info", "--output=json", path], capture_output=True, check=True
    )
    return int(json.loads(out.stdout)["virtual-size"])


async def test_create_extend_clone_delete(driver: tuple[VolumeDriver, str]) -> None:
    drv, fmt = driver
    loc = await drv.create(NewVolume("a", 1, fmt))
    assert loc.format == fmt
    assert set(await drv.volumes()) == {"a"}
    await drv.extend(loc, 2)
    clone = await drv.clone(NewVolume("b", 3, fmt), loc)
    assert set(await drv.volumes()) == {"a", "b"}
    if isinstance(drv, FileDriver):
        assert virtual_size(loc.path) == 2 * 1024**3
        assert virtual_size(clone.path) == 3 * 1024**3
        # Sparse: a 2 GiB volume takes almost no space.
        assert Path(loc.path).stat().st_blocks * 512 < 16 * 1024**2
    # A second create of the same id replaces the first (an interrupted create redone).
    await drv.create(NewVolume("a", 1, fmt))
    await drv.delete("a", loc)
    await drv.delete("a", loc)  # already gone: no error
    await drv.delete("b", clone)
    assert await drv.volumes() == {}
    (pool,) = await drv.stats()
    assert pool.total_capacity_gb > 0 and 0 <= pool.free_capacity_gb <= pool.total_capacity_gb


@pytest.mark.skipif(not HAVE_QEMU_IMG, reason="qemu-img is not installed")
async def test_file_driver_leaves_no_partial_file(tmp_path: Path) -> None:
    drv = FileDriver(tmp_path, qemu_img="/bin/false")
    with pytest.raises(Exception, match="failed"):
        await drv.create(NewVolume("x", 1))
    assert list(tmp_path.iterdir()) == []


def pool(name: str, total: float, free: float, allocated: int, **kw: object) -> Pool:
    p = Pool(
        name=name, host="h", backend=kw.get("backend", "file"), driver="file",
        availability_zone=kw.get("zone", "nova"), total_capacity_gb=total,
        free_capacity_gb=free, allocated_capacity_gb=allocated, reserved_percentage=0,
        max_over_subscription_ratio=kw.get("ratio", 20.0), thin=kw.get("thin", True),
        disabled=False, updated_at=datetime(2030, 1, 1),
    )  # fmt: skip
    return p


def test_capacity_filter_as_cinder() -> None:
    thin = pool("a", 100, 50, 1900)
    assert fits(thin, 100)  # (1900+100)/100 = 20: at the ratio
    assert not fits(thin, 101)
    thick = pool("b", 100, 50, 0, thin=False)
    assert fits(thick, 50) and not fits(thick, 51)
    assert not fits(pool("c", 0, 0, 0), 1)


def test_choose_most_free_in_zone_and_backend() -> None:
    since = datetime(2029, 1, 1)
    pools = [
        pool("a", 100, 90, 500),
        pool("b", 100, 90, 10),
        pool("c", 1000, 900, 0, zone="other"),
        pool("d", 1000, 900, 0, backend="lvm"),
    ]
    assert choose(pools, 10, "nova", "file", since).name == "b"
    assert choose(pools, 10, "nova", None, since).name == "d"
    assert choose(pools, 10, "other", None, since).name == "c"
    with pytest.raises(NoValidBackend, match="Insufficient free space"):
        choose(pools, 10**6, "nova", None, since)
    with pytest.raises(NoValidBackend):
        choose(pools, 1, "nowhere", None, since)
    stale = since + timedelta(days=3650)
    with pytest.raises(NoValidBackend):
        choose(pools, 1, None, None, stale)


def test_qos_specs_become_qemu_throttling() -> None:
    from onestack.compute.drivers.qemu.hotplug import throttle_limits

    assert throttle_limits(()) == {}
    assert throttle_limits((("read_iops_sec", "100"), ("other", "1"))) == {
        "iops": 0, "iops_rd": 100, "iops_wr": 0, "bps": 0, "bps_rd": 0, "bps_wr": 0,
    }  # fmt: skip
    both = throttle_limits((("total_iops_sec", "50"), ("write_iops_sec", "10")))
    assert both["iops"] == 50 and both["iops_wr"] == 0  # QEMU takes a total or its parts


async def test_plug_volume_applies_the_throttle(tmp_path: Path) -> None:
    from onestack.compute.drivers.base import Volume
    from onestack.compute.drivers.qemu.hotplug import plug_volume

    class Recorder:
        def __init__(self) -> None:
            self.commands: list[tuple[str, dict[str, object]]] = []

        async def execute(self, command: str, args: dict[str, object]) -> None:
            self.commands.append((command, args))

    monitor = Recorder()
    vol = Volume("v-1", tmp_path / "v.qcow2", "qcow2", "v-1", qos=(("read_bytes_sec", "1048576"),))
    await plug_volume(monitor, 3, vol)  # type: ignore[arg-type]
    names = [c for c, _ in monitor.commands]
    assert names == ["blockdev-add", "device_add", "block_set_io_throttle"]
    throttle = monitor.commands[-1][1]
    device = monitor.commands[1][1]["id"]
    assert throttle["bps_rd"] == 1048576
    assert throttle["id"] == f"/machine/peripheral/{device}/virtio-backend"
