"""The embedded default: incoming batches and aggregated splits as files under one
directory (``DATA_DIR/metering``), each written to a temporary name and renamed into place.

Layout: ``incoming/<ns>-<pid>-<n>`` (one file per posted batch, its metrics' parts inside),
``series/<mm>/<metric>/raw`` and ``series/<mm>/<metric>/<granularity ns>/<key>``."""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import os
import shutil
import struct
import threading
import time
from collections.abc import Iterable
from pathlib import Path

from onestack.metering.drivers.base import AggregateStore, IncomingStore, StorageError

# Paths are plain strings and files plain os calls: pathlib's objects cost more than the
# reads themselves when an aggregate reads 1,000 metrics.
FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL
_TEMP = itertools.count()  # temporary names: pid and a counter (no random bytes to read)


def _write(path: str, blob: bytes) -> None:
    head, name = os.path.split(path)
    tmp = os.path.join(head, f".{name}.{os.getpid()}-{next(_TEMP)}")
    try:
        try:
            fd = os.open(tmp, FLAGS, 0o600)
        except FileNotFoundError:
            os.makedirs(head, exist_ok=True)
            fd = os.open(tmp, FLAGS, 0o600)
        try:
            _write_all(fd, blob)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError as exc:
        raise StorageError(f"cannot write {path}: {exc.strerror}") from exc


def _write_all(fd: int, blob: bytes) -> None:
    view = memoryview(blob)
    while view:
        view = view[os.write(fd, view) :]


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb", buffering=0) as f:
            return f.readall()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StorageError(f"cannot read {path}: {exc.strerror}") from exc


