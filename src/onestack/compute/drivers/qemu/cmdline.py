"""The QEMU command line of an instance: pure functions of its spec, files and accelerator.

Machine q35. The root disk and the config drive sit on the root complex; every NIC and volume
sits on a PCIe root port of its own, so any of them can be unplugged, and spare root ports wait
for hot-plugs (a q35 root complex cannot hot-plug by itself). Which device sits on which port is
the ``Layout``; it is kept with the instance so that a restart, and above all the resume of a
suspended guest (whose saved state names the ports), rebuilds the same machine.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path

from onestack.compute.drivers.base import NIC, InstanceSpec, Volume, wants_guest_agent
from onestack.compute.drivers.qemu import guest_agent
from onestack.compute.drivers.qemu.paths import InstancePaths

QEMU = "qemu-system-x86_64"
SPARE_ROOT_PORTS = 8
MAX_ROOT_PORTS = 24  # the root complex has 32 slots; the chipset and the disks use some
DEFAULT_KERNEL_CMDLINE = "root=/dev/vda console=tty0 console=ttyS0"
# Under TCG the guest's TSC calibration is unreliable (the emulated TSC runs unevenly): give
# the kernel the host's frequency and tell it not to doubt the TSC or the timer.
TCG_TSC_ARGS = "tsc=reliable no_timer_check"
# TCG's default CPU (qemu64) has no random number instruction, so a guest kernel has nothing to
# seed its RNG with but timer jitter, which takes a second and more under emulation, and its
# SSH server and cloud-init wait in getrandom() until then. QEMU emulates RDRAND from the host's
# random source; Linux trusts it at boot (RANDOM_TRUST_CPU), as on KVM with ``-cpu host``.
TCG_CPU = "qemu64,+rdrand"


@dataclass(frozen=True)
class Layout:
    """The root ports and which NIC or volume sits on which of them."""

    root_ports: int = SPARE_ROOT_PORTS
    nics: tuple[tuple[int, NIC], ...] = ()
    volumes: tuple[tuple[int, Volume], ...] = ()

    def used(self) -> set[int]:
        return {port for port, _ in self.nics} | {port for port, _ in self.volumes}

    def free_port(self) -> int | None:
        used = self.used()
        return next((p for p in range(self.root_ports) if p not in used), None)

    def volume(self, volume_id: str) -> tuple[int, Volume] | None:
        return next((pv for pv in self.volumes if pv[1].volume_id == volume_id), None)

    def nic(self, port_id: str) -> tuple[int, NIC] | None:
        return next((pn for pn in self.nics if pn[1].port_id == port_id), None)

    def with_volume(self, port: int, volume: Volume) -> Layout:
        return replace(self, volumes=(*self.volumes, (port, volume)))

    def without_volume(self, volume_id: str) -> Layout:
        kept = tuple(pv for pv in self.volumes if pv[1].volume_id != volume_id)
        return replace(self, volumes=kept)

    def with_nic(self, port: int, nic: NIC) -> Layout:
        return replace(self, nics=(*self.nics, (port, nic)))

    def without_nic(self, port_id: str) -> Layout:
        return replace(self, nics=tuple(pn for pn in self.nics if pn[1].port_id != port_id))


def plan(spec: InstanceSpec, previous: Layout | None = None, spare: int = SPARE_ROOT_PORTS
         ) -> Layout:  # fmt: skip
    """The spec's NICs (in order: the first is the guest's eth0) and volumes, plus the devices
    ``previous`` had (hot-plugged ones), each keeping its port; ``spare`` free ports besides."""
    before = previous or Layout(root_ports=0)
    layout = Layout(root_ports=MAX_ROOT_PORTS, nics=before.nics, volumes=before.volumes)
    for nic in spec.nics:
        if layout.nic(nic.port_id) is None:
            layout = layout.with_nic(_next_port(layout), nic)
    for volume in spec.volumes:
        if layout.volume(volume.volume_id) is None:
            layout = layout.with_volume(_next_port(layout), volume)
    highest = max(layout.used(), default=-1)
    ports = min(MAX_ROOT_PORTS, max(before.root_ports, highest + 1 + spare))
    return replace(layout, root_ports=ports)


def _next_port(layout: Layout) -> int:
    port = layout.free_port()
    if port is None:
        raise ValueError(f"more than {MAX_ROOT_PORTS} NICs and volumes")
    return port


def short_id(prefix: str, key: str) -> str:
    """A QEMU id for a device named by a uuid (node names are limited to 31 characters)."""
    return f"{prefix}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def volume_ids(volume_id: str) -> tuple[str, str]:
    """(device id, block node name) of a volume."""
    device = short_id("vol", volume_id)
    return device, f"{device}-node"


def nic_ids(port_id: str) -> tuple[str, str]:
    """(device id, netdev id) of a NIC."""
    device = short_id("nic", port_id)
    return device, f"{device}-net"


def esc(value: str | Path) -> str:
    """A value inside QEMU's ``key=value,...`` options: commas are doubled."""
    return str(value).replace(",", ",,")


