"""The virt driver seam: what a hypervisor must do for one host, as plain values.

Vocabulary. An *instance* is one server's guest on this host, named by the server's uuid. Its
files live in ``instances_dir/<uuid>/``: ``disk`` (a qcow2 overlay on a cached base image),
``disk.config`` (the config drive ISO), ``console.log`` (the serial console), the QMP and VNC
sockets, and whatever else the driver needs. The compute *agent* hands the driver an
``InstanceSpec`` (everything needed to start the guest) and asks it to act; the driver never
imports the database. Every call is idempotent where it can be: ``destroy`` of an instance
that is gone succeeds, ``power_on`` of a running one does nothing.

The agent keeps the last spec of each instance; ``list_instances`` says what really runs on the
host (also after the whole process was killed and started again: the driver re-attaches to
guests that kept running), which the agent compares with the database to sync power states.

Capabilities. A driver is made of the parts below, one abstract class per capability
(``Lifecycle``, ``PowerControl``, ``Consoles``, ``Snapshots``, ``Resizing``, ``Rescue``,
``CrashDump``, ``VolumeHotplug``, ``InterfaceHotplug``, ``Diagnostics``, ``Statistics``).
Every driver is a ``ComputeDriver`` (life cycle and power); the rest it has when it
inherits that part, and its ``capabilities`` (a frozenset of ``Capability`` flags) say
which. The agent asks for a part before using it and answers "not supported" for a part the
driver lacks.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from pathlib import Path
from typing import Any, ClassVar


class PowerState(IntEnum):
    """Nova's power states (the numbers ``OS-EXT-STS:power_state`` shows)."""

    NOSTATE = 0
    RUNNING = 1
    PAUSED = 3
    SHUTDOWN = 4
    CRASHED = 6
    SUSPENDED = 7


@dataclass(frozen=True)
class NIC:
    port_id: str
    mac_address: str
    tap: str  # the tap device the network agent made (and bridged) for this port
    mtu: int = 1500


@dataclass(frozen=True)
class Volume:
    """A block device attached to the guest: a file (qcow2 or raw) on this host."""

    volume_id: str
    path: Path
    format: str  # qcow2 or raw
    serial: str  # what the guest sees as the disk's serial (the volume id, as Nova does)
    device: str = ""  # the name the user asked for or was given (/dev/vdb)
    # Front-end QoS of the volume's type, Cinder's keys (read_iops_sec, total_bytes_sec, ...).
    qos: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class BootSource:
    """Where the root disk comes from: an image file (read only), and optionally a kernel,
    ramdisk and command line for direct kernel boot (Nova's kernel_id/ramdisk_id/
    os_command_line image properties)."""

    image_id: str
    image_path: Path  # the image's bytes on this host; never written to
    image_format: str  # qcow2 or raw
    kernel_path: Path | None = None
    ramdisk_path: Path | None = None
    cmdline: str | None = None
    # The kernel's and ramdisk's image ids: the driver caches their files by id (as the disk
    # image's), so a guest keeps booting whatever becomes of the image service's file.
    kernel_id: str = ""
    ramdisk_id: str = ""


@dataclass(frozen=True)
class InstanceSpec:
    uuid: str
    name: str  # Nova's instance name, instance-0000000a
    hostname: str
    vcpus: int
    memory_mb: int
    root_gb: int  # 0: the image's own virtual size
    boot: BootSource
    nics: tuple[NIC, ...] = ()
    volumes: tuple[Volume, ...] = ()
    # The config drive's files ("openstack/latest/meta_data.json": b"{...}"), None for none.
    config_drive: dict[str, bytes] | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # flavor extra specs, image properties
    # Rescue mode: the guest boots a fresh disk of this image and sees its own disk second.
    rescue: BootSource | None = None
    # Booted from a volume: this file is the root disk itself (no overlay, never removed by
    # the driver), and ``boot`` names the same file.
    root_volume: Volume | None = None
    # The flavor's local disks beside the root one (Nova's disk.local and disk.swap): an
    # ephemeral disk of this many GiB (formatted, labelled ephemeral0), a swap disk of MiB.
    ephemeral_gb: int = 0
    swap_mb: int = 0


@dataclass(frozen=True)
class InstanceInfo:
    uuid: str
    power_state: PowerState
    pid: int | None = None


@dataclass(frozen=True)
class HostInfo:
    """What the agent reports for the hypervisor (``os-hypervisors``)."""

    hypervisor_type: str  # QEMU, fake
    hypervisor_version: int  # Nova's encoding: 8002001 for 8.2.1
    vcpus: int
    memory_mb: int
    local_gb: int
    accelerator: str  # kvm, tcg, fake
    cpu_info: dict[str, Any] = field(default_factory=dict)


class DriverError(Exception):
    """An operation on a guest failed; the message is safe to show the user as a fault."""


