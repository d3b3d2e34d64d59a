"""Object files of the disk store: one file per object, its metadata in a trailer.

``objects/<hash[-3:]>/<hash>.data`` holds the bytes, then the metadata as JSON, its length
(4 bytes, big-endian) and an 8-byte magic: written under ``tmp/``, flushed to disk, renamed
into place and the directory flushed, so the name only ever holds a whole object, old or new.
A POST writes ``<hash>.meta`` beside it the same way; it applies only to the data version it
names (a later PUT makes it stale, whether or not the PUT got to remove it).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import itertools
import json
import mmap
import os
import resource
import secrets
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from onestack.common.dataio.diskwrite import write_all
from onestack.object.drivers.base import ObjectInfo

MAGIC = b"\x00osobj1\x00"
TEMP_PREFIX = ".tmp-"
TRAILER_TAIL = 4 + len(MAGIC)
SMALL = 64 * 1024  # objects up to this size are read whole in one call
SUFFIXES = 16**3  # object directories: the last three hex digits of the name's hash
# An object file's mtime names its version: its timestamp in 10 us steps, then these
# nanoseconds, so that a PUT learns that the version in place is older from one stat
# instead of reading its trailer (open, fstat, pread, close and a JSON parse).
VERSION_MARK = 4321
FS_IOC_GETFLAGS = 0x80086601  # linux/fs.h, as chattr and lsattr call them
FS_IOC_SETFLAGS = 0x40086602
FS_TOPDIR_FL = 0x00020000


class Corrupt(Exception):
    """An object file without a readable trailer."""


def object_hash(account: str, container: str, name: str) -> str:
    key = f"/{account}/{container}/{name}".encode()
    return hashlib.md5(key, usedforsecurity=False).hexdigest()


@dataclass
class Layout:
    root: Path
    suffix_dirs: bool = True  # make every object directory at once (False: on first use)
    objects: Path = field(init=False)
    tmp: Path = field(init=False)
    quarantine: Path = field(init=False)

    def __post_init__(self) -> None:
        self.objects = self.root / "objects"
        self.tmp = self.root / "tmp"
        self.quarantine = self.root / "quarantined"
        for path in (self.root, self.objects, self.tmp, self.quarantine):
            path.mkdir(parents=True, exist_ok=True, mode=0o700)
        spread_subdirs(self.objects)
        if self.suffix_dirs:
            self._make_suffix_dirs()
        # Plain strings on the hot path: pathlib's joins cost more than the syscalls.
        self._objects = str(self.objects)
        self._tmp = f"{TEMP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}-"
        self._count = itertools.count()
        self._dir_fds: dict[str, int] = {}
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        # A quarter of the process's descriptors at most: sockets and databases need theirs.
        self._dir_fd_cap = SUFFIXES if soft == resource.RLIM_INFINITY else soft // 4

    def sync_dir(self, path: str) -> None:
        """Flush the directory ``path`` after an entry in it changed. Its descriptor stays
        open for the next time (while under the cap): each PUT flushes the directory its
        object went to, and opening and closing it were two more calls to the kernel."""
        fd = self._dir_fds.get(path)
        if fd is None:
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            if len(self._dir_fds) >= self._dir_fd_cap:
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
                return
            kept = self._dir_fds.setdefault(path, fd)
            if kept != fd:  # another thread kept one meanwhile
                os.close(fd)
                fd = kept
        os.fsync(fd)

    def close(self) -> None:
        fds = list(self._dir_fds.values())
        self._dir_fds.clear()
        for fd in fds:
            os.close(fd)

    def _make_suffix_dirs(self) -> None:
        """Every ``objects/<hash[-3:]>`` directory, made once and made durable (the parent
        flushed): an upload then never makes one. Made on the first upload of each, most
        uploads of a new store paid a failed open and a mkdir (~0.14 s for all 4,096 here)."""
        have = set(os.listdir(self.objects))
        if len(have) >= SUFFIXES:
            return
        for n in range(SUFFIXES):
            name = f"{n:03x}"
            if name not in have:
                with contextlib.suppress(FileExistsError):  # another process made it
                    os.mkdir(self.objects / name, 0o700)
        fsync_dir(str(self.objects))

    def data_path(self, digest: str) -> str:
        return f"{self._objects}/{digest[-3:]}/{digest}.data"

    def make_suffix_dir(self, path: str) -> None:
        """The object directory ``path`` (one not made at start), its name made durable."""
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            return
        fsync_dir(self._objects)

    def temp_path(self, digest: str) -> str:
        """A name no other upload (of this or another process) uses, in the directory the
        object goes to: the rename stays in one directory, and concurrent uploads do not all
        create their files in one (measured: one shared directory serialised them)."""
        return f"{self._objects}/{digest[-3:]}/{self._tmp}{next(self._count)}"

    def temp_files(self) -> Iterator[Path]:
        """Temporary files of uploads (in progress, or left by a crash)."""
        yield from self.objects.glob(f"*/{TEMP_PREFIX}*")
        yield from self.tmp.iterdir()  # sidecars' temporary files


def spread_subdirs(path: Path) -> None:
    """Ask ext4 to spread the directories made under ``path`` over the whole disk as it
    does the root's (``chattr +T``); elsewhere (another file system, no right) nothing.

    ext4 places a file's inode in its directory's block group and, without a journal,
    skips inodes freed in the last seconds (minutes while their block is dirty), testing
    each free one in turn from the group's start. Every PUT over an object frees one: with
    the 4,096 object directories in a few groups (~40 here), that scan was 6% of the
    server's CPU under 16 clients' PUTs (this host's ext4 has no journal). Spread over
    ~1,700 groups, a create and a rename over a file took ~50 us of kernel time instead of
    ~70-100 (create, write, close, rename; 30,000 of them over 1,024 names)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return
    try:
        flags = struct.unpack("=i", fcntl.ioctl(fd, FS_IOC_GETFLAGS, b"\0" * 4))[0]
        if not flags & FS_TOPDIR_FL:
            fcntl.ioctl(fd, FS_IOC_SETFLAGS, struct.pack("=i", flags | FS_TOPDIR_FL))
    except OSError:
        pass
    finally:
        os.close(fd)


def encode_trailer(meta: dict[str, Any]) -> bytes:
    # orjson: a PUT's trailer and a GET's parse of it cost a third of json's.
    raw = orjson.dumps(meta)
    return raw + struct.pack(">I", len(raw)) + MAGIC


def decode_trailer(tail: bytes | bytearray, file_size: int) -> tuple[dict[str, Any], int] | int:
    """The metadata and the body's size from the end of a file; or, when ``tail`` is too
    short to hold the whole trailer, how many bytes from the end are needed."""
    if len(tail) < TRAILER_TAIL or tail[-len(MAGIC) :] != MAGIC:
        raise Corrupt("no trailer")
    (length,) = struct.unpack(">I", tail[-TRAILER_TAIL : -len(MAGIC)])
    need = length + TRAILER_TAIL
    if need > file_size:
        raise Corrupt("trailer longer than the file")
    if need > len(tail):
        return int(need)
    raw = tail[len(tail) - need : len(tail) - TRAILER_TAIL]
    try:
        meta: dict[str, Any] = dict(orjson.loads(raw))
    except ValueError:
        raise Corrupt("unreadable trailer") from None
    return meta, file_size - need


def info_from(meta: dict[str, Any], sidecar: dict[str, Any] | None) -> ObjectInfo:
    """The object's info from its trailer, with a POST's sidecar applied when it names this
    data version."""
    content_type = meta["ct"]
    metadata = meta["meta"]
    meta_ts = meta["ts"]
    if sidecar is not None and sidecar.get("data_ts") == meta["ts"]:
        content_type = sidecar["ct"]
        metadata = sidecar["meta"]
        meta_ts = sidecar["ts"]
    return ObjectInfo(
        name=meta["name"],
        size=meta["size"],
        etag=meta["etag"],
        content_type=content_type,
        timestamp=meta["ts"],
        meta_timestamp=meta_ts,
        metadata=metadata,
    )


def read_trailer(
    fd: int, size: int, head: bytes | bytearray | None = None
) -> tuple[dict[str, Any], int]:
    """(metadata, body size) of the open object file ``fd`` of ``size`` bytes; ``head`` is
    the whole file when the caller already read it."""
    tail = head if head is not None else os.pread(fd, min(size, 8192), max(0, size - 8192))
    got = decode_trailer(tail, size)
    if isinstance(got, int):
        got = decode_trailer(os.pread(fd, got, size - got), size)
        if isinstance(got, int):
            raise Corrupt("short trailer")
    return got


def meta_path(data_path: str) -> str:
    """The POST sidecar of the object file ``data_path`` (``<hash>.meta``)."""
    return data_path[: -len(".data")] + ".meta"


def digest_of(data_path: str) -> str:
    return os.path.basename(data_path)[: -len(".data")]


def read_sidecar(path: str) -> dict[str, Any] | None:
    try:
        with open(meta_path(path), "rb") as f:
            data: dict[str, Any] = json.loads(f.read())
            return data
    except FileNotFoundError:
        return None
    except ValueError:  # a torn sidecar cannot be: it is renamed into place whole
        return None


def fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def place(temp: str, final: str, *, sync: bool = True) -> None:
    """Rename a flushed temporary file into place and (unless the caller does it later,
    ``sync`` False) make the rename durable."""
    try:
        os.rename(temp, final)
    except FileNotFoundError:
        os.makedirs(os.path.dirname(final), mode=0o700, exist_ok=True)
        os.rename(temp, final)
    if sync:
        fsync_dir(os.path.dirname(final))


def write_sidecar(layout: Layout, final: str, sidecar: dict[str, Any]) -> None:
    temp = layout.temp_path(digest_of(final))  # beside the object: it exists
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        write_all(fd, json.dumps(sidecar).encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    place(temp, meta_path(final))


def version_ns(ts: float) -> int:
    """The mtime (ns) of the object file of the version of timestamp ``ts``: monotonic in
    ``ts`` (an older version's is smaller), ending in ``VERSION_MARK``."""
    return round(ts * 100_000) * 10_000 + VERSION_MARK


def newer_in_place(path: str, ts: float) -> bool:
    """Whether the object file at ``path`` holds a version newer than ``ts``. Its mtime
    answers when it carries the mark and is smaller than ``ts``'s; otherwise (a file of
    an older release, a file system without nanosecond times, a tie) its trailer does."""
    try:
        mtime = os.stat(path).st_mtime_ns
    except FileNotFoundError:
        return False
    if mtime % 10_000 == VERSION_MARK and mtime < version_ns(ts):
        return False
    found = stored_version(path)
    return found is not None and found[0]["ts"] > ts


def newer_open(fd: int, ts: float) -> bool:
    """``newer_in_place`` of the object file open as ``fd``."""
    found = os.fstat(fd)
    mtime = found.st_mtime_ns
    if mtime % 10_000 == VERSION_MARK and mtime < version_ns(ts):
        return False
    try:
        meta, _ = read_trailer(fd, found.st_size)
    except Corrupt:
        return False
    return bool(meta["ts"] > ts)


def stored_version(path: str) -> tuple[dict[str, Any], int] | None:
    """The trailer of the object file at ``path``, or None when there is none (or it is
    unreadable: a newer write replaces it)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        return read_trailer(fd, os.fstat(fd).st_size)
    except Corrupt:
        return None
    finally:
        os.close(fd)


def map_block(fd: int, at: int, length: int) -> memoryview:
    """``length`` bytes of the file at ``at``, mapped read-only and populated by the kernel
    in one call (on a worker thread): the socket then copies straight from the page cache,
    no copy into a Python buffer. The mapping goes when the last view of it does, after the
    send (object files never change once in place: a new version is a new file renamed
    over the name). Measured cold, 512 MiB in 4 MiB blocks: touching each page from Python
    after MADV_WILLNEED and a POSIX_FADV_WILLNEED of the next blocks read ~1.0-1.7 GB/s for
    150 ms of CPU; MAP_POPULATE with the file's sequential read-ahead ~3 GB/s for 15 ms."""
    base = at - at % mmap.ALLOCATIONGRANULARITY
    mapped = mmap.mmap(
        fd,
        length + at - base,
        flags=mmap.MAP_SHARED | mmap.MAP_POPULATE,
        prot=mmap.PROT_READ,
        offset=base,
    )
    return memoryview(mapped)[at - base :]


def remove(path: str) -> None:
    """Remove an object file and its sidecar (or a temporary file; nothing there is fine)."""
    victims = (path, meta_path(path)) if path.endswith(".data") else (path,)
    for victim in victims:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(victim)