def kernel_cmdline(spec: InstanceSpec, accel: str, tsc_khz: int | None) -> str:
    """The image's ``os_command_line`` (Nova's default without one), and under TCG what the
    kernel needs to trust its clock, unless the image's line says it already."""
    words = (spec.boot.cmdline or DEFAULT_KERNEL_CMDLINE).split()
    if accel == "tcg":
        extra = TCG_TSC_ARGS.split() + ([f"tsc_early_khz={tsc_khz}"] if tsc_khz else [])
        given = {word.split("=", 1)[0] for word in words}
        words += [word for word in extra if word.split("=", 1)[0] not in given]
    return " ".join(words)


def config_drive_bus(spec: InstanceSpec) -> str:
    """``virtio`` (a disk), or ``ide`` (a CD-ROM) when the image asks for a CD-ROM bus."""
    return "ide" if spec.extra.get("image:hw_cdrom_bus") in ("ide", "sata") else "virtio"


def accel_args(accel: str) -> list[str]:
    if accel == "kvm":
        return ["-accel", "kvm", "-cpu", "host"]
    return ["-accel", "tcg,thread=multi", "-cpu", TCG_CPU]


def volume_args(port: int, volume: Volume) -> list[str]:
    device, node = volume_ids(volume.volume_id)
    return [
        "-blockdev",
        f"driver={volume.format},node-name={node},file.driver=file,"
        f"file.filename={esc(volume.path)}",
        "-device",
        f"virtio-blk-pci,id={device},drive={node},bus=rp{port},serial={esc(volume.serial[:20])}",
    ]


def root_disk_args(spec: InstanceSpec, paths: InstancePaths) -> list[str]:
    """The disk the guest boots: its overlay, the rescue disk, or its root volume's file (the
    volume's serial, as Nova gives it, so the guest can tell its volumes apart)."""
    serial = ""
    if spec.rescue is not None or spec.root_volume is None:
        driver, path = "qcow2", paths.rescue_disk if spec.rescue else paths.disk
    else:
        driver, path = spec.root_volume.format, spec.root_volume.path
        serial = f",serial={esc(spec.root_volume.serial[:20])}"
    return [
        "-blockdev",
        f"driver={driver},node-name=root,discard=unmap,file.driver=file,"
        f"file.filename={esc(path)}",
        "-device", f"virtio-blk-pci,id=root-disk,drive=root,bootindex=1{serial}",
    ]  # fmt: skip


def local_disk_args(spec: InstanceSpec, paths: InstancePaths) -> list[str]:
    """The flavor's ephemeral and swap disks, right after the root disk (vdb and vdc, as
    Nova's libvirt driver names them), before the config drive."""
    argv: list[str] = []
    for name, wanted, path in (
        ("ephemeral", spec.ephemeral_gb, paths.ephemeral),
        ("swap", spec.swap_mb, paths.swap),
    ):
        if wanted:
            argv += [
                "-blockdev",
                f"driver=raw,node-name={name},discard=unmap,file.driver=file,"
                f"file.filename={esc(path)}",
                "-device", f"virtio-blk-pci,id={name}-disk,drive={name}",
            ]  # fmt: skip
    return argv


def nic_args(port: int, nic: NIC) -> list[str]:
    device, netdev = nic_ids(nic.port_id)
    return [
        "-netdev",
        f"tap,id={netdev},ifname={esc(nic.tap)},script=no,downscript=no,vhost=off",
        "-device",
        f"virtio-net-pci,id={device},netdev={netdev},mac={nic.mac_address},bus=rp{port},"
        f"host_mtu={nic.mtu}",
    ]