class GuestAgentUnavailable(DriverError):
    """The guest has no agent channel (its image lacks ``hw_qemu_guest_agent=yes``)."""


def wants_guest_agent(spec: InstanceSpec) -> bool:
    """Whether the image asks for the QEMU guest agent's channel (``hw_qemu_guest_agent``)."""
    value = str(spec.extra.get("image:hw_qemu_guest_agent", "")).lower()
    return value in ("yes", "true", "1", "on")


class Capability(StrEnum):
    """What a driver can do, one flag per part below."""

    LIFECYCLE = "lifecycle"
    POWER = "power"
    CONSOLE = "console"
    DIAGNOSTICS = "diagnostics"
    SNAPSHOT = "snapshot"
    RESIZE = "resize"
    RESCUE = "rescue"
    CRASH_DUMP = "crash dump"
    VOLUME_HOTPLUG = "volume attachment"
    INTERFACE_HOTPLUG = "interface attachment"
    GUEST_AGENT = "guest agent"
    STATISTICS = "guest statistics"


@dataclass(frozen=True)
class DiskStats:
    device: str  # the guest's disk: "vda", or the volume id of an attached volume
    read_bytes: int
    write_bytes: int
    read_requests: int
    write_requests: int
    capacity_bytes: int = 0


@dataclass(frozen=True)
class NicStats:
    """Counters of one NIC as the guest sees them (what it received is ``incoming``)."""

    port_id: str
    mac_address: str
    tap: str
    incoming_bytes: int
    outgoing_bytes: int
    incoming_packets: int
    outgoing_packets: int


@dataclass(frozen=True)
class GuestStats:
    """The counters a running guest has accumulated since it started (metering's pollsters
    turn them into samples; ``rate:mean`` of ``cpu`` is the CPU use)."""

    uuid: str
    cpu_time_ns: int  # guest CPU time of every vCPU together
    vcpus: int
    memory_mb: int  # what the guest was given
    memory_used_mb: int | None  # what it uses, when the driver can tell
    disks: tuple[DiskStats, ...] = ()
    nics: tuple[NicStats, ...] = ()


class GuestGone(DriverError):
    """The guest is not running (any more): nothing to read, and no error to report."""


class GuestBusy(DriverError):
    """The guest runs but its counters are not to be read this round (its monitor is busy
    with another caller, an action): the poll skips it and reads it next time. Not gone."""


class DriverPart(abc.ABC):  # noqa: B024 - its subclasses, the parts, are abstract
    """One capability's methods. ``capabilities`` of a driver class: the flags of every part
    it inherits."""

    provides: ClassVar[Capability | None] = None
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    name: str = "base"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.capabilities = frozenset(
            part.__dict__["provides"]
            for part in cls.__mro__
            if part.__dict__.get("provides") is not None
        )


class Lifecycle(DriverPart):
    """Guests made, found again and removed."""

    provides = Capability.LIFECYCLE

    @abc.abstractmethod
    async def init_host(self) -> HostInfo:
        """Probe the host (accelerator, capacity) and re-attach to guests that still run."""

    @abc.abstractmethod
    async def list_instances(self) -> dict[str, InstanceInfo]:
        """Every instance with files on this host, by uuid, with its real power state."""

    @abc.abstractmethod
    async def spawn(self, spec: InstanceSpec) -> None:
        """Create the disks and config drive and start the guest; returns once it runs."""

    @abc.abstractmethod
    async def destroy(self, uuid: str) -> None:
        """Stop the guest at once and delete every file of the instance."""

    @abc.abstractmethod
    async def rebuild(self, spec: InstanceSpec) -> None:
        """Stop the guest, replace its root disk from ``spec.boot`` and config drive, start."""

    async def close(self) -> None:
        """Let go of the guests (QMP connections) without stopping them."""


class PowerControl(DriverPart):
    """Stopping, starting, pausing and suspending a guest."""

    provides = Capability.POWER

    @abc.abstractmethod
    async def power_off(self, uuid: str, timeout: float = 60.0) -> None:
        """ACPI power-down, then stop it hard after ``timeout`` seconds (0: at once)."""

    @abc.abstractmethod
    async def power_on(self, spec: InstanceSpec) -> None:
        """Start a stopped guest from its existing disks."""

    @abc.abstractmethod
    async def reboot(self, spec: InstanceSpec, hard: bool) -> None:
        """Start the guest again with ``spec``. Soft: a clean shutdown by the guest's OS first
        (becoming hard when the guest does not shut down in time), as Nova's libvirt driver
        does; hard: stop it at once (this also starts a guest that is off or crashed)."""

    @abc.abstractmethod
    async def pause(self, uuid: str) -> None: ...

    @abc.abstractmethod
    async def unpause(self, uuid: str) -> None: ...

    @abc.abstractmethod
    async def suspend(self, uuid: str) -> None:
        """Save the guest's memory to disk and stop it (Nova's suspend)."""

    @abc.abstractmethod
    async def resume(self, spec: InstanceSpec) -> None:
        """Start a suspended guest from its saved memory."""


