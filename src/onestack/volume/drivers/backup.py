"""The backup store seam: where backups of volumes are kept.

Vocabulary: a *backup* is a copy of a volume's data at one time; an *incremental* backup
keeps only what changed since its *parent* (the previous backup of the volume) and needs the
parent to be restored. The ``file`` store keeps qcow2 files under one directory (an
incremental one is a qcow2 file whose backing file is its parent's); the object store comes
behind this seam once it is wired. Stores take plain values and raise ``BackupStoreError``.
"""

from __future__ import annotations

import abc
import asyncio
import os
from pathlib import Path

from onestack.volume.drivers.base import Location
from onestack.volume.drivers.file import run


class BackupStoreError(Exception):
    pass


class BackupStore(abc.ABC):
    name: str = ""

    @abc.abstractmethod
    async def save(self, backup_id: str, source: Location, parent: str | None) -> str:
        """Copy ``source`` (all of it, or what differs from the backup at ``parent``); the
        backup's location."""

    @abc.abstractmethod
    async def restore(self, location: str, target: Location, size_gb: int) -> None:
        """Write the backup's data into the volume at ``target`` (grown to ``size_gb``)."""

    @abc.abstractmethod
    async def delete(self, location: str) -> None:
        """Remove the backup; no error when it is gone."""


class FakeBackupStore(BackupStore):
    name = "fake"

    def __init__(self) -> None:
        self.saved: dict[str, str | None] = {}

    async def save(self, backup_id: str, source: Location, parent: str | None) -> str:
        self.saved[backup_id] = parent
        return f"fake://backup-{backup_id}"

    async def restore(self, location: str, target: Location, size_gb: int) -> None:
        if location.removeprefix("fake://backup-") not in self.saved:
            raise BackupStoreError(f"no backup at {location}")

    async def delete(self, location: str) -> None:
        self.saved.pop(location.removeprefix("fake://backup-"), None)


class FileBackupStore(BackupStore):
    name = "file"

    def __init__(self, root: Path, qemu_img: str = "qemu-img") -> None:
        self.root = root
        self.qemu_img = qemu_img
        root.mkdir(parents=True, exist_ok=True, mode=0o700)

    async def save(self, backup_id: str, source: Location, parent: str | None) -> str:
        final = self.root / f"backup-{backup_id}.qcow2"
        partial = final.with_name(final.name + ".part")
        argv = [self.qemu_img, "convert", "-q", "-U", "-f", source.format, "-O", "qcow2"]
        if parent is not None:  # only the clusters that differ from the parent are written
            argv += ["-B", parent, "-F", "qcow2"]
        try:
            await run(*argv, source.path, str(partial))
        except BaseException:
            await asyncio.to_thread(partial.unlink, True)
            raise
        os.replace(partial, final)
        return str(final)

    async def restore(self, location: str, target: Location, size_gb: int) -> None:
        final = Path(target.path)
        partial = final.with_name(final.name + ".part")
        try:
            await run(
                self.qemu_img, "convert", "-q", "-f", "qcow2", "-O", target.format, location,
                str(partial),
            )  # fmt: skip
            await run(
                self.qemu_img, "resize", "-q", "-f", target.format, str(partial), f"{size_gb}G"
            )
        except BaseException:
            await asyncio.to_thread(partial.unlink, True)
            raise
        os.replace(partial, final)

    async def delete(self, location: str) -> None:
        path = Path(location)
        if path.parent == self.root:
            await asyncio.to_thread(path.unlink, True)
