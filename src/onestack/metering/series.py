"""The time-series core (Gnocchi's carbonara, in numpy): measures grouped into buckets of a
granularity and aggregated by a method (``mean``, ``max``, ``95pct``, ``rate:mean`` ...),
aggregated series split in fixed-size chunks by time, and the merge of new buckets into
those chunks so that one new point rewrites one chunk, never the whole series.

Timestamps are int64 nanoseconds since the epoch; values float64."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import orjson

Int64s = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

BASE_METHODS = ("mean", "sum", "last", "max", "min", "std", "median", "first", "count")
PERCENTILES = tuple(f"{i}pct" for i in range(1, 100))
METHODS = frozenset(
    (*BASE_METHODS, *PERCENTILES, *(f"rate:{m}" for m in (*BASE_METHODS, *PERCENTILES)))
)
SPLIT_POINTS = 3600  # points of one chunk of an aggregated series (as Gnocchi's splits)

EMPTY_TS: Int64s = np.empty(0, dtype=np.int64)
EMPTY_VALUES: Floats = np.empty(0, dtype=np.float64)


def buckets(ts: Int64s, granularity: int) -> Int64s:
    """The start of the bucket of each timestamp."""
    return (ts // granularity) * granularity


def group_starts(keys: Int64s) -> Int64s:
    """Index of the first element of each run of equal (sorted) keys."""
    if keys.size == 0:
        return EMPTY_TS
    return np.concatenate(([0], np.flatnonzero(np.diff(keys)) + 1)).astype(np.int64)


def _reduce(method: str, values: Floats, starts: Int64s) -> Floats:
    ends = np.append(starts[1:], values.size)
    counts = (ends - starts).astype(np.float64)
    if method == "count":
        return counts
    if method == "sum":
        return np.asarray(np.add.reduceat(values, starts), dtype=np.float64)
    if method == "mean":
        return np.asarray(np.add.reduceat(values, starts) / counts, dtype=np.float64)
    if method == "min":
        return np.asarray(np.minimum.reduceat(values, starts), dtype=np.float64)
    if method == "max":
        return np.asarray(np.maximum.reduceat(values, starts), dtype=np.float64)
    if method == "first":
        return np.asarray(values[starts], dtype=np.float64)
    if method == "last":
        return np.asarray(values[ends - 1], dtype=np.float64)
    if method == "std":
        sums = np.add.reduceat(values, starts)
        means = np.repeat(sums / counts, (ends - starts))
        squares = np.add.reduceat((values - means) ** 2, starts)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(counts > 1, np.sqrt(squares / (counts - 1)), np.nan)
    q = 50.0 if method == "median" else float(method[:-3])
    return np.array(
        [np.percentile(values[s:e], q) for s, e in zip(starts, ends, strict=True)],
        dtype=np.float64,
    )


def aggregate(ts: Int64s, values: Floats, granularity: int, method: str) -> tuple[Int64s, Floats]:
    """Bucket starts and the ``method`` of each bucket's values (``ts`` sorted). A ``rate:``
    method aggregates the differences between consecutive values, each at the later time."""
    if method.startswith("rate:"):
        if ts.size < 2:
            return EMPTY_TS, EMPTY_VALUES
        return aggregate(ts[1:], np.diff(values), granularity, method[5:])
    if ts.size == 0:
        return EMPTY_TS, EMPTY_VALUES
    keys = buckets(ts, granularity)
    starts = group_starts(keys)
    return keys[starts], _reduce(method, values, starts)


def aggregate_all(
    ts: Int64s, values: Floats, granularity: int, methods: Sequence[str], since: int
) -> tuple[Int64s, npt.NDArray[np.float64]]:
    """Every method's buckets from ``since`` on (a bucket start), in one matrix: one row per
    method, NaN where a method has no value (a ``rate:`` at the first point). ``ts`` may hold
    earlier points: the ``rate:`` methods use the one just before ``since``."""
    plain = ts >= since
    keys = buckets(ts[plain], granularity)
    starts = group_starts(keys)
    out_ts = keys[starts] if keys.size else EMPTY_TS
    matrix = np.full((len(methods), out_ts.size), np.nan)
    if out_ts.size == 0:
        return out_ts, matrix
    sel_values = values[plain]
    for row, method in enumerate(methods):
        if not method.startswith("rate:"):
            matrix[row] = _reduce(method, sel_values, starts)
            continue
        first = max(int(np.argmax(plain)) - 1, 0)
        r_ts, r_values = aggregate(ts[first:], values[first:], granularity, method)
        keep = r_ts >= since
        matrix[row, np.searchsorted(out_ts, r_ts[keep])] = r_values[keep]
    return out_ts, matrix


def resample(ts: Int64s, values: Floats, granularity: int, method: str) -> tuple[Int64s, Floats]:
    """An aggregated series re-aggregated at a coarser granularity (``?resample=``)."""
    base = method[5:] if method.startswith("rate:") else method
    return aggregate(ts, values, granularity, base)


def merge_points(
    old_ts: Int64s, old_values: Floats, new_ts: Int64s, new_values: Floats
) -> tuple[Int64s, Floats]:
    """Two series as one sorted series, the new value winning where timestamps repeat."""
    ts = np.concatenate((new_ts, old_ts))
    values = np.concatenate((new_values, old_values))
    unique_ts, first = np.unique(ts, return_index=True)  # first occurrence: the new one
    return unique_ts.astype(np.int64), values[first]


def sort_measures(ts: Int64s, values: Floats) -> tuple[Int64s, Floats]:
    """Sorted by time, the last measure winning among equal timestamps (as posted)."""
    reversed_ts = ts[::-1]
    unique_ts, last = np.unique(reversed_ts, return_index=True)
    return unique_ts.astype(np.int64), values[::-1][last]


@dataclass
class Split:
    """One chunk of an aggregated series: bucket starts and one row of values per method."""

    methods: tuple[str, ...]
    ts: Int64s
    matrix: npt.NDArray[np.float64]

    def column(self, method: str) -> tuple[Int64s, Floats]:
        if method not in self.methods:
            return EMPTY_TS, EMPTY_VALUES
        row = self.matrix[self.methods.index(method)]
        keep = ~np.isnan(row)
        return self.ts[keep], row[keep]

    def with_methods(self, methods: tuple[str, ...]) -> Split:
        if methods == self.methods:
            return self
        matrix = np.full((len(methods), self.ts.size), np.nan)
        for row, method in enumerate(methods):
            if method in self.methods:
                matrix[row] = self.matrix[self.methods.index(method)]
        return Split(methods, self.ts, matrix)

    def serialize(self) -> bytes:
        header = orjson.dumps({"methods": list(self.methods), "n": int(self.ts.size)})
        return b"".join(
            (
                struct.pack("<I", len(header)),
                header,
                np.ascontiguousarray(self.ts, dtype="<i8").tobytes(),
                np.ascontiguousarray(self.matrix, dtype="<f8").tobytes(),
            )
        )

    @classmethod
    def unserialize(cls, data: bytes) -> Split:
        (size,) = struct.unpack_from("<I", data)
        header = orjson.loads(data[4 : 4 + size])
        n, methods = int(header["n"]), tuple(header["methods"])
        offset = 4 + size
        ts = np.frombuffer(data, dtype="<i8", count=n, offset=offset).astype(np.int64, copy=False)
        matrix = np.frombuffer(
            data, dtype="<f8", count=n * len(methods), offset=offset + 8 * n
        ).reshape(len(methods), n)
        return cls(methods, ts, matrix.astype(np.float64, copy=False))  # read-only views: no copy


def split_key(ts: int, granularity: int) -> int:
    """The chunk a bucket start belongs to (``SPLIT_POINTS`` buckets per chunk)."""
    return ts // (granularity * SPLIT_POINTS)


def serialize_points(ts: Int64s, values: Floats) -> bytes:
    """Raw measures as bytes (the incoming queue and the bounded raw series)."""
    return (
        struct.pack("<I", ts.size)
        + np.ascontiguousarray(ts, dtype="<i8").tobytes()
        + np.ascontiguousarray(values, dtype="<f8").tobytes()
    )


def unserialize_points(data: bytes) -> tuple[Int64s, Floats]:
    (n,) = struct.unpack_from("<I", data)
    ts = np.frombuffer(data, dtype="<i8", count=n, offset=4).astype(np.int64)
    values = np.frombuffer(data, dtype="<f8", count=n, offset=4 + 8 * n).astype(np.float64)
    return ts, values