@dataclass(frozen=True)
class LaunchOptions:
    layout: Layout | None = None  # None: plan(spec)
    tsc_khz: int | None = None
    incoming: bool = False  # wait, stopped, for a saved state (migrate-incoming)
    daemonize: bool = True
    qemu: str = QEMU
    extra_args: tuple[str, ...] = field(default=())


def build_command(
    spec: InstanceSpec, paths: InstancePaths, accel: str, options: LaunchOptions | None = None
) -> list[str]:
    """The argument list that starts the instance's QEMU (``accel``: kvm or tcg), to be run in
    the instance's directory ``paths.dir``."""
    opts = options or LaunchOptions()
    layout = opts.layout or plan(spec)
    uuid = spec.uuid
    argv = [
        opts.qemu,
        "-name", f"guest={esc(spec.name)},debug-threads=on",
        "-uuid", uuid,
        "-machine", "q35",
        *accel_args(accel),
        "-smp", str(spec.vcpus),
        "-m", str(spec.memory_mb),
        "-nodefaults",
        "-no-user-config",
        "-smbios",
        f"type=1,manufacturer=OpenStack Foundation,product=OpenStack Nova,"
        f"serial={uuid},uuid={uuid},family=Virtual Machine",
        "-rtc", "base=utc",
        "-display", "none",
        "-device", "VGA,id=video0",
        # Sockets by name, relative to the instance directory QEMU starts in: a unix socket's
        # path is limited to 107 bytes, which a deep instances_dir could exceed.
        "-vnc", f"unix:{esc(paths.vnc_socket.name)}",
        "-chardev", f"socket,id=qmp,path={esc(paths.qmp_socket.name)},server=on,wait=off",
        "-mon", "chardev=qmp,mode=control",
        "-chardev",
        f"socket,id=serial0,path={esc(paths.serial_socket.name)},server=on,wait=off,"
        f"logfile={esc(paths.console_log)},logappend=on",
        "-serial", "chardev:serial0",
        "-pidfile", str(paths.pidfile),
        *root_disk_args(spec, paths),
    ]  # fmt: skip
    if spec.rescue is not None:
        # The guest's own disk, second (vdb), for the rescue system to repair.
        own = spec.root_volume
        argv += [
            "-blockdev",
            f"driver={own.format if own else 'qcow2'},node-name=rescued,discard=unmap,"
            f"file.driver=file,file.filename={esc(own.path if own else paths.disk)}",
            "-device", "virtio-blk-pci,id=rescued-disk,drive=rescued",
        ]  # fmt: skip
    argv += local_disk_args(spec, paths)
    if spec.config_drive is not None:
        argv += [
            "-blockdev",
            f"driver=raw,node-name=config,read-only=on,file.driver=file,"
            f"file.filename={esc(paths.config_drive)}",
            "-device",
            "ide-cd,id=config-disk,drive=config,bus=ide.0"
            if config_drive_bus(spec) == "ide"
            else "virtio-blk-pci,id=config-disk,drive=config",
        ]
    if wants_guest_agent(spec):
        argv += guest_agent.channel_args(esc(paths.guest_agent_socket.name))
    for index in range(layout.root_ports):
        argv += ["-device", f"pcie-root-port,id=rp{index},chassis={index + 1},port={index + 16}"]
    for port, nic in layout.nics:
        argv += nic_args(port, nic)
    for port, volume in layout.volumes:
        argv += volume_args(port, volume)
    booted = spec if spec.rescue is None else replace(spec, boot=spec.rescue)
    if booted.boot.kernel_path is not None:
        argv += ["-kernel", str(booted.boot.kernel_path)]
        if booted.boot.ramdisk_path is not None:
            argv += ["-initrd", str(booted.boot.ramdisk_path)]
        argv += ["-append", kernel_cmdline(booted, accel, opts.tsc_khz)]
    if opts.incoming:
        argv += ["-S", "-incoming", "defer"]
    if opts.daemonize:
        argv.append("-daemonize")
    return [*argv, *opts.extra_args]
