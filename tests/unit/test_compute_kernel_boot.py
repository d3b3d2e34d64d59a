"""Direct kernel boot (issue #10): an image's ``kernel_id``/``ramdisk_id``/``os_command_line``
properties, read by the compute agent through the image service's facade as the server's
project, become QEMU's ``-kernel``/``-initrd``/``-append`` (from the driver's image cache) only
when the image names them."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from onestack.common import errors
from onestack.common.context import RequestContext
from onestack.compute.agent.images import work_dir
from onestack.compute.agent.specs import Specs
from onestack.compute.drivers.base import BootSource, InstanceSpec
from onestack.compute.drivers.qemu.cmdline import LaunchOptions, build_command
from onestack.compute.drivers.qemu.machines import Machines
from onestack.compute.drivers.qemu.paths import InstancePaths
from onestack.compute.service.boot import BuildRefused
from onestack.compute.service.kernels import boot_images

UUID = "6f1c54a8-8a1e-4c43-9f3b-1d2f3e4a5b6c"
MINE, THEIRS = "p-mine", "p-theirs"


@dataclass
class Rec:
    id: str
    owner: str
    visibility: str = "private"
    disk_format: str = "qcow2"
    status: str = "active"
    properties: dict[str, str] = field(default_factory=dict)


class Images:
    """The image service's facade as the agent uses it: visibility as Glance's (own or public),
    and a local file per active image."""

    def __init__(self, root: Path, *recs: Rec) -> None:
        self.root = root
        self.recs = {r.id: r for r in recs}
        for r in recs:
            if r.status == "active":
                (root / r.id).write_bytes(f"bytes of {r.id}".encode())
        self.asked: list[tuple[str | None, str]] = []

    async def get_image(self, ctx: RequestContext | None, image_id: str) -> Rec:
        self.asked.append((ctx.project_id if ctx else None, image_id))
        rec = self.recs.get(image_id)
        if rec is None or (ctx and rec.owner != ctx.project_id and rec.visibility != "public"):
            raise errors.NotFound(f"No image found with ID {image_id}")
        return rec

    async def open_image(self, image_id: str) -> tuple[Rec, Path]:
        rec = await self.get_image(None, image_id)
        if rec.status != "active":
            raise errors.Conflict(f"Image {image_id} has no data (status {rec.status}).")
        return rec, self.root / image_id

    async def open_image_data(self, image_id: str) -> Path:
        return (await self.open_image(image_id))[1]


def specs_with(images: Images) -> Specs:
    svc: Any = SimpleNamespace(context=SimpleNamespace(image=images))
    return Specs(svc)


ROW: Any = SimpleNamespace(user_id="u1", project_id=MINE)


def spec_of(boot: BootSource) -> InstanceSpec:
    return InstanceSpec(uuid=UUID, name="instance-0000000a", hostname="vm", vcpus=1,
                        memory_mb=256, root_gb=1, boot=boot)  # fmt: skip


def values(argv: list[str], option: str) -> list[str]:
    return [argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg == option]


@pytest.fixture
def images(tmp_path: Path) -> Images:
    direct = {"kernel_id": "k1", "ramdisk_id": "r1", "os_command_line": "console=ttyS0 quiet"}
    return Images(
        tmp_path,
        Rec("plain", MINE),
        Rec("direct", MINE, properties=direct),
        Rec("k1", THEIRS, "public", "aki"),
        Rec("r1", MINE, disk_format="ari"),
        Rec("theirs-k", THEIRS, disk_format="aki"),
        Rec("queued-k", MINE, disk_format="aki", status="queued"),
        Rec("other-kernel", MINE, properties={"kernel_id": "theirs-k"}),
        Rec("ghost-ramdisk", MINE, properties={"kernel_id": "k1", "ramdisk_id": "nowhere"}),
        Rec("empty-kernel", MINE, properties={"kernel_id": "queued-k"}),
        Rec("no-kernel", MINE, properties={"kernel_id": "nokernel", "ramdisk_id": "r1"}),
        Rec("ramdisk-alone", MINE, properties={"ramdisk_id": "r1"}),
    )


async def test_the_command_line_boots_the_kernel_only_when_the_image_names_one(
    images: Images, tmp_path: Path
) -> None:
    paths = InstancePaths(tmp_path / "instances" / UUID)
    specs = specs_with(images)
    boot, _ = await specs.boot_source("direct", ROW)
    assert (boot.kernel_path, boot.ramdisk_path) == (tmp_path / "k1", tmp_path / "r1")
    assert (boot.kernel_id, boot.ramdisk_id) == ("k1", "r1")
    # Looked up as the server's project (a public kernel, the project's own ramdisk).
    assert (MINE, "k1") in images.asked and (MINE, "r1") in images.asked
    argv = build_command(spec_of(boot), paths, "tcg", LaunchOptions(tsc_khz=2000000))
    assert values(argv, "-kernel") == [str(tmp_path / "k1")]
    assert values(argv, "-initrd") == [str(tmp_path / "r1")]
    assert values(argv, "-append") == [
        "console=ttyS0 quiet tsc=reliable no_timer_check tsc_early_khz=2000000"
    ]
    # Without the properties (or with Nova's "nokernel", or a ramdisk alone) the disk's own
    # boot loader boots it: no -kernel, -initrd or -append at all.
    for image in ("plain", "no-kernel", "ramdisk-alone"):
        boot, _ = await specs.boot_source(image, ROW)
        assert boot.kernel_path is None and boot.ramdisk_path is None and boot.cmdline is None
        argv = build_command(spec_of(boot), paths, "tcg")
        assert not {"-kernel", "-initrd", "-append"} & set(argv), image


async def test_a_kernel_the_project_cannot_have_refuses_the_build(images: Images) -> None:
    specs = specs_with(images)
    with pytest.raises(BuildRefused) as refused:
        await specs.boot_source("other-kernel", ROW)
    assert refused.value.message == (
        "The kernel image theirs-k (kernel_id of image other-kernel) could not be found."
    )
    with pytest.raises(BuildRefused, match=r"ramdisk image nowhere \(ramdisk_id of image gh"):
        await specs.boot_source("ghost-ramdisk", ROW)
    with pytest.raises(BuildRefused, match=r"kernel image queued-k .* cannot be used: .* no data"):
        await specs.boot_source("empty-kernel", ROW)


def test_nova_s_nokernel_names_no_boot_files() -> None:
    assert boot_images({"kernel_id": "k", "ramdisk_id": "r"}) == ("k", "r")
    assert boot_images({"kernel_id": "nokernel", "ramdisk_id": "r"}) == (None, None)
    assert boot_images({"kernel_id": ""}) == (None, None)


async def test_the_driver_boots_the_kernel_from_its_image_cache(tmp_path: Path) -> None:
    """The guest's -kernel/-initrd are the cache's files (hard links, by image id): they
    outlive the image service's files, as the disk's cached base does."""
    store = tmp_path / "store"
    store.mkdir()
    (store / "kfile").write_bytes(b"kernel")
    (store / "rfile").write_bytes(b"initrd")
    instances = tmp_path / "instances"
    machines = Machines(instances, accelerator="tcg", qemu="qemu-system-x86_64",
                        qemu_img="qemu-img", spare_root_ports=1)  # fmt: skip
    boot = BootSource("img", store / "disk", "qcow2", store / "kfile", store / "rfile",
                      "console=ttyS0", kernel_id="k1", ramdisk_id="r1")  # fmt: skip
    rescue = BootSource("rescue", store / "disk", "qcow2", store / "kfile", kernel_id="k1")
    cached = await machines.cached_boot_files(replace(spec_of(boot), rescue=rescue))
    assert cached.boot.kernel_path == instances / "_base" / "k1"
    assert cached.boot.ramdisk_path == instances / "_base" / "r1"
    assert cached.rescue is not None and cached.rescue.kernel_path == instances / "_base" / "k1"
    assert os.stat(cached.boot.kernel_path).st_ino == os.stat(store / "kfile").st_ino
    (store / "kfile").unlink()  # the image is deleted: the next start still finds its kernel
    again = await machines.cached_boot_files(spec_of(boot))
    assert again.boot.kernel_path is not None and again.boot.kernel_path.read_bytes() == b"kernel"
    argv = build_command(again, InstancePaths(instances / UUID), "kvm")
    assert values(argv, "-kernel") == [str(instances / "_base" / "k1")]
    assert values(argv, "-append") == ["console=ttyS0"]
    # A guest without a kernel is left as it is.
    plain = spec_of(BootSource("img", store / "disk", "qcow2"))
    assert await machines.cached_boot_files(plain) == plain


def test_the_agents_scratch_directories_are_not_taken_for_guests(tmp_path: Path) -> None:
    """A snapshot's scratch directory under the instances directory is no guest's: the power
    sync destroyed one as an orphan guest's in the middle of a long snapshot."""
    instances = tmp_path / "instances"
    instances.mkdir()
    machines = Machines(instances, accelerator="tcg", qemu="qemu-system-x86_64",
                        qemu_img="qemu-img", spare_root_ports=1)  # fmt: skip
    (instances / "4f1c1f0e-0b7e-4a53-9a35-6b1f0e6f3c11").mkdir()
    with work_dir(instances) as scratch:
        assert Path(scratch).parent == instances
        assert [p.uuid for p in machines.instance_dirs()] == [
            "4f1c1f0e-0b7e-4a53-9a35-6b1f0e6f3c11"
        ]
