"""A volume driver that keeps nothing but its bookkeeping in memory (API tests)."""

from __future__ import annotations

from pathlib import Path

from onestack.volume.drivers.base import (
    Capability,
    Location,
    NewVolume,
    PoolStats,
    VolumeDriver,
    VolumeDriverError,
)


class FakeDriver(VolumeDriver):
    name = "fake"
    capabilities = frozenset({Capability.CLONE, Capability.FROM_IMAGE, Capability.SNAPSHOT})

    def __init__(self, capacity_gb: int = 1000) -> None:
        self.capacity_gb = capacity_gb or 1000
        self.sizes: dict[str, int] = {}
        self.snapshots: set[str] = set()

    async def create(self, volume: NewVolume) -> Location:
        self.sizes[volume.id] = volume.size_gb
        return Location(f"fake://{volume.id}", volume.format)

    async def delete(self, volume_id: str, location: Location | None) -> None:
        self.sizes.pop(volume_id, None)

    async def extend(self, location: Location, size_gb: int) -> None:
        volume_id = location.path.removeprefix("fake://")
        if volume_id not in self.sizes:
            raise VolumeDriverError(f"no volume {volume_id}")
        self.sizes[volume_id] = size_gb

    async def stats(self) -> list[PoolStats]:
        used = sum(self.sizes.values())
        return [PoolStats("fake", float(self.capacity_gb), float(self.capacity_gb - used))]

    async def volumes(self) -> dict[str, Location]:
        return {i: Location(f"fake://{i}", "qcow2") for i in self.sizes}

    async def clone(self, volume: NewVolume, source: Location) -> Location:
        return await self.create(volume)

    async def from_image(self, volume: NewVolume, image: Location) -> Location:
        return await self.create(volume)

    async def snapshot(self, snapshot_id: str, source: Location) -> Location:
        self.snapshots.add(snapshot_id)
        return Location(f"fake://snapshot-{snapshot_id}", source.format)

    async def delete_snapshot(self, snapshot_id: str, location: Location | None) -> None:
        self.snapshots.discard(snapshot_id)

    async def revert(self, volume: Location, snapshot: Location, size_gb: int) -> None:
        if snapshot.path.removeprefix("fake://snapshot-") not in self.snapshots:
            raise VolumeDriverError("no such snapshot")

    async def export(self, volume: Location, fmt: str, out: Path) -> None:
        """One MiB of zeros: fake volumes hold no data."""
        with open(out, "wb") as f:  # noqa: ASYNC230 - a sparse file, no data written
            f.truncate(1024**2)
