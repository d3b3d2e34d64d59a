"""Compute's timestamp formats (``views.iso`` and ``views.usg``): written by orjson for
speed, in exactly the text Nova prints, which Tempest's schemas check."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

from onestack.compute.views import iso, usg


def test_naive_timestamps_read_as_isoformat_writes_them() -> None:
    rng = random.Random(19)
    samples = [
        datetime(2026, 12, 6, 1, 2, 3),
        datetime(2026, 12, 6, 1, 2, 3, 7),
        datetime(2026, 12, 6, 23, 59, 59, 999999),
        datetime(999, 1, 2, 3, 4, 5, 60),
        datetime(1, 1, 1),
    ]
    samples += [
        datetime(2000, 1, 1) + timedelta(microseconds=rng.randrange(10**16)) for _ in range(2000)
    ]
    for value in samples:
        assert iso(value) == value.isoformat(timespec="seconds") + "Z"
        assert usg(value) == value.isoformat(timespec="microseconds")
    assert iso(datetime(2026, 12, 6, 1, 2, 3, 400)) == "2026-12-06T01:02:03Z"
    assert usg(datetime(2026, 12, 6, 1, 2, 3)) == "2026-12-06T01:02:03.000000"


def test_aware_and_missing_timestamps() -> None:
    assert iso(None) is None and usg(None) is None
    moment = datetime(2026, 12, 6, 1, 2, 3, 45, tzinfo=UTC)
    assert iso(moment) == "2026-12-06T01:02:03Z"
    assert usg(moment) == "2026-12-06T01:02:03.000045"
    east = datetime(2026, 12, 6, 1, 2, 3, tzinfo=timezone(timedelta(hours=1)))
    assert iso(east) == "2026-12-06T01:02:03Z"  # as before: the wall time, as strftime wrote it