class FileIncoming(IncomingStore):
    """One file per posted batch (``<ns>-<pid>-<n>``, every metric of a batch request in it:
    a request of 100 metrics makes one file, not 100). A scan reads the files it has not
    seen and indexes their parts by metric; a file is removed once every metric in it is
    done. Processes sharing the directory take turns (``lock``: an flock on ``.processor``):
    the one processing indexes afresh when it starts and, when it stops, rewrites the files
    it left half done with only their remaining parts, so the next one (maybe another
    process) replays nothing. A crash between a metric's aggregation and its file's
    rewrite replays that metric's measures, which rewrites the same values."""

    name = "file"
    HEADER = struct.Struct("<36sI")  # metric id (padded), blob length

    def __init__(self, root: Path) -> None:
        (root / "incoming").mkdir(parents=True, exist_ok=True, mode=0o700)
        self.root = str(root / "incoming") + os.sep
        self._lock = threading.Lock()
        self._names = itertools.count()
        self._parts: dict[str, list[tuple[str, bytes]]] = {}  # metric: (file, blob), oldest first
        self._left: dict[str, set[str]] = {}  # file: metrics not done yet
        self._held: dict[str, int] = {}  # file: how many metrics it had when read
        self._lock_fd: int | None = None

    def add(self, metric_id: str, blob: bytes) -> None:
        self.add_many([(metric_id, blob)])

    def add_many(self, batches: Iterable[tuple[str, bytes]]) -> None:
        pieces: list[bytes] = []
        for metric_id, blob in batches:
            pieces.append(self.HEADER.pack(metric_id.encode(), len(blob)))
            pieces.append(blob)
        if pieces:
            name = f"{time.time_ns():020d}-{os.getpid()}-{next(self._names)}"
            _write(self.root + name, b"".join(pieces))

    def _unpack(self, data: bytes) -> list[tuple[str, bytes]]:
        out: list[tuple[str, bytes]] = []
        offset, size = 0, self.HEADER.size
        while offset + size <= len(data):
            raw_id, length = self.HEADER.unpack_from(data, offset)
            offset += size
            out.append((raw_id.rstrip(b"\0").decode(), data[offset : offset + length]))
            offset += length
        return out

    def _scan(self) -> None:
        """Index the batch files not seen yet (the caller holds the lock)."""
        with os.scandir(self.root) as entries:
            names = sorted(e.name for e in entries if not e.name.startswith("."))
        for name in names:
            if name in self._left:
                continue
            data = _read(self.root + name)
            if data is None:
                continue
            metrics: set[str] = set()
            metric, dot, _ = name.partition(".")  # the layout before batch files
            for metric_id, blob in [(metric, data)] if dot else self._unpack(data):
                self._parts.setdefault(metric_id, []).append((name, blob))
                metrics.add(metric_id)
            self._left[name] = metrics
            self._held[name] = len(metrics)
            if not metrics:
                self._forget(name)

    def _forget(self, name: str) -> None:
        del self._left[name]
        self._held.pop(name, None)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.root + name)

    def pending(self, limit: int = 10000) -> list[str]:
        with self._lock:
            self._scan()
            return list(itertools.islice(self._parts, limit))

    def take(self, metric_id: str) -> tuple[list[bytes], object]:
        with self._lock:
            if metric_id not in self._parts:
                self._scan()
            parts = list(self._parts.get(metric_id, ()))
        return [blob for _, blob in parts], len(parts)

    def done(self, metric_id: str, token: object) -> None:
        assert isinstance(token, int)
        with self._lock:
            parts = self._parts.pop(metric_id, [])
            taken, later = parts[:token], parts[token:]
            if later:
                self._parts[metric_id] = later
            self._release(metric_id, {name for name, _ in taken} - {n for n, _ in later})

    def _release(self, metric_id: str, names: set[str]) -> None:
        for name in names:
            left = self._left.get(name)
            if left is not None:
                left.discard(metric_id)
                if not left:
                    self._forget(name)

    def delete(self, metric_id: str) -> None:
        with self._lock:
            self._scan()
            parts = self._parts.pop(metric_id, [])
            self._release(metric_id, {name for name, _ in parts})

    def lock(self, wait: bool) -> bool:
        fd = os.open(self.root + ".processor", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(fd)
            return False
        with self._lock:  # another process may have done what this one indexed before
            self._parts.clear()
            self._left.clear()
            self._held.clear()
        self._lock_fd = fd
        return True

    def unlock(self) -> None:
        with self._lock:
            for name, left in self._left.items():
                if left and len(left) < self._held.get(name, 0):
                    self._rewrite(name, left)
        fd, self._lock_fd = self._lock_fd, None
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _rewrite(self, name: str, metrics: set[str]) -> None:
        """A half-done batch file keeps only the parts still to do (same name, so it stays
        in posting order)."""
        parts = [
            (metric_id, blob)
            for metric_id in sorted(metrics)
            for part_file, blob in self._parts.get(metric_id, ())
            if part_file == name
        ]
        pieces = [p for m, blob in parts for p in (self.HEADER.pack(m.encode(), len(blob)), blob)]
        _write(self.root + name, b"".join(pieces))
        self._held[name] = len(metrics)

    def backlog(self) -> tuple[int, int]:
        with self._lock:
            self._scan()
            return len(self._parts), sum(len(v) for v in self._parts.values())


class FileAggregates(AggregateStore):
    name = "file"

    def __init__(self, root: Path) -> None:
        (root / "series").mkdir(parents=True, exist_ok=True, mode=0o700)
        self.root = str(root / "series")

    def _metric(self, metric_id: str) -> str:
        return f"{self.root}/{metric_id[:2]}/{metric_id}"

    def read_raw(self, metric_id: str) -> bytes | None:
        return _read(f"{self._metric(metric_id)}/raw")

    def write_raw(self, metric_id: str, blob: bytes) -> None:
        _write(f"{self._metric(metric_id)}/raw", blob)

    def read_split(self, metric_id: str, granularity: int, key: int) -> bytes | None:
        return _read(f"{self._metric(metric_id)}/{granularity}/{key}")

    def write_split(self, metric_id: str, granularity: int, key: int, blob: bytes) -> None:
        _write(f"{self._metric(metric_id)}/{granularity}/{key}", blob)

    def delete_split(self, metric_id: str, granularity: int, key: int) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{self._metric(metric_id)}/{granularity}/{key}")

    def split_keys(self, metric_id: str, granularity: int) -> list[int]:
        try:
            names = os.listdir(f"{self._metric(metric_id)}/{granularity}")
        except FileNotFoundError:
            return []
        return sorted(int(n) for n in names if not n.startswith("."))

    def delete_metric(self, metric_id: str) -> None:
        shutil.rmtree(self._metric(metric_id), ignore_errors=True)
