"""Fernet key repositories on disk, laid out as Keystone's: ``0`` is staged, the highest primary.

Rotation promotes the staged key to primary and stages a fresh one, keeping at most
``max_active_keys``; every API process sharing the directory then reads the same keys.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from cryptography.fernet import Fernet, MultiFernet

# Another process may rotate the keys; look for that at most this often, not per token.
RECHECK_SECONDS = 1.0


class KeyRepository:
    def __init__(self, directory: Path, max_active_keys: int = 3) -> None:
        self.directory = directory
        self.max_active_keys = max_active_keys
        self._mtime_ns = -1
        self._checked_at = 0.0
        self._fernet: MultiFernet | None = None

    def _indexes(self) -> list[int]:
        return sorted(int(p.name) for p in self.directory.iterdir() if p.name.isdigit())

    def _write(self, index: int, key: bytes) -> None:
        tmp = self.directory / f".{index}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key)
        tmp.rename(self.directory / str(index))

    def initialize(self) -> None:
        """Create the directory with a staged and a primary key if it has none."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not self._indexes():
            self._write(0, Fernet.generate_key())
            self._write(1, Fernet.generate_key())

    def rotate(self) -> int:
        """Promote staged to primary, stage a new key, drop the oldest; returns the new primary."""
        indexes = self._indexes()
        new_primary = max(indexes) + 1
        (self.directory / "0").rename(self.directory / str(new_primary))
        self._write(0, Fernet.generate_key())
        secondaries = [i for i in indexes if i != 0]
        excess = len(secondaries) + 2 - self.max_active_keys
        for old in sorted(secondaries)[: max(excess, 0)]:
            (self.directory / str(old)).unlink()
        self._fernet = None
        return new_primary

    def fernet(self) -> MultiFernet:
        """Primary first (encrypts), then the others (decrypt); reloaded when the dir changes."""
        now = time.monotonic()
        if self._fernet is not None and now - self._checked_at < RECHECK_SECONDS:
            return self._fernet
        self._checked_at = now
        mtime = self.directory.stat().st_mtime_ns
        if self._fernet is None or mtime != self._mtime_ns:
            order = sorted(self._indexes(), reverse=True)
            keys = [Fernet((self.directory / str(i)).read_bytes().strip()) for i in order]
            self._fernet = MultiFernet(keys)
            self._mtime_ns = mtime
        return self._fernet
