"""The fake virt driver: guests in memory that change state at once, for API tests.

It keeps the same rules a hypervisor does (a paused guest must be running first, a revert needs a
resize to revert, an unknown instance is an error) so the API's state machine is tested against
them, and it writes a console log that reads like the test image's: the last line of each boot is
``onestack-guest ready <hostname> <ip>``.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from onestack.compute.drivers.base import (
    NIC,
    ComputeDriver,
    Consoles,
    CrashDump,
    Diagnostics,
    DiskStats,
    DriverError,
    GuestAgentPart,
    GuestAgentUnavailable,
    GuestGone,
    GuestStats,
    HostInfo,
    InstanceInfo,
    InstanceSpec,
    InterfaceHotplug,
    NicStats,
    PowerState,
    Rescue,
    Resizing,
    Snapshots,
    Statistics,
    Volume,
    VolumeHotplug,
    wants_guest_agent,
)
from onestack.compute.drivers.diagnostics import STATE_NAMES, disk_details, nic_details

READY_MARKER = "onestack-guest ready"
# Enough to tell a snapshot's format by its magic; the fake never boots it.
QCOW2_MAGIC = b"QFI\xfb\x00\x00\x00\x03"


@dataclass
class FakeGuest:
    spec: InstanceSpec
    power_state: PowerState = PowerState.RUNNING
    volumes: dict[str, Volume] = field(default_factory=dict)
    nics: dict[str, NIC] = field(default_factory=dict)
    console: list[str] = field(default_factory=list)
    resize_backup: InstanceSpec | None = None
    started: float = field(default_factory=time.monotonic)
    boots: int = 0


def guest_ip(spec: InstanceSpec) -> str:
    """The first fixed IP of the config drive's ``network_data.json``, as the guest would print
    it; ``none`` when the drive does not say (the real guest, without DHCP, prints the same)."""
    drive = spec.config_drive or {}
    raw = drive.get("openstack/latest/network_data.json")
    if raw:
        try:
            for network in json.loads(raw).get("networks", []):
                if network.get("ip_address"):
                    return str(network["ip_address"])
        except (ValueError, AttributeError):
            pass
    return "none"


def write_snapshot(image: Path, target: Path) -> str:
    """The snapshot of a fake guest is its image (a stand-in when the image is not a file)."""
    try:
        shutil.copyfile(image, target)
    except OSError:
        target.write_bytes(QCOW2_MAGIC)
    with target.open("rb") as f:
        return "qcow2" if f.read(4) == QCOW2_MAGIC[:4] else "raw"


class FakeDriver(
    ComputeDriver,
    Consoles,
    Diagnostics,
    Snapshots,
    Resizing,
    Rescue,
    CrashDump,
    VolumeHotplug,
    InterfaceHotplug,
    GuestAgentPart,
    Statistics,
):
    """``fail_spawn``: every spawn fails (the agent's reschedule path); may be set at any time."""

    name = "fake"

    def __init__(
        self,
        instances_dir: Path | None = None,
        *,
        fail_spawn: bool = False,
        vcpus: int = 64,
        memory_mb: int = 128 * 1024,
        local_gb: int = 2048,
    ) -> None:
        self.instances_dir = instances_dir or Path("/nonexistent/onestack-fake")
        self.fail_spawn = fail_spawn
        self.passwords: dict[tuple[str, str], str] = {}  # set through the "guest agent"
        self.host = HostInfo(
            hypervisor_type="fake",
            hypervisor_version=1000,
            vcpus=vcpus,
            memory_mb=memory_mb,
            local_gb=local_gb,
            accelerator="fake",
            cpu_info={"arch": "x86_64", "model": "fake", "vendor": "OneStack", "features": []},
        )
        self.guests: dict[str, FakeGuest] = {}

    # --- helpers --------------------------------------------------------------------------------

    def _guest(self, uuid: str) -> FakeGuest:
        try:
            return self.guests[uuid]
        except KeyError:
            raise DriverError(f"instance {uuid} is not on this host") from None

    def _require(self, guest: FakeGuest, *states: PowerState, action: str) -> None:
        if guest.power_state not in states:
            raise DriverError(
                f"cannot {action} instance {guest.spec.uuid} in power state "
                f"{guest.power_state.name.lower()}"
            )

    def _boot(self, guest: FakeGuest, spec: InstanceSpec) -> None:
        guest.spec = spec
        guest.power_state = PowerState.RUNNING
        guest.started = time.monotonic()
        guest.boots += 1
        guest.console += [
            f"onestack-guest: boot {guest.boots} of {spec.name}",
            f"onestack-guest: hostname {spec.hostname}",
            f"{READY_MARKER} {spec.hostname} {guest_ip(spec)}",
        ]

    # --- the interface --------------------------------------------------------------------------

    async def init_host(self) -> HostInfo:
        return self.host

    async def list_instances(self) -> dict[str, InstanceInfo]:
        return {
            uuid: InstanceInfo(uuid, g.power_state, os.getpid() if self._alive(g) else None)
            for uuid, g in self.guests.items()
        }

    @staticmethod
    def _alive(guest: FakeGuest) -> bool:
        return guest.power_state in (PowerState.RUNNING, PowerState.PAUSED)

    async def spawn(self, spec: InstanceSpec) -> None:
        if self.fail_spawn:
            raise DriverError(f"spawning {spec.uuid} failed (the fake driver was told to fail)")
        existing = self.guests.get(spec.uuid)
        if existing and self._alive(existing):
            return
        guest = FakeGuest(spec)
        guest.volumes = {v.volume_id: v for v in spec.volumes}
        guest.nics = {n.port_id: n for n in spec.nics}
        self._boot(guest, spec)
        self.guests[spec.uuid] = guest

    async def set_admin_password(self, uuid: str, user: str, password: str) -> None:
        guest = self._guest(uuid)
        if not wants_guest_agent(guest.spec):
            raise GuestAgentUnavailable("QEMU guest agent is not enabled")
        self.passwords[(uuid, user)] = password

    async def destroy(self, uuid: str) -> None:
        self.guests.pop(uuid, None)

    async def power_off(self, uuid: str, timeout: float = 60.0) -> None:
        guest = self._guest(uuid)
        if guest.power_state != PowerState.SHUTDOWN and timeout > 0:
            guest.console.append("onestack-guest: power button pressed: powering off")
        guest.power_state = PowerState.SHUTDOWN

    async def power_on(self, spec: InstanceSpec) -> None:
        guest = self._guest(spec.uuid)
        if not self._alive(guest):
            self._boot(guest, spec)

    async def reboot(self, spec: InstanceSpec, hard: bool) -> None:
        guest = self._guest(spec.uuid)
        if not hard and guest.power_state == PowerState.RUNNING:
            guest.console.append("onestack-guest: power button pressed: powering off")
        self._boot(guest, spec)

    async def pause(self, uuid: str) -> None:
        guest = self._guest(uuid)
        self._require(guest, PowerState.RUNNING, PowerState.PAUSED, action="pause")
        guest.power_state = PowerState.PAUSED

    async def unpause(self, uuid: str) -> None:
        guest = self._guest(uuid)
        self._require(guest, PowerState.PAUSED, PowerState.RUNNING, action="unpause")
        guest.power_state = PowerState.RUNNING

    async def suspend(self, uuid: str) -> None:
        guest = self._guest(uuid)
        self._require(
            guest, PowerState.RUNNING, PowerState.PAUSED, PowerState.SUSPENDED, action="suspend"
        )
        guest.power_state = PowerState.SUSPENDED

    async def resume(self, spec: InstanceSpec) -> None:
        guest = self._guest(spec.uuid)
        self._require(guest, PowerState.SUSPENDED, PowerState.RUNNING, action="resume")
        guest.power_state = PowerState.RUNNING

    async def snapshot(self, uuid: str, target: Path) -> str:
        return await asyncio.to_thread(
            write_snapshot, self._guest(uuid).spec.boot.image_path, target
        )

    async def resize(self, old: InstanceSpec, new: InstanceSpec) -> None:
        guest = self._guest(old.uuid)
        if guest.resize_backup is None:
            guest.resize_backup = guest.spec
        self._boot(guest, new)

    async def confirm_resize(self, uuid: str) -> None:
        self._guest(uuid).resize_backup = None

    async def revert_resize(self, spec: InstanceSpec) -> None:
        guest = self._guest(spec.uuid)
        if guest.resize_backup is None:
            raise DriverError(f"instance {spec.uuid} has no resize to revert")
        guest.resize_backup = None
        self._boot(guest, spec)

    async def rebuild(self, spec: InstanceSpec) -> None:
        guest = self._guest(spec.uuid)
        self._boot(guest, spec)

    async def inject_nmi(self, uuid: str) -> None:
        guest = self._guest(uuid)
        self._require(guest, PowerState.RUNNING, PowerState.PAUSED, action="send an NMI to")
        guest.console.append("onestack-guest: NMI received")

    async def rescue(self, spec: InstanceSpec) -> None:
        if spec.rescue is None:
            raise DriverError(f"instance {spec.uuid}: no rescue image given")
        guest = self._guest(spec.uuid)
        guest.console.append(f"onestack-guest: rescue from image {spec.rescue.image_id}")
        self._boot(guest, spec)

    async def unrescue(self, spec: InstanceSpec) -> None:
        self._boot(self._guest(spec.uuid), replace(spec, rescue=None))

    async def console_output(self, uuid: str, length: int | None = None) -> str:
        lines = self._guest(uuid).console
        if length is not None:
            lines = lines[-length:] if length > 0 else []
        return "".join(f"{line}\n" for line in lines)

    def _socket(self, uuid: str, name: str) -> Path:
        guest = self._guest(uuid)
        self._require(guest, PowerState.RUNNING, PowerState.PAUSED, action="open a console of")
        return self.instances_dir / uuid / name

    async def vnc_socket(self, uuid: str) -> Path:
        return self._socket(uuid, "vnc.sock")

    async def serial_socket(self, uuid: str) -> Path:
        return self._socket(uuid, "serial.sock")

    async def attach_volume(self, uuid: str, volume: Volume) -> None:
        guest = self._guest(uuid)
        self._require(
            guest, PowerState.RUNNING, PowerState.PAUSED, PowerState.SHUTDOWN, action="attach to"
        )
        guest.volumes.setdefault(volume.volume_id, volume)

    async def detach_volume(self, uuid: str, volume_id: str) -> None:
        self._guest(uuid).volumes.pop(volume_id, None)

    async def extend_volume(self, uuid: str, volume_id: str, size_bytes: int) -> None:
        if volume_id not in self._guest(uuid).volumes:
            raise DriverError(f"volume {volume_id} is not attached to {uuid}")

    async def attach_interface(self, uuid: str, nic: NIC) -> None:
        guest = self._guest(uuid)
        self._require(
            guest, PowerState.RUNNING, PowerState.PAUSED, PowerState.SHUTDOWN, action="attach to"
        )
        guest.nics.setdefault(nic.port_id, nic)

    async def detach_interface(self, uuid: str, port_id: str) -> None:
        self._guest(uuid).nics.pop(port_id, None)

    async def guest_stats(self, uuid: str) -> GuestStats:
        """Plausible counters that grow with the guest's uptime: a third of each vCPU busy,
        60 % of its memory used, steady disk and network traffic."""
        guest = self.guests.get(uuid)
        if guest is None or guest.power_state != PowerState.RUNNING:
            raise GuestGone(f"instance {uuid} is not running")
        up = max(time.monotonic() - guest.started, 0.0) + 1.0
        spec = guest.spec
        disks = [DiskStats("vda", int(up * 40960), int(up * 20480), int(up * 10), int(up * 5),
                           spec.root_gb * 1024**3)]  # fmt: skip
        disks += [DiskStats(v.volume_id, int(up * 4096), int(up * 4096), int(up), int(up))
                  for v in guest.volumes.values()]  # fmt: skip
        nics = [NicStats(n.port_id, n.mac_address, n.tap, int(up * 1500), int(up * 700),
                         int(up), int(up / 2)) for n in guest.nics.values()]  # fmt: skip
        return GuestStats(
            uuid=uuid,
            cpu_time_ns=int(up * spec.vcpus * 1e9 / 3),
            vcpus=spec.vcpus,
            memory_mb=spec.memory_mb,
            memory_used_mb=spec.memory_mb * 6 // 10,
            disks=tuple(disks),
            nics=tuple(nics),
        )

    async def diagnostics(self, uuid: str) -> dict[str, Any]:
        guest = self._guest(uuid)
        alive = self._alive(guest)
        spec = guest.spec
        return {
            "state": STATE_NAMES[guest.power_state],
            # Nova's schema only knows its own drivers' names; the fake stands in for libvirt.
            "driver": "libvirt",
            "hypervisor": "fake",
            "hypervisor_os": "linux",
            "uptime": int(time.monotonic() - guest.started) if alive else 0,
            "config_drive": spec.config_drive is not None,
            "num_cpus": spec.vcpus,
            "num_nics": len(guest.nics),
            "num_disks": 1 + len(guest.volumes) + (spec.config_drive is not None),
            "memory_details": {"maximum": spec.memory_mb, "used": spec.memory_mb if alive else 0},
            "cpu_details": [
                {"id": i, "time": 0, "utilisation": None} for i in range(spec.vcpus if alive else 0)
            ],
            "nic_details": [nic_details(n.mac_address) for n in guest.nics.values()],
            "disk_details": [disk_details() for _ in range(1 + len(guest.volumes))],
        }
