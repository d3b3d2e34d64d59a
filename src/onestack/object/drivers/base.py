"""The object store seam: where accounts, containers and objects live (Swift's account,
container and object servers behind one interface).

Vocabulary:
- *account*: ``AUTH_<project id>``; it exists once something was written to it.
- *container*: a name in an account (≤ 256 bytes, no ``/``); it holds the listing of its
  objects and the counts (objects, bytes) the account adds up.
- *object*: bytes and their metadata under a name in a container; the name is any UTF-8
  string of up to 1,024 bytes.
- *timestamp*: seconds since the epoch as a float with 10 µs resolution (Swift's
  ``X-Timestamp``); a newer timestamp always wins, so writes that race settle on the last.
- *metadata*: the headers stored with a thing, keyed by their lower-case names
  (``x-object-meta-color``, ``content-disposition``, ``x-container-read``, ...); the proxy
  decides which headers go there.
- *writer*: one object upload in progress. Bytes go to a temporary place and are hashed as
  they come; ``commit`` makes them the object in one atomic step (the old object stays whole
  until then), ``abort`` throws them away.

A store is shared by every request of a process; everything blocking runs off the event loop.
Stores raise only the errors below; the proxy turns them into Swift's answers.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import NamedTuple

Chunk = bytes | memoryview


class StoreError(Exception):
    """Base of what a store raises on purpose."""


class NotFound(StoreError):
    """The account, container or object does not exist."""


class ContainerNotEmpty(StoreError):
    """A container that still lists objects cannot be deleted."""


class EtagMismatch(StoreError):
    """The bytes' md5 is not the one the client sent: the object was not stored."""


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """One object's stored state: what a HEAD answers."""

    name: str
    size: int
    etag: str  # md5 of the bytes, hex (for manifests: what the proxy said)
    content_type: str
    timestamp: float  # of the data (the PUT)
    meta_timestamp: float  # of the metadata (the last POST, or the PUT)
    metadata: dict[str, str] = field(default_factory=dict)


# The content type an object's listing row shows, when not its own (a symlink's carries its
# target as parameters, as Swift's container rows do).
LISTED_TYPE = "x-object-sysmeta-container-update-override-content-type"


def listed_type(info: ObjectInfo) -> str:
    return info.metadata.get(LISTED_TYPE) or info.content_type


@dataclass(frozen=True, slots=True)
class ContainerInfo:
    name: str
    object_count: int
    bytes_used: int
    created: float
    put_timestamp: float
    metadata: dict[str, str]
    policy: str


@dataclass(frozen=True, slots=True)
class AccountInfo:
    name: str
    container_count: int
    object_count: int
    bytes_used: int
    created: float
    metadata: dict[str, str]


class ObjectEntry(NamedTuple):
    """One row of a container listing (a tuple: a listing makes 10,000 of them, and a frozen
    dataclass's constructor cost as much as the SQL that read the rows)."""

    name: str
    size: int
    etag: str
    content_type: str
    timestamp: float


class ContainerEntry(NamedTuple):
    """One row of an account listing."""

    name: str
    object_count: int
    bytes_used: int
    timestamp: float  # of the last change to the container


@dataclass(frozen=True, slots=True)
class Subdir:
    """A prefix standing for every name below it (listings with a delimiter)."""

    name: str


@dataclass(frozen=True, slots=True)
class Listing:
    """What a listing asks for, in Swift's terms (``marker`` and ``end_marker`` exclusive)."""

    limit: int = 10000
    marker: str = ""
    end_marker: str = ""
    prefix: str = ""
    delimiter: str = ""
    reverse: bool = False
    now: float = 0.0  # objects whose X-Delete-At is at or before ``now`` are left out


@dataclass(frozen=True, slots=True)
class Expiring:
    """An object due to go at ``delete_at`` (an entry of the expirer's queue)."""

    account: str
    container: str
    name: str
    delete_at: float
    timestamp: float  # of the object version the queue entry was made for


class ObjectWriter(ABC):
    """One upload. ``write`` is awaited in order, then ``commit`` or ``abort``."""

    size: int  # bytes written so far
    etag: str  # md5 hex of the bytes written (final once every write is done)

    @abstractmethod
    async def write(self, data: Chunk) -> None:
        """Append ``data`` (and hash it)."""

    @abstractmethod
    async def commit(
        self,
        *,
        content_type: str,
        metadata: dict[str, str],
        timestamp: float,
        etag: str = "",
        expect_md5: str | None = None,
        listed_size: int | None = None,
    ) -> ObjectInfo:
        """Make the bytes the object, atomically, with its metadata (``etag`` overrides the
        computed md5, for manifests); the listing shows it once this returns.
        ``EtagMismatch`` (and nothing stored) when the md5 is not ``expect_md5``.
        ``listed_size`` is the size the listing shows (a manifest's: its segments' total)."""

    @abstractmethod
    async def abort(self) -> None:
        """Drop the bytes (safe twice, or after a failed commit)."""


