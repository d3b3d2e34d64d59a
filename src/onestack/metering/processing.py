"""Aggregation of queued measures into a metric's series (Gnocchi's metricd work), as
plain blocking functions over the stores: the processor runs them in a thread.

Per metric: the *raw* series keeps the measures still needed (the last block of the
coarsest granularity, ``back_window`` more blocks, and one point before for ``rate:``);
measures older than that are dropped as Gnocchi drops them. For each granularity, the
buckets from the earliest new measure on are recomputed from the raw series and written
into the chunks they fall in; chunks past the policy's timespan are deleted."""

from __future__ import annotations

import numpy as np

from onestack.metering import series
from onestack.metering.archive import Granularity, Policy
from onestack.metering.drivers.base import AggregateStore, IncomingStore
from onestack.metering.series import Floats, Int64s, Split


def process_metric(
    incoming: IncomingStore, store: AggregateStore, metric_id: str, policy: Policy
) -> int:
    """Aggregate what is queued for one metric; the number of measures taken."""
    blobs, token = incoming.take(metric_id)
    if not blobs:
        incoming.done(metric_id, token)
        return 0
    parts = [series.unserialize_points(b) for b in blobs]
    new_ts = np.concatenate([p[0] for p in parts])
    new_values = np.concatenate([p[1] for p in parts])
    add_measures(store, metric_id, policy, new_ts, new_values)
    incoming.done(metric_id, token)
    return int(new_ts.size)


def add_measures(
    store: AggregateStore, metric_id: str, policy: Policy, new_ts: Int64s, new_values: Floats
) -> None:
    new_ts, new_values = series.sort_measures(new_ts, new_values)
    block = policy.max_granularity
    raw = store.read_raw(metric_id)
    raw_ts, raw_values = (
        series.unserialize_points(raw) if raw else (series.EMPTY_TS, series.EMPTY_VALUES)
    )
    if raw_ts.size:
        bound = (int(raw_ts[-1]) // block) * block - policy.back_window * block
        keep = new_ts >= bound
        new_ts, new_values = new_ts[keep], new_values[keep]
    if new_ts.size == 0:
        return
    ts, values = series.merge_points(raw_ts, raw_values, new_ts, new_values)
    first_new = int(new_ts[0])
    for item in policy.definition:
        _aggregate(store, metric_id, policy.aggregation_methods, item, ts, values, first_new)
    bound = (int(ts[-1]) // block) * block - policy.back_window * block
    cut = max(int(np.searchsorted(ts, bound)) - 1, 0)  # one point before, for rate:
    store.write_raw(metric_id, series.serialize_points(ts[cut:], values[cut:]))


def _aggregate(
    store: AggregateStore,
    metric_id: str,
    methods: tuple[str, ...],
    item: Granularity,
    ts: Int64s,
    values: Floats,
    first_new: int,
) -> None:
    gran = item.granularity
    since = (first_new // gran) * gran
    out_ts, matrix = series.aggregate_all(ts, values, gran, methods, since)
    if out_ts.size == 0:
        return
    keys = out_ts // (gran * series.SPLIT_POINTS)
    oldest = int(out_ts[-1]) - (item.points - 1) * gran
    chunk_keys = np.unique(keys).tolist()
    for key in chunk_keys:
        sel = keys == key
        chunk = Split(methods, out_ts[sel], matrix[:, sel])
        old_blob = store.read_split(metric_id, gran, int(key))
        if old_blob is not None:
            old = Split.unserialize(old_blob).with_methods(methods)
            before = old.ts < since
            chunk = Split(
                methods,
                np.concatenate((old.ts[before], chunk.ts)),
                np.concatenate((old.matrix[:, before], chunk.matrix), axis=1),
            )
        keep = chunk.ts >= oldest
        if not keep.all():
            chunk = Split(methods, chunk.ts[keep], chunk.matrix[:, keep])
        if chunk.ts.size:
            store.write_split(metric_id, gran, int(key), chunk.serialize())
    _truncate(store, metric_id, gran, oldest, set(chunk_keys))


def _truncate(
    store: AggregateStore, metric_id: str, gran: int, oldest: int, written: set[int]
) -> None:
    """Drop what is past the timespan: older chunks, and the older part of the oldest one
    (unless it was just written, and so trimmed already)."""
    oldest_key = oldest // (gran * series.SPLIT_POINTS)
    held = store.split_keys(metric_id, gran)
    for key in held:
        if key >= oldest_key:
            break
        store.delete_split(metric_id, gran, key)
    if oldest_key in written or oldest_key not in held:
        return
    blob = store.read_split(metric_id, gran, oldest_key)
    if blob is not None:
        chunk = Split.unserialize(blob)
        keep = chunk.ts >= oldest
        if not keep.all():
            if keep.any():
                store.write_split(
                    metric_id,
                    gran,
                    oldest_key,
                    Split(chunk.methods, chunk.ts[keep], chunk.matrix[:, keep]).serialize(),
                )
            else:
                store.delete_split(metric_id, gran, oldest_key)


def read_series(
    store: AggregateStore,
    metric_id: str,
    gran: int,
    method: str,
    start: int | None,
    stop: int | None,
) -> tuple[Int64s, Floats]:
    """One method's buckets of one granularity in [start, stop)."""
    span = gran * series.SPLIT_POINTS
    first = -(2**62) if start is None else start // span
    last = 2**62 if stop is None else (stop - 1) // span
    parts_ts: list[Int64s] = []
    parts_values: list[Floats] = []
    for _, blob in store.read_splits(metric_id, gran, first, last):
        ts, values = Split.unserialize(blob).column(method)
        parts_ts.append(ts)
        parts_values.append(values)
    if not parts_ts:
        return series.EMPTY_TS, series.EMPTY_VALUES
    ts = np.concatenate(parts_ts)
    values = np.concatenate(parts_values)
    keep = np.ones(ts.size, dtype=bool)
    if start is not None:
        keep &= ts >= start
    if stop is not None:
        keep &= ts < stop
    return ts[keep], values[keep]
