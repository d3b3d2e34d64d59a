"""Choosing and loading the object store (service side: drivers import nothing of common)."""

from __future__ import annotations

from pathlib import Path

from onestack.common.agent import LoadedDriver, load_driver
from onestack.object.drivers.base import ObjectStore


def create_store(wanted: str, root: Path) -> LoadedDriver[ObjectStore]:
    """The object store ``[object] driver`` names, through the common loader."""

    def disk() -> ObjectStore:
        from onestack.object.drivers.disk.store import DiskStore

        return DiskStore(root)

    def fake() -> ObjectStore:
        from onestack.object.drivers.fake import FakeStore

        return FakeStore()

    return load_driver("object store", wanted, {"disk": disk, "fake": fake})
