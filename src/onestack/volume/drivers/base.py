"""The block storage data plane seam.

Vocabulary: a *volume* is a block device's data kept by a backend (a file, a logical volume,
an RBD image); its *location* is the backend's own name for it (a file path) and its *format*
(``qcow2`` or ``raw``) says how a hypervisor reads it. A backend has one or more *pools*, each
reporting its capacity in GiB as Cinder's scheduler tracks it (total, free, thin
provisioning). Drivers take plain frozen values, import nothing of ``onestack.common`` but
logging, and raise ``VolumeDriverError``.
"""

from __future__ import annotations

import abc
import enum
from dataclasses import dataclass
from pathlib import Path


class VolumeDriverError(Exception):
    """The backend could not do what was asked (the agent records it on the volume)."""


class Capability(enum.Enum):
    CLONE = "clone"  # a volume made from another's data
    FROM_IMAGE = "from_image"  # a volume made from an image file
    SNAPSHOT = "snapshot"


@dataclass(frozen=True)
class NewVolume:
    id: str
    size_gb: int
    format: str = "qcow2"  # what the backend should make, when it has a choice


@dataclass(frozen=True)
class Location:
    path: str
    format: str  # qcow2 | raw


@dataclass(frozen=True)
class PoolStats:
    pool: str
    total_capacity_gb: float
    free_capacity_gb: float
    thin: bool = True


class VolumeDriver(abc.ABC):
    name: str = ""
    capabilities: frozenset[Capability] = frozenset()

    @abc.abstractmethod
    async def create(self, volume: NewVolume) -> Location:
        """Make an empty volume of ``size_gb``; a leftover of an interrupted create of the
        same id is replaced."""

    @abc.abstractmethod
    async def delete(self, volume_id: str, location: Location | None) -> None:
        """Remove the volume's data; no error when it is already gone."""

    @abc.abstractmethod
    async def extend(self, location: Location, size_gb: int) -> None:
        """Grow the volume to ``size_gb``."""

    @abc.abstractmethod
    async def stats(self) -> list[PoolStats]:
        """The pools and their capacity now."""

    @abc.abstractmethod
    async def volumes(self) -> dict[str, Location]:
        """Every volume the backend holds, by id (for the orphan check)."""

    async def clone(self, volume: NewVolume, source: Location) -> Location:
        """A new volume with ``source``'s data, grown to ``size_gb``."""
        raise VolumeDriverError(f"the {self.name} driver cannot clone volumes")

    async def from_image(self, volume: NewVolume, image: Location) -> Location:
        """A new volume with the image file's data, grown to ``size_gb``."""
        raise VolumeDriverError(f"the {self.name} driver cannot copy images")

    async def snapshot(self, snapshot_id: str, source: Location) -> Location:
        """A point-in-time copy of ``source`` (kept until ``delete_snapshot``)."""
        raise VolumeDriverError(f"the {self.name} driver cannot snapshot volumes")

    async def delete_snapshot(self, snapshot_id: str, location: Location | None) -> None:
        """Remove a snapshot's data; no error when it is already gone."""
        raise VolumeDriverError(f"the {self.name} driver cannot snapshot volumes")

    async def revert(self, volume: Location, snapshot: Location, size_gb: int) -> None:
        """Put the snapshot's data back into the volume."""
        raise VolumeDriverError(f"the {self.name} driver cannot revert volumes")

    async def export(self, volume: Location, fmt: str, out: Path) -> None:
        """Write the volume's data to the file ``out`` in ``fmt`` (qcow2 or raw)."""
        raise VolumeDriverError(f"the {self.name} driver cannot export volumes")
