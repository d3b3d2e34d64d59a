"""The image store seam: where image bytes live (a directory, later the object service).

Vocabulary:
- *location*: the store's own opaque string for one image's data (a path for ``file``, an
  object name for ``object``). Only the store interprets it; the service keeps it in the row.
- *writer*: one upload in progress. Bytes go to a temporary place; ``commit`` makes them the
  image's data in one atomic step, ``abort`` throws them away. Nothing half written ever has
  a location, so a crash mid-upload leaves no image pointing at partial data.
- The service hashes (md5 and sha512) and counts the bytes; a store only keeps them.

The driver never touches the database: it sees image ids and locations, nothing else.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path

# What a store reads out: bytes, or a read-only view of them (no copy); never mutated.
Chunk = bytes | memoryview
# Chunks of an upload as they came, in order, written together (not joined: no copy).
Block = Sequence[Chunk]


class StoreWriter(ABC):
    """One upload into a store. ``write`` is awaited in order; then ``commit`` or ``abort``."""

    @abstractmethod
    async def write(self, data: Chunk) -> None:
        """Append ``data`` to the temporary copy."""

    def lane(self) -> Callable[[Block], None] | None:
        """A blocking append of one block, which the upload runs on a worker thread beside
        its hashes (``common/dataio/pipeline.py``) instead of awaiting ``write``; None when the
        store only takes bytes through ``write``. Called for each block in order, never two
        at once, and never after ``commit`` or ``abort`` began."""
        return None

    @abstractmethod
    async def commit(self) -> str:
        """Make the written bytes durable and final; return their location."""

    @abstractmethod
    async def abort(self) -> None:
        """Drop everything written (safe to call twice, or after a failed commit)."""


class ImageStore(ABC):
    """A place image data is kept. One instance per process, shared by all requests."""

    name: str  # the store id shown in /v2/info/stores, e.g. "file"
    description: str

    @abstractmethod
    def writer(self, image_id: str) -> StoreWriter:
        """Start an upload of ``image_id``'s data."""

    @abstractmethod
    def read(
        self, location: str, offset: int = 0, length: int | None = None
    ) -> AsyncIterator[Chunk]:
        """The bytes at ``location`` from ``offset`` (``length`` of them, or to the end)."""

    @abstractmethod
    async def delete(self, location: str) -> None:
        """Remove the data at ``location``; a missing location is not an error."""

    @abstractmethod
    async def temporary_ids(self) -> set[str]:
        """Images with temporary data here: uploads in progress, or left by a crash."""

    @abstractmethod
    async def clean_temporary(self, image_id: str) -> int:
        """Remove ``image_id``'s temporary data (an upload that will never finish; another
        image's uploads are untouched); return how many pieces went."""

    @abstractmethod
    async def discard(self, image_id: str) -> None:
        """Remove data committed for ``image_id`` that no image row points to (a crash
        between ``commit`` and the row's update); nothing there is not an error."""

    def local_path(self, location: str) -> Path | None:
        """A path on this host holding the data, when the store keeps it in a file."""
        return None

    async def local_file(self, location: str) -> Path | None:
        """A local file holding the data, for what must open a path (QEMU): the store's own
        file, or a copy it keeps when the data lives elsewhere; None when it cannot."""
        return self.local_path(location)

    async def adopt(self, image_id: str, path: Path) -> str | None:
        """Take over a complete local file as ``image_id``'s data without copying it, when
        the store can (same filesystem); None when the caller must copy through a writer."""
        return None
