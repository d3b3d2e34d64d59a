"""Volumes as qcow2 or raw files in one directory, made, grown and converted with
``qemu-img`` (sparse: nothing is zero-filled). One pool: the directory's file system."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from onestack.volume.drivers.base import (
    Capability,
    Location,
    NewVolume,
    PoolStats,
    VolumeDriver,
    VolumeDriverError,
)

GiB = 1024**3
FORMATS = ("qcow2", "raw")


async def run(*argv: str) -> str:
    """Run a command (an argument list); its stdout, or ``VolumeDriverError`` with stderr."""
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await proc.communicate()
    if proc.returncode != 0:
        raise VolumeDriverError(f"{argv[0]} {argv[1]} failed: {err.decode(errors='replace')}")
    return out.decode()


class FileDriver(VolumeDriver):
    name = "file"
    capabilities = frozenset({Capability.CLONE, Capability.FROM_IMAGE, Capability.SNAPSHOT})

    def __init__(self, root: Path, capacity_gb: int = 0, qemu_img: str = "qemu-img") -> None:
        self.root = root
        self.capacity_gb = capacity_gb
        self.qemu_img = qemu_img
        self._templates: dict[int, bytes] = {}
        root.mkdir(parents=True, exist_ok=True, mode=0o700)

    def path(self, volume_id: str, fmt: str) -> Path:
        if fmt not in FORMATS:
            raise VolumeDriverError(f"unknown volume format {fmt!r}")
        return self.root / f"volume-{volume_id}.{fmt}"

    def _partial(self, final: Path) -> Path:
        return final.with_name(final.name + ".part")

    async def _publish(self, partial: Path, final: Path) -> Location:
        """The finished file takes its name at once: a crash leaves a ``.part`` file at most,
        never a half-made volume."""
        os.replace(partial, final)
        return Location(str(final), final.suffix.lstrip("."))

    async def create(self, volume: NewVolume) -> Location:
        final = self.path(volume.id, volume.format)
        partial = self._partial(final)
        try:
            await self._blank(volume, partial)
        except BaseException:
            await asyncio.to_thread(partial.unlink, True)
            raise
        return await self._publish(partial, final)

    async def _blank(self, volume: NewVolume, path: Path) -> None:
        """An empty volume of the full size at ``path``: nothing written but metadata."""
        if volume.format == "raw":  # a sparse file
            await asyncio.to_thread(self._sparse, path, volume.size_gb * GiB)
        else:
            image = await self._template(volume.size_gb)
            await asyncio.to_thread(self._write, path, image)

    async def _template(self, size_gb: int) -> bytes:
        """An empty sparse qcow2 of ``size_gb`` as qemu-img makes it (its metadata only, the
        same bytes for every volume of that size): made once per size, then copied, which
        spares each create a qemu-img process."""
        image = self._templates.get(size_gb)
        if image is None:
            made = self.root / f".template-{size_gb}.qcow2"
            await run(
                self.qemu_img, "create", "-q", "-f", "qcow2", "-o", "preallocation=off",
                str(made), f"{size_gb}G",
            )  # fmt: skip
            image = await asyncio.to_thread(made.read_bytes)
            await asyncio.to_thread(made.unlink, True)
            self._templates[size_gb] = image
        return image

    @staticmethod
    def _sparse(path: Path, size: int) -> None:
        with open(path, "wb") as f:
            f.truncate(size)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        with open(path, "wb") as f:
            f.write(data)

    async def delete(self, volume_id: str, location: Location | None) -> None:
        await asyncio.to_thread(self._delete, volume_id, location)

    def _delete(self, volume_id: str, location: Location | None) -> None:
        for fmt in FORMATS:
            final = self.path(volume_id, fmt)
            self._partial(final).unlink(missing_ok=True)
            final.unlink(missing_ok=True)
        if location is not None and location.path.startswith(str(self.root) + os.sep):
            Path(location.path).unlink(missing_ok=True)

    async def extend(self, location: Location, size_gb: int) -> None:
        await run(
            self.qemu_img, "resize", "-q", "-f", location.format, location.path, f"{size_gb}G"
        )

    async def stats(self) -> list[PoolStats]:
        st = os.statvfs(self.root)
        total = self.capacity_gb or st.f_blocks * st.f_frsize / GiB
        free = st.f_bavail * st.f_frsize / GiB
        if self.capacity_gb:
            used = sum(p.stat().st_blocks * 512 for p in self.root.glob("volume-*")) / GiB
            free = max(0.0, self.capacity_gb - used)
        return [PoolStats(self.name, round(total, 2), round(min(free, total), 2))]

    async def volumes(self) -> dict[str, Location]:
        found: dict[str, Location] = {}
        for p in self.root.glob("volume-*"):
            stem, _, fmt = p.name.partition(".")
            if fmt in FORMATS:
                found[stem.removeprefix("volume-")] = Location(str(p), fmt)
        return found

    async def _copy(self, source: Location, fmt: str, partial: Path) -> None:
        """``qemu-img convert`` (``-U``: the source may be in a running guest's use)."""
        await asyncio.to_thread(partial.unlink, True)
        await run(
            self.qemu_img, "convert", "-q", "-U", "-f", source.format, "-O", fmt,
            source.path, str(partial),
        )  # fmt: skip

    async def _convert(self, volume: NewVolume, source: Location) -> Location:
        """The source's data written into a new empty volume of the full size: one
        qemu-img process (a convert, then a resize to the volume's size, took two). The
        volume is at least as large as its source (the API refuses a smaller one)."""
        final = self.path(volume.id, volume.format)
        partial = self._partial(final)
        try:
            await asyncio.to_thread(partial.unlink, True)
            await self._blank(volume, partial)
            await run(
                self.qemu_img, "convert", "-q", "-U", "-n", "--target-is-zero",
                "-f", source.format, "-O", volume.format, source.path, str(partial),
            )  # fmt: skip
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        return await self._publish(partial, final)

    async def clone(self, volume: NewVolume, source: Location) -> Location:
        return await self._convert(volume, source)

    async def from_image(self, volume: NewVolume, image: Location) -> Location:
        return await self._convert(volume, image)

    def snapshot_path(self, snapshot_id: str) -> Path:
        return self.root / f"snapshot-{snapshot_id}.qcow2"

    async def snapshot(self, snapshot_id: str, source: Location) -> Location:
        final = self.snapshot_path(snapshot_id)
        partial = self._partial(final)
        try:
            await self._copy(source, "qcow2", partial)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        return await self._publish(partial, final)

    async def delete_snapshot(self, snapshot_id: str, location: Location | None) -> None:
        final = self.snapshot_path(snapshot_id)
        await asyncio.to_thread(self._partial(final).unlink, True)
        await asyncio.to_thread(final.unlink, True)

    async def revert(self, volume: Location, snapshot: Location, size_gb: int) -> None:
        final = Path(volume.path)
        partial = self._partial(final)
        try:
            await self._copy(snapshot, volume.format, partial)
            await run(
                self.qemu_img, "resize", "-q", "-f", volume.format, str(partial), f"{size_gb}G"
            )
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        os.replace(partial, final)

    async def export(self, volume: Location, fmt: str, out: Path) -> None:
        await run(
            self.qemu_img, "convert", "-q", "-U", "-f", volume.format, "-O", fmt,
            volume.path, str(out),
        )  # fmt: skip
