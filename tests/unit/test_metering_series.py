"""The metering time-series core: bucket aggregation, rate methods, the split store, the
bounded raw series and back window, timestamps and timespans, filters and operations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from onestack.common import errors
from onestack.metering import archive, filters, operations, processing, series, timeutil
from onestack.metering.archive import Granularity, Policy
from onestack.metering.drivers.file import FileAggregates, FileIncoming
from onestack.metering.drivers.sqlite import SqliteAggregates

NS = timeutil.NS


def arr(*values: float) -> np.ndarray:
    return np.array(values, dtype=np.float64)


def secs(*values: int) -> np.ndarray:
    return np.array([v * NS for v in values], dtype=np.int64)


def test_bucket_methods() -> None:
    ts, values = secs(0, 10, 59, 60, 130), arr(1, 2, 6, 10, 3)
    for method, expected in [
        ("mean", [3.0, 10.0, 3.0]), ("sum", [9.0, 10.0, 3.0]), ("count", [3.0, 1.0, 1.0]),
        ("min", [1.0, 10.0, 3.0]), ("max", [6.0, 10.0, 3.0]), ("first", [1.0, 10.0, 3.0]),
        ("last", [6.0, 10.0, 3.0]), ("median", [2.0, 10.0, 3.0]),
    ]:  # fmt: skip
        out_ts, out = series.aggregate(ts, values, 60 * NS, method)
        assert out_ts.tolist() == secs(0, 60, 120).tolist()
        assert out.tolist() == expected, method
    _, std = series.aggregate(ts, values, 60 * NS, "std")
    assert std[0] == pytest.approx(np.std([1, 2, 6], ddof=1)) and np.isnan(std[1])
    _, p90 = series.aggregate(ts, values, 60 * NS, "90pct")
    assert p90[0] == pytest.approx(np.percentile([1, 2, 6], 90))


def test_rate_is_the_difference_at_the_later_point() -> None:
    ts, values = secs(0, 60, 120, 180), arr(0, 60, 180, 360)
    out_ts, rate = series.aggregate(ts, values, 60 * NS, "rate:mean")
    assert out_ts.tolist() == secs(60, 120, 180).tolist() and rate.tolist() == [60, 120, 180]
    # From a later bucket on, the point before is still used.
    grid_ts, matrix = series.aggregate_all(ts, values, 60 * NS, ("mean", "rate:mean"), 120 * NS)
    assert grid_ts.tolist() == secs(120, 180).tolist()
    assert matrix.tolist() == [[180, 360], [120, 180]]


def test_split_roundtrip_and_methods_change() -> None:
    split = series.Split(("max", "mean"), secs(0, 60), np.array([[1.0, 2.0], [0.5, np.nan]]))
    back = series.Split.unserialize(split.serialize())
    assert back.methods == ("max", "mean") and back.ts.tolist() == split.ts.tolist()
    assert back.column("mean")[1].tolist() == [0.5]
    wider = back.with_methods(("max", "mean", "sum"))
    assert wider.column("sum")[0].size == 0 and wider.column("max")[1].tolist() == [1.0, 2.0]


def test_merge_and_sort_keep_the_newest_value() -> None:
    ts, values = series.sort_measures(secs(5, 1, 5), arr(1, 2, 3))
    assert ts.tolist() == secs(1, 5).tolist() and values.tolist() == [2, 3]
    ts, values = series.merge_points(secs(1, 2), arr(1, 2), secs(2, 3), arr(20, 30))
    assert values.tolist() == [1, 20, 30]


def policy(back_window: int = 0, points: int = 10) -> Policy:
    return Policy("p", back_window, (Granularity(60 * NS, points),), ("count", "mean", "rate:sum"))


STORES = {"file": FileAggregates, "sqlite": SqliteAggregates}


@pytest.mark.parametrize("driver", sorted(STORES))
def test_processing_incremental_and_truncated(tmp_path: Path, driver: str) -> None:
    store, incoming = STORES[driver](tmp_path), FileIncoming(tmp_path)
    p = policy(points=3)
    for chunk in ([0, 30, 60], [90, 120], [150, 200, 260, 330]):
        ts = secs(*chunk)
        incoming.add("m", series.serialize_points(ts, ts.astype(np.float64) / NS))
        assert processing.process_metric(incoming, store, "m", p) == len(chunk)
    assert incoming.pending() == []
    ts, means = processing.read_series(store, "m", 60 * NS, "mean", None, None)
    # Only the last 3 buckets are kept (points=3).
    assert ts.tolist() == secs(180, 240, 300).tolist() and means.tolist() == [200, 260, 330]
    _, counts = processing.read_series(store, "m", 60 * NS, "count", None, None)
    assert counts.tolist() == [1, 1, 1]
    _, rates = processing.read_series(store, "m", 60 * NS, "rate:sum", None, None)
    assert rates.tolist() == [50, 60, 70]
    ts, _ = processing.read_series(store, "m", 60 * NS, "mean", 240 * NS, 300 * NS)
    assert ts.tolist() == secs(240).tolist()


@pytest.mark.parametrize("driver", sorted(STORES))
def test_back_window_drops_measures_older_than_it(tmp_path: Path, driver: str) -> None:
    store = STORES[driver](tmp_path)
    processing.add_measures(store, "m", policy(), secs(600, 610), arr(1, 1))
    processing.add_measures(store, "m", policy(), secs(10), arr(99))  # too old: dropped
    assert processing.read_series(store, "m", 60 * NS, "count", None, None)[1].tolist() == [2]
    store2 = STORES[driver](tmp_path / "bw")
    processing.add_measures(store2, "m", policy(back_window=1), secs(600, 610), arr(1, 1))
    processing.add_measures(store2, "m", policy(back_window=1), secs(545), arr(5))
    ts, counts = processing.read_series(store2, "m", 60 * NS, "count", None, None)
    assert ts.tolist() == secs(540, 600).tolist() and counts.tolist() == [1, 2]


def test_archive_definitions() -> None:
    items = archive.parse_definition(
        [{"granularity": "1 minute", "timespan": "1 day"}, {"points": 24, "timespan": "1d"}]
    )
    assert [(d.granularity // NS, d.points) for d in items] == [(60, 1440), (3600, 24)]
    with pytest.raises(errors.BadRequest, match="at most"):
        archive.parse_definition([{"granularity": 1, "timespan": "3650 days"}])
    with pytest.raises(errors.BadRequest, match="timespan"):
        archive.parse_definition([{"granularity": 60, "points": 2, "timespan": 60}])
    assert archive.resolve_methods(["-std", "+rate:mean"]) == tuple(
        sorted({"mean", "min", "max", "sum", "count", "rate:mean"})
    )
    with pytest.raises(errors.BadRequest):
        archive.resolve_methods(["avg"])


def test_timestamps_and_timespans() -> None:
    assert timeutil.parse_timestamp("1970-01-01T00:01:00Z") == 60 * NS
    assert timeutil.parse_timestamp("1970-01-01T01:01:00+01:00") == 60 * NS
    assert timeutil.parse_timestamp(60.5) == 60_500_000_000
    many = timeutil.parse_timestamps(["1970-01-01T00:00:01", "1970-01-01T00:00:02+00:00"])
    assert many.tolist() == [NS, 2 * NS]
    for bad in ("tomorrow", "", True, None, float("nan")):
        with pytest.raises(errors.BadRequest):
            timeutil.parse_timestamp(bad)
    assert timeutil.parse_timespan("1 hour") == 3600
    assert timeutil.parse_timespan("1 day, 2:00:00") == 93600
    assert timeutil.format_timespan(30 * 86400 * NS) == "30 days, 0:00:00"
    with pytest.raises(errors.BadRequest):
        timeutil.parse_timespan("-5")


def test_filters_both_forms() -> None:
    fields = {"id": "string", "host": "string", "started_at": "datetime", "vcpus": "number"}
    res = {"id": "a", "host": "h1", "started_at": "2024-01-02T00:00:00+00:00", "vcpus": 4}
    text = 'host="h1" and (vcpus>=4 or id in ["x", "y"]) and not started_at<"2024-01-01"'
    query = filters.parse_string(text)
    assert filters.compile_filter(query, fields)(res)
    assert not filters.compile_filter(filters.parse_string("host like 'h2%'"), fields)(res)
    assert filters.compile_filter({"like": {"host": "h%"}}, fields)(res)
    with pytest.raises(errors.BadRequest, match="has no color attribute"):
        filters.compile_filter({"=": {"color": "red"}}, fields)
    for bad in ("host =", "host ~ 1", "(host=1", "host in 1"):
        with pytest.raises(errors.BadRequest):
            filters.compile_filter(filters.parse_string(bad), fields)


def test_operations() -> None:
    tree = operations.parse("(aggregate rate:mean (metric (a mean) (b mean)))")
    assert operations.references(tree) == [("a", "mean"), ("b", "mean")]
    times = secs(0, 60, 120)
    grid = np.array([[1.0, 3.0], [2.0, 6.0], [4.0, 8.0]])
    refs = [("a", "mean"), ("b", "mean")]
    g, t, v, agg = operations.evaluate(tree, 60 * NS, times, grid, refs)
    assert agg and t.tolist() == secs(60, 120).tolist() and v[:, 0].tolist() == [2.0, 2.0]
    tree = operations.parse("(rolling sum 2 (* 10 (metric a mean)))")
    _, t, v, agg = operations.evaluate(tree, 60 * NS, times, grid, refs)
    assert not agg and v[:, 0].tolist() == [30.0, 60.0]
    tree = operations.parse("(resample max 120 (metric b mean))")
    g, t, v, _ = operations.evaluate(tree, 60 * NS, times, grid, refs)
    assert g == 120 * NS and v[:, 0].tolist() == [6.0, 8.0]
    for bad in (
        "(metric a)",
        "(aggregate avg (metric a mean))",
        "(rolling sum 0 (metric a mean))",
        "((metric a mean)",
        "(nope 1 2)",
    ):
        with pytest.raises(errors.BadRequest):
            operations.parse(bad)


def _redis_up() -> bool:
    import socket

    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _redis_up(), reason="no Redis server on 127.0.0.1:6379")
def test_redis_incoming_queue() -> None:
    from onestack.metering.drivers.redis import RedisIncoming

    store = RedisIncoming("redis://127.0.0.1:6379/0")
    metric = f"test-{timeutil.now_ns()}"
    try:
        store.add_many([(metric, b"one"), (metric, b"\x00two\r\n")])
        assert metric in store.pending(1_000_000)
        blobs, token = store.take(metric)
        assert blobs == [b"one", b"\x00two\r\n"]
        store.add(metric, b"three")  # posted while the first two are processed
        store.done(metric, token)
        assert store.take(metric)[0] == [b"three"] and metric in store.pending(1_000_000)
        store.delete(metric)
        assert metric not in store.pending(1_000_000)
    finally:
        store.delete(metric)
        store.close()


def test_rendered_measures_match_gnocchi_json() -> None:
    import orjson

    from onestack.metering import render

    whole = (secs(60, 120), arr(1.5, -2.0))
    fraction = (np.array([NS // 2, 3 * NS + 250_000_000], dtype=np.int64), arr(0.1, 1e20))
    body = render.measures_json(
        [(3600 * NS, *whole), (NS // 2, *fraction), (60 * NS, series.EMPTY_TS, series.EMPTY_VALUES)]
    )
    assert orjson.loads(body) == [
        ["1970-01-01T00:01:00+00:00", 3600.0, 1.5],
        ["1970-01-01T00:02:00+00:00", 3600.0, -2.0],
        ["1970-01-01T00:00:00.500000+00:00", 0.5, 0.1],
        ["1970-01-01T00:00:03.250000+00:00", 0.5, 1e20],
    ]
    expected = [timeutil.format_timestamp(t) for t in fraction[0].tolist()]
    assert timeutil.format_many(fraction[0]) == expected
    assert render.measures_json([]) == b"[]"


def test_file_incoming_queue(tmp_path: Path) -> None:
    """The file queue keeps the Redis queue's contract; a second instance on the same
    directory (another API process) sees what the first posted."""
    from onestack.metering.drivers.file import FileIncoming

    store, writer = FileIncoming(tmp_path), FileIncoming(tmp_path)
    writer.add_many([("a", b"one"), ("b", b"bee"), ("a", b"\x00two\r\n")])
    assert sorted(store.pending()) == ["a", "b"]
    assert store.backlog() == (2, 3)
    blobs, token = store.take("a")
    assert blobs == [b"one", b"\x00two\r\n"]
    writer.add("a", b"three")  # posted while the first two are processed
    store.done("a", token)
    assert store.take("a")[0] == [b"three"]
    assert len(list((tmp_path / "incoming").iterdir())) == 2  # b is not done: its file stays
    store.delete("b")
    assert len(list((tmp_path / "incoming").iterdir())) == 1
    store.delete("a")
    assert store.pending() == [] and not list((tmp_path / "incoming").iterdir())


def test_sqlite_store_takes_over_file_series(tmp_path: Path) -> None:
    """A cloud whose series the file driver kept finds them in the sqlite store."""
    old = FileAggregates(tmp_path)
    processing.add_measures(old, "m", policy(), secs(600, 610), arr(1, 3))
    store = SqliteAggregates(tmp_path)
    assert processing.read_series(store, "m", 60 * NS, "mean", None, None)[1].tolist() == [2]
    store.delete_metric("m")
    assert store.split_keys("m", 60 * NS) == [] and store.read_raw("m") is None
    store.close()


def test_file_incoming_processors_take_turns(tmp_path: Path) -> None:
    """Two processes on one queue: one processes at a time, and the next one replays
    nothing the first did (its half-done batch file keeps only what is left)."""
    from onestack.metering.drivers.file import FileIncoming

    first, second, writer = FileIncoming(tmp_path), FileIncoming(tmp_path), FileIncoming(tmp_path)
    writer.add_many([("a", b"for a"), ("b", b"for b")])
    assert sorted(second.pending()) == ["a", "b"]  # seen by the other process's status
    assert first.lock(wait=False)
    assert not second.lock(wait=False)
    blobs, token = first.take("a")
    assert blobs == [b"for a"]
    first.done("a", token)
    first.unlock()
    assert second.lock(wait=False)
    assert second.pending() == ["b"]
    assert second.take("a")[0] == []
    blobs, token = second.take("b")
    assert blobs == [b"for b"]
    second.done("b", token)
    second.unlock()
    assert not [p for p in (tmp_path / "incoming").iterdir() if not p.name.startswith(".")]