class OpenObject(ABC):
    """An object opened for reading: its info and bytes, as they were when it was opened
    (a PUT that replaces it meanwhile does not change what this reads)."""

    info: ObjectInfo

    @abstractmethod
    def read(self, offset: int = 0, length: int | None = None) -> AsyncIterator[Chunk]:
        """The bytes from ``offset`` (``length`` of them, or to the end)."""

    @abstractmethod
    async def close(self) -> None: ...

    def file_region(self, offset: int, length: int) -> int | None:
        """A file descriptor whose bytes from ``offset`` are these ``length`` bytes of the
        object, for the server to send straight from the file (``sendfile``); None when
        they are not one file's region. Open until ``close``."""
        return None


class ObjectStore(ABC):
    """Accounts, containers and objects. One instance per process."""

    name: str  # e.g. "disk"

    # --- accounts ---------------------------------------------------------------------
    @abstractmethod
    async def account_info(self, account: str) -> AccountInfo | None:
        """The account's counts and metadata, or None when nothing was ever written to it."""

    @abstractmethod
    async def update_account(
        self, account: str, metadata: dict[str, str], timestamp: float
    ) -> None:
        """Set metadata (an empty value removes the key), creating the account."""

    @abstractmethod
    async def list_containers(
        self, account: str, listing: Listing
    ) -> list[ContainerEntry | Subdir]: ...

    # --- containers -------------------------------------------------------------------
    @abstractmethod
    async def create_container(
        self, account: str, container: str, metadata: dict[str, str], policy: str, timestamp: float
    ) -> bool:
        """Create the container (True) or update the metadata of the existing one (False)."""

    @abstractmethod
    async def container_info(self, account: str, container: str) -> ContainerInfo | None: ...

    @abstractmethod
    async def update_container(
        self, account: str, container: str, metadata: dict[str, str], timestamp: float
    ) -> None:
        """Set metadata (an empty value removes the key); ``NotFound`` without the container."""

    @abstractmethod
    async def delete_container(self, account: str, container: str) -> None:
        """``NotFound``, ``ContainerNotEmpty``, or gone."""

    @abstractmethod
    async def list_objects(
        self, account: str, container: str, listing: Listing
    ) -> list[ObjectEntry | Subdir]: ...

    async def list_objects_json(
        self, account: str, container: str, listing: Listing
    ) -> bytes | None:
        """The listing as Swift's JSON body, when the store makes it faster than the rows
        rendered one by one; None when it does not (``list_objects`` then). ``NotFound``
        without the container."""
        return None

    # --- objects ----------------------------------------------------------------------
    @abstractmethod
    def writer(self, account: str, container: str, name: str) -> ObjectWriter: ...

    @abstractmethod
    async def open_object(self, account: str, container: str, name: str) -> OpenObject:
        """``NotFound`` when there is no such object."""

    @abstractmethod
    async def object_info(self, account: str, container: str, name: str) -> ObjectInfo:
        """``NotFound`` when there is no such object."""

    @abstractmethod
    async def update_object(
        self,
        account: str,
        container: str,
        name: str,
        *,
        content_type: str,
        metadata: dict[str, str],
        timestamp: float,
    ) -> ObjectInfo:
        """Replace the object's metadata (a POST); ``NotFound`` without the object."""

    @abstractmethod
    async def delete_object(
        self, account: str, container: str, name: str, timestamp: float
    ) -> ObjectInfo:
        """Remove the object; the info of what went, or ``NotFound``."""

    # --- the agent's work -------------------------------------------------------------
    @abstractmethod
    async def due(self, now: float, limit: int = 1000) -> list[Expiring]:
        """Objects whose X-Delete-At has come (the expirer deletes them)."""

    @abstractmethod
    async def forget_due(self, entry: Expiring) -> None:
        """Take ``entry`` off the expirer's queue."""

    async def reconcile(self) -> dict[str, int]:
        """Match stored objects with the listings (after a crash): list what has data,
        unlist what has none. Returns counts of what it fixed."""
        return {}

    async def audit(self, bytes_per_second: int) -> dict[str, int]:
        """Check every object's bytes against its md5; quarantine those that differ."""
        return {}

    async def close(self) -> None:  # noqa: B027 - most stores hold nothing to release
        """Finish pending work and release files."""
