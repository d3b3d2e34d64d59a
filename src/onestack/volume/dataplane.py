"""Choosing and loading the volume driver (service side: drivers import nothing of common)."""

from __future__ import annotations

import shutil
from pathlib import Path

from onestack.common.agent import LoadedDriver, load_driver
from onestack.volume.drivers.base import VolumeDriver


def why_not_file() -> str | None:
    return None if shutil.which("qemu-img") else "qemu-img is not installed"


def create_driver(wanted: str, root: Path, capacity_gb: int) -> LoadedDriver[VolumeDriver]:
    def file() -> VolumeDriver:
        from onestack.volume.drivers.file import FileDriver

        return FileDriver(root, capacity_gb)

    def fake() -> VolumeDriver:
        from onestack.volume.drivers.fake import FakeDriver

        return FakeDriver(capacity_gb)

    return load_driver(
        "volume",
        wanted,
        {"file": file, "fake": fake},
        auto=("file", "fake"),
        why_not={"file": why_not_file},
    )
