"""Where an instance's files are: ``instances_dir/<uuid>/`` and the shared image cache."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from onestack.compute.drivers.base import DriverError

# uuids and image ids become directory and file names: nothing that could climb out.
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
BASE_DIR = "_base"


def safe_name(value: str, what: str) -> str:
    if not SAFE_NAME.match(value):
        raise DriverError(f"{what} {value!r} is not a valid name")
    return value


@dataclass(frozen=True)
class InstancePaths:
    dir: Path

    @classmethod
    def of(cls, instances_dir: Path, uuid: str) -> InstancePaths:
        return cls(instances_dir / safe_name(uuid, "instance"))

    @property
    def uuid(self) -> str:
        return self.dir.name

    @property
    def disk(self) -> Path:
        return self.dir / "disk"

    @property
    def ephemeral(self) -> Path:
        return self.dir / "disk.local"  # Nova's name for it

    @property
    def swap(self) -> Path:
        return self.dir / "disk.swap"

    @property
    def config_drive(self) -> Path:
        return self.dir / "disk.config"

    @property
    def rescue_disk(self) -> Path:
        return self.dir / "disk.rescue"

    @property
    def resize_backup(self) -> Path:
        return self.dir / "disk.resize-backup"

    @property
    def console_log(self) -> Path:
        return self.dir / "console.log"

    @property
    def qemu_log(self) -> Path:
        return self.dir / "qemu.log"

    @property
    def serial_socket(self) -> Path:
        return self.dir / "serial.sock"

    @property
    def vnc_socket(self) -> Path:
        return self.dir / "vnc.sock"

    @property
    def qmp_socket(self) -> Path:
        return self.dir / "qmp.sock"

    @property
    def guest_agent_socket(self) -> Path:
        return self.dir / "qga.sock"

    @property
    def pidfile(self) -> Path:
        return self.dir / "qemu.pid"

    @property
    def memory_state(self) -> Path:
        """The guest's RAM and device state while suspended."""
        return self.dir / "memory.state"

    @property
    def record(self) -> Path:
        """What the driver knows of the guest: its spec and attached devices (JSON)."""
        return self.dir / "instance.json"


def base_image(instances_dir: Path, image_id: str) -> Path:
    return instances_dir / BASE_DIR / safe_name(image_id, "image")
