"""The QEMU driver's pure parts: command line, device layout, accelerator choice, TSC, record."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from onestack.common.agent import DriverUnavailable
from onestack.compute import dataplane as loader
from onestack.compute import drivers
from onestack.compute.drivers.base import (
    NIC,
    BootSource,
    Capability,
    DriverError,
    InstanceSpec,
    Volume,
)
from onestack.compute.drivers.fake import FakeDriver
from onestack.compute.drivers.qemu import QemuDriver, accel, record
from onestack.compute.drivers.qemu.cmdline import (
    MAX_ROOT_PORTS,
    SPARE_ROOT_PORTS,
    LaunchOptions,
    Layout,
    build_command,
    nic_ids,
    plan,
    volume_ids,
)
from onestack.compute.drivers.qemu.paths import InstancePaths, base_image

UUID = "6f1c54a8-8a1e-4c43-9f3b-1d2f3e4a5b6c"
PATHS = InstancePaths(Path("/var/lib/onestack/instances") / UUID)
NIC1 = NIC("port-1", "fa:16:3e:00:00:01", "tap-1", mtu=1450)
NIC2 = NIC("port-2", "fa:16:3e:00:00:02", "tap-2")
VOL1 = Volume("vol-1", Path("/volumes/vol-1"), "raw", serial="0123456789abcdef0123456789")


def spec(**changes: object) -> InstanceSpec:
    base = InstanceSpec(
        uuid=UUID,
        name="instance-0000000a",
        hostname="web",
        vcpus=2,
        memory_mb=512,
        root_gb=1,
        boot=BootSource("img", Path("/images/img"), "qcow2"),
        config_drive={"openstack/latest/meta_data.json": b"{}"},
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def values(argv: list[str], option: str) -> list[str]:
    return [argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg == option]


def test_the_machine_of_a_plain_guest() -> None:
    argv = build_command(spec(), PATHS, "tcg")
    assert argv[0] == "qemu-system-x86_64"
    assert values(argv, "-machine") == ["q35"]
    assert values(argv, "-accel") == ["tcg,thread=multi"]
    # A random number instruction, so that the guest's RNG is seeded at boot (not a second or
    # more of timer jitter later, which SSH servers wait for under emulation).
    assert values(argv, "-cpu") == ["qemu64,+rdrand"]
    assert values(argv, "-smp") == ["2"] and values(argv, "-m") == ["512"]
    assert values(argv, "-uuid") == [UUID]
    assert values(argv, "-pidfile") == [str(PATHS.pidfile)]
    assert argv[-1] == "-daemonize"
    blockdevs = values(argv, "-blockdev")
    assert any(f"file.filename={PATHS.disk}" in b and "driver=qcow2" in b for b in blockdevs)
    assert any(f"file.filename={PATHS.config_drive}" in b and "read-only=on" in b
               for b in blockdevs)  # fmt: skip
    devices = values(argv, "-device")
    assert "virtio-blk-pci,id=root-disk,drive=root,bootindex=1" in devices
    assert "virtio-blk-pci,id=config-disk,drive=config" in devices
    assert sum(d.startswith("pcie-root-port,") for d in devices) == SPARE_ROOT_PORTS
    assert "-kernel" not in argv and "-incoming" not in argv


def test_consoles_and_monitor() -> None:
    argv = build_command(spec(), PATHS, "tcg")
    chardevs = values(argv, "-chardev")
    serial = next(c for c in chardevs if "id=serial0" in c)
    assert "path=serial.sock,server=on,wait=off" in serial
    assert f"logfile={PATHS.console_log},logappend=on" in serial
    assert values(argv, "-serial") == ["chardev:serial0"]
    assert any("id=qmp,path=qmp.sock" in c for c in chardevs)
    assert values(argv, "-mon") == ["chardev=qmp,mode=control"]
    assert values(argv, "-vnc") == ["unix:vnc.sock"]


def test_kvm_uses_the_host_cpu() -> None:
    argv = build_command(spec(), PATHS, "kvm")
    assert values(argv, "-accel") == ["kvm"] and values(argv, "-cpu") == ["host"]


def test_no_config_drive_and_a_cdrom_one() -> None:
    argv = build_command(spec(config_drive=None), PATHS, "tcg")
    assert not any("config" in b for b in values(argv, "-blockdev"))
    argv = build_command(spec(extra={"image:hw_cdrom_bus": "ide"}), PATHS, "tcg")
    assert "ide-cd,id=config-disk,drive=config,bus=ide.0" in values(argv, "-device")


def test_nics_and_volumes_sit_on_root_ports() -> None:
    argv = build_command(spec(nics=(NIC1, NIC2), volumes=(VOL1,)), PATHS, "tcg")
    nic_dev, netdev = nic_ids("port-1")
    assert f"tap,id={netdev},ifname=tap-1,script=no,downscript=no,vhost=off" in values(
        argv, "-netdev"
    )
    devices = values(argv, "-device")
    assert (f"virtio-net-pci,id={nic_dev},netdev={netdev},mac=fa:16:3e:00:00:01,bus=rp0,"
            "host_mtu=1450") in devices  # fmt: skip
    assert any("mac=fa:16:3e:00:00:02,bus=rp1," in d for d in devices)
    vol_dev, node = volume_ids("vol-1")
    # the guest sees at most 20 characters of a virtio disk's serial
    assert f"virtio-blk-pci,id={vol_dev},drive={node},bus=rp2,serial=0123456789abcdef0123" in (
        devices
    )
    assert sum(d.startswith("pcie-root-port,") for d in devices) == 3 + SPARE_ROOT_PORTS
    assert len(node) <= 31  # QEMU's limit for node names


def test_commas_in_paths_are_escaped() -> None:
    paths = InstancePaths(Path("/srv/a,b") / UUID)
    argv = build_command(spec(), paths, "tcg")
    assert any("file.filename=/srv/a,,b/" in b for b in values(argv, "-blockdev"))


def test_direct_kernel_boot_under_tcg_gets_the_tsc_arguments() -> None:
    boot = BootSource("img", Path("/i"), "raw", Path("/k/vmlinuz"), Path("/k/initrd"), "ro quiet")
    argv = build_command(spec(boot=boot), PATHS, "tcg", LaunchOptions(tsc_khz=2300000))
    assert values(argv, "-kernel") == ["/k/vmlinuz"] and values(argv, "-initrd") == ["/k/initrd"]
    assert values(argv, "-append") == ["ro quiet tsc=reliable no_timer_check tsc_early_khz=2300000"]
    argv = build_command(spec(boot=boot), PATHS, "kvm", LaunchOptions(tsc_khz=2300000))
    assert values(argv, "-append") == ["ro quiet"]
    plain = BootSource("img", Path("/i"), "raw", Path("/k/vmlinuz"))
    argv = build_command(spec(boot=plain), PATHS, "tcg")
    assert "-initrd" not in argv
    assert values(argv, "-append") == [
        "root=/dev/vda console=tty0 console=ttyS0 tsc=reliable no_timer_check"
    ]


def test_resume_waits_for_the_saved_state() -> None:
    argv = build_command(spec(), PATHS, "tcg", LaunchOptions(incoming=True, daemonize=False))
    assert values(argv, "-incoming") == ["defer"] and "-S" in argv
    assert "-daemonize" not in argv


def test_plan_keeps_the_ports_of_known_devices() -> None:
    first = plan(spec(nics=(NIC1,), volumes=(VOL1,)))
    assert first.nics == ((0, NIC1),) and first.volumes == ((1, VOL1),)
    assert first.root_ports == 2 + SPARE_ROOT_PORTS
    # a NIC hot-plugged on port 5, then the guest starts again with one more NIC in its spec
    hotplugged = first.with_nic(5, NIC2)
    again = plan(spec(nics=(NIC1, NIC("port-3", "fa:16:3e:00:00:03", "tap-3"))), hotplugged)
    assert dict((n.port_id, p) for p, n in again.nics) == {"port-1": 0, "port-2": 5, "port-3": 2}
    assert again.root_ports == 6 + SPARE_ROOT_PORTS
    assert again.without_nic("port-2").nic("port-2") is None


def test_plan_never_exceeds_the_slots() -> None:
    many = tuple(NIC(f"p{i}", f"fa:16:3e:00:01:{i:02x}", f"t{i}") for i in range(MAX_ROOT_PORTS))
    assert plan(spec(nics=many)).root_ports == MAX_ROOT_PORTS
    assert Layout(MAX_ROOT_PORTS, tuple(enumerate(many))).free_port() is None
    with pytest.raises(ValueError):
        plan(spec(nics=(*many, NIC1)))


def test_names_that_could_leave_the_directory_are_refused() -> None:
    with pytest.raises(DriverError):
        InstancePaths.of(Path("/x"), "../etc")
    with pytest.raises(DriverError):
        base_image(Path("/x"), "a/b")
    assert base_image(Path("/x"), "img-1") == Path("/x/_base/img-1")


def test_the_host_tsc_frequency(tmp_path: Path) -> None:
    tsc = tmp_path / "tsc_freq_khz"
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\ncpu MHz\t\t: 2300.004\nprocessor\t: 1\ncpu MHz : 1.0\n")
    assert accel.host_tsc_khz(tsc, cpuinfo) == 2300004
    tsc.write_text("2999999\n")
    assert accel.host_tsc_khz(tsc, cpuinfo) == 2999999
    assert accel.host_tsc_khz(tmp_path / "no", tmp_path / "none") is None


async def test_accelerator_choice(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    probed: list[str] = []

    async def fake_probe(qemu: str, which: str, timeout: float = 0) -> bool:
        probed.append(which)
        return True

    monkeypatch.setattr(accel, "probe", fake_probe)
    monkeypatch.setattr(accel, "_chosen", {})
    monkeypatch.setattr(accel, "CACHE", tmp_path / "accelerator.json")
    assert await accel.choose("q", "tcg") == "tcg" and probed == []
    monkeypatch.setattr(accel.os, "access", lambda *_: False)
    assert await accel.choose("q") == "tcg" and probed == []  # no usable /dev/kvm
    monkeypatch.setattr(accel, "_chosen", {})
    accel.CACHE.unlink()
    monkeypatch.setattr(accel.os, "access", lambda *_: True)
    assert await accel.choose("q") == "kvm" and probed == ["kvm"]
    assert await accel.choose("q") == "kvm" and probed == ["kvm"]  # probed once
    monkeypatch.setattr(accel, "_chosen", {})  # a new process: the answer is remembered
    assert await accel.choose("q") == "kvm" and probed == ["kvm"]


def test_the_probe_disk_is_a_boot_sector() -> None:
    disk = accel.probe_disk()
    assert len(disk) == 1024 * 1024 and disk[510:512] == b"\x55\xaa"
    assert disk.startswith(accel.PROBE_CODE)


def test_the_record_round_trips() -> None:
    original = spec(nics=(NIC1,), volumes=(VOL1,), extra={"image:hw_cdrom_bus": "ide"})
    layout = plan(original).with_volume(7, replace(VOL1, volume_id="vol-2"))
    data = json.loads(json.dumps(record.to_json(record.Record(original, layout)), default=str))
    back = record.from_json(data)
    assert back.layout == layout
    assert back.spec == replace(original, config_drive={})  # contents are not kept


def test_load_driver_and_why_not_real(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert isinstance(loader.load_driver("fake", tmp_path), FakeDriver)
    with pytest.raises(DriverUnavailable):
        loader.load_driver("xen", tmp_path)
    monkeypatch.setattr(drivers.os, "geteuid", lambda: 1000)
    assert drivers.why_not_real() == "not root"
    assert isinstance(loader.load_driver("auto", tmp_path), FakeDriver)
    monkeypatch.setattr(drivers.os, "geteuid", lambda: 0)
    monkeypatch.setattr(drivers.shutil, "which", lambda tool: None if tool == "qemu-img" else tool)
    assert drivers.why_not_real() == "qemu-img not found"
    monkeypatch.setattr(drivers.shutil, "which", lambda tool: tool)
    assert drivers.why_not_real() is None
    assert loader.load_driver("auto", tmp_path).name == "qemu"


def test_both_drivers_have_every_capability() -> None:
    assert FakeDriver.capabilities == frozenset(Capability)
    assert QemuDriver.capabilities == frozenset(Capability)


async def test_a_probe_cancelled_mid_run_leaves_no_qemu_behind(tmp_path: Path) -> None:
    """A start stopped during the KVM probe (which hangs on some kernels) cancels it: the
    probe's QEMU goes with it instead of living on as an orphan."""
    import asyncio
    import os

    pidfile = tmp_path / "pid"
    hung = tmp_path / "qemu-that-hangs"
    hung.write_text(f"#!/bin/sh\necho $$ > {pidfile}\nexec sleep 600\n")
    hung.chmod(0o755)
    task = asyncio.create_task(accel.probe(str(hung), "kvm", timeout=60))
    for _ in range(200):
        if pidfile.exists() and pidfile.read_text().strip():
            break
        await asyncio.sleep(0.02)
    pid = int(pidfile.read_text())
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_ephemeral_and_swap_disks_follow_the_root_disk() -> None:
    """Nova's disk.local (vdb) and disk.swap (vdc), before the config drive."""
    assert "ephemeral" not in " ".join(build_command(spec(), PATHS, "tcg"))
    devices = values(build_command(spec(ephemeral_gb=1, swap_mb=64), PATHS, "tcg"), "-device")
    disks = [d.split(",")[1] for d in devices if d.startswith("virtio-blk-pci")]
    assert disks == ["id=root-disk", "id=ephemeral-disk", "id=swap-disk", "id=config-disk"]
    nodes = " ".join(values(build_command(spec(ephemeral_gb=1), PATHS, "tcg"), "-blockdev"))
    assert f"file.filename={PATHS.ephemeral}" in nodes and "swap" not in nodes