class ComputeDriver(Lifecycle, PowerControl):
    """One host's hypervisor: at least the life cycle and power of its guests; the other
    parts as its ``capabilities`` say. ``instances_dir`` is this driver's alone."""


class Consoles(DriverPart):
    """The guest's serial log and its interactive consoles."""

    provides = Capability.CONSOLE

    @abc.abstractmethod
    async def console_output(self, uuid: str, length: int | None = None) -> str:
        """The serial console log, its last ``length`` lines when given."""

    @abc.abstractmethod
    async def vnc_socket(self, uuid: str) -> Path:
        """The guest's VNC server (a unix socket), for the console proxy."""

    @abc.abstractmethod
    async def serial_socket(self, uuid: str) -> Path:
        """The guest's interactive serial console (a unix socket)."""


class Diagnostics(DriverPart):
    provides = Capability.DIAGNOSTICS

    @abc.abstractmethod
    async def diagnostics(self, uuid: str) -> dict[str, Any]:
        """Nova's server diagnostics (v2.48 shape)."""


class Snapshots(DriverPart):
    provides = Capability.SNAPSHOT

    @abc.abstractmethod
    async def snapshot(self, uuid: str, target: Path) -> str:
        """Write the root disk, flattened, to ``target``; return its format (qcow2)."""


class Resizing(DriverPart):
    """A new flavor on the same host, with a way back until confirmed."""

    provides = Capability.RESIZE

    @abc.abstractmethod
    async def resize(self, old: InstanceSpec, new: InstanceSpec) -> None:
        """Stop the guest, keep its disk for a revert, grow the disk to ``new.root_gb`` and
        start it with the new flavor."""

    @abc.abstractmethod
    async def confirm_resize(self, uuid: str) -> None:
        """Drop what ``resize`` kept for a revert."""

    @abc.abstractmethod
    async def revert_resize(self, spec: InstanceSpec) -> None:
        """Stop the guest, put back the disk kept by ``resize`` and start it with ``spec``."""


class GuestAgentPart(DriverPart):
    """Inside a running guest through its agent (Nova's set_admin_password)."""

    provides = Capability.GUEST_AGENT

    @abc.abstractmethod
    async def set_admin_password(self, uuid: str, user: str, password: str) -> None:
        """Set ``user``'s password in the guest; ``GuestAgentUnavailable`` when the guest has
        no agent channel."""


class Rescue(DriverPart):
    provides = Capability.RESCUE

    @abc.abstractmethod
    async def rescue(self, spec: InstanceSpec) -> None:
        """Stop the guest and start it again from a fresh disk of ``spec.rescue``, its own
        disk attached second (Nova's rescue); the running guest's state is lost."""

    @abc.abstractmethod
    async def unrescue(self, spec: InstanceSpec) -> None:
        """End a rescue: the guest starts again from its own disk; the rescue disk goes."""


class CrashDump(DriverPart):
    provides = Capability.CRASH_DUMP

    @abc.abstractmethod
    async def inject_nmi(self, uuid: str) -> None:
        """Send the guest a non-maskable interrupt (Nova's trigger_crash_dump)."""


class Statistics(DriverPart):
    provides = Capability.STATISTICS

    @abc.abstractmethod
    async def guest_stats(self, uuid: str) -> GuestStats:
        """A running guest's counters; ``GuestGone`` when it does not run (a guest that
        vanishes mid-poll is no error), ``GuestBusy`` when it runs but cannot be read now
        without waiting on other work."""

    async def guests_to_poll(self) -> list[str]:
        """The guests a metering poll reads: those running. A driver whose power states cost
        a wait (a monitor to connect to) may answer from cheaper facts, its ``guest_stats``
        then skipping the guests that do not run."""
        if not isinstance(self, ComputeDriver):
            return []
        infos = await self.list_instances()
        return [uuid for uuid, info in infos.items() if info.power_state == PowerState.RUNNING]


class VolumeHotplug(DriverPart):
    provides = Capability.VOLUME_HOTPLUG

    @abc.abstractmethod
    async def attach_volume(self, uuid: str, volume: Volume) -> None:
        """Hot-plug a disk into the running guest (or record it for the next start)."""

    @abc.abstractmethod
    async def detach_volume(self, uuid: str, volume_id: str) -> None: ...

    async def extend_volume(self, uuid: str, volume_id: str, size_bytes: int) -> None:
        """Tell the running guest its disk grew (the file grows with it)."""
        raise DriverError("extending an attached volume is not supported by this driver")


class InterfaceHotplug(DriverPart):
    provides = Capability.INTERFACE_HOTPLUG

    @abc.abstractmethod
    async def attach_interface(self, uuid: str, nic: NIC) -> None: ...

    @abc.abstractmethod
    async def detach_interface(self, uuid: str, port_id: str) -> None: ...
