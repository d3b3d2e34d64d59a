"""The metering storage seam, in Gnocchi's two halves.

Vocabulary: a *metric* is an id; *measures* are (timestamp ns, float) pairs posted to it;
the *incoming* store queues posted measures (the write path, which never waits for
aggregation); the *aggregate* store keeps, per metric, the bounded *raw* series (the recent
measures aggregation still needs) and the aggregated *splits* (one chunk of
``SPLIT_POINTS`` buckets of one granularity, every method's values in one blob).

Drivers take and return bytes and plain ints; the series format is the caller's. Their
errors are ``StorageError``. Calls block (files, sockets): the service runs them in a thread.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable


class StorageError(Exception):
    """The store could not do what was asked (disk full, server gone)."""


class IncomingStore(abc.ABC):
    name = "base"

    @abc.abstractmethod
    def add(self, metric_id: str, blob: bytes) -> None:
        """Queue one batch of serialized measures for ``metric_id``."""

    def add_many(self, batches: Iterable[tuple[str, bytes]]) -> None:
        for metric_id, blob in batches:
            self.add(metric_id, blob)

    @abc.abstractmethod
    def pending(self, limit: int = 10000) -> list[str]:
        """Metrics with queued measures (at most ``limit``)."""

    @abc.abstractmethod
    def take(self, metric_id: str) -> tuple[list[bytes], object]:
        """The queued batches of a metric and a token to ``done`` them with once processed."""

    @abc.abstractmethod
    def done(self, metric_id: str, token: object) -> None:
        """Forget the batches ``take`` returned with ``token`` (later ones stay queued)."""

    @abc.abstractmethod
    def delete(self, metric_id: str) -> None:
        """Drop everything queued for a metric."""

    def lock(self, wait: bool) -> bool:
        """Become the one processor of this queue until ``unlock`` (False when another
        process is, and ``wait`` is not asked). A driver whose ``take`` is atomic across
        processes (Redis) needs none."""
        return True

    def unlock(self) -> None:
        return None

    def backlog(self) -> tuple[int, int]:
        """(metrics with measures queued, batches queued), for ``GET /v1/status``."""
        metrics = self.pending(1_000_000)
        return len(metrics), len(metrics)

    def close(self) -> None:
        return None


class AggregateStore(abc.ABC):
    name = "base"

    @abc.abstractmethod
    def read_raw(self, metric_id: str) -> bytes | None: ...

    @abc.abstractmethod
    def write_raw(self, metric_id: str, blob: bytes) -> None: ...

    @abc.abstractmethod
    def read_split(self, metric_id: str, granularity: int, key: int) -> bytes | None: ...

    @abc.abstractmethod
    def write_split(self, metric_id: str, granularity: int, key: int, blob: bytes) -> None: ...

    @abc.abstractmethod
    def delete_split(self, metric_id: str, granularity: int, key: int) -> None: ...

    @abc.abstractmethod
    def split_keys(self, metric_id: str, granularity: int) -> list[int]:
        """The chunks held for a granularity, sorted."""

    def read_splits(
        self, metric_id: str, granularity: int, first: int, last: int
    ) -> list[tuple[int, bytes]]:
        """The chunks with keys in [first, last], sorted (a driver may do it in one read)."""
        out: list[tuple[int, bytes]] = []
        for key in self.split_keys(metric_id, granularity):
            if first <= key <= last:
                blob = self.read_split(metric_id, granularity, key)
                if blob is not None:
                    out.append((key, blob))
        return out

    @abc.abstractmethod
    def delete_metric(self, metric_id: str) -> None: ...

    def close(self) -> None:
        return None
