"""Measures as Gnocchi's JSON (``[["2024-01-01T00:00:00+00:00", 60.0, 1.5], ...]``) made by
orjson, numpy and bytes methods, with no Python float or str per point: orjson writes the
stamps and the values as two flat JSON arrays, each row's head (stamp and granularity) and
tail (value and the glue to the next row) are cut from them, and one slice assignment
interleaves the two lists for a single join. 30 days at one minute (43,200 points, 1.7 MB)
renders in a few milliseconds."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import orjson

from onestack.metering.series import Floats, Int64s

NS = 1_000_000_000
NUMPY = orjson.OPT_SERIALIZE_NUMPY
STAMPS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NAIVE_UTC
CUT = b"\x00"  # never in orjson's output (it escapes control characters)
WHOLE_STAMP = len(b'"2024-01-01T00:00:00+00:00"')


def _heads(ts: Int64s, middle: bytes) -> list[bytes]:
    """``"stamp",60.0,`` of each row."""
    whole = bool((ts % NS == 0).all())
    moments = ts.astype("datetime64[ns]").astype("datetime64[s]" if whole else "datetime64[us]")
    stamps = orjson.dumps(moments, option=STAMPS)[1:-1] + b","
    if whole and len(stamps) == ts.size * (WHOLE_STAMP + 1):
        # Every stamp is as wide (years 1000-9999): cut them as a byte matrix.
        matrix = np.empty((ts.size, WHOLE_STAMP + len(middle)), dtype=np.uint8)
        cells = np.frombuffer(stamps, dtype=np.uint8).reshape(ts.size, WHOLE_STAMP + 1)
        matrix[:, :WHOLE_STAMP] = cells[:, :WHOLE_STAMP]
        matrix[:, WHOLE_STAMP:] = np.frombuffer(middle, dtype=np.uint8)
        heads: list[bytes] = matrix.view(f"S{matrix.shape[1]}").ravel().tolist()
        return heads
    # Items hold no comma (RFC 3339 stamps): the comma after each is where a row's head ends.
    return stamps.replace(b'",', b'"' + middle + CUT).split(CUT)[:-1]


def _parts(gran_ns: int, ts: Int64s, values: Floats) -> list[bytes]:
    """The rows as alternating heads and tails; the last tail ends with ``],[``."""
    middle = b"," + orjson.dumps(gran_ns / NS) + b","
    numbers = orjson.dumps(values, option=NUMPY)[1:-1] + b","
    tails = numbers.replace(b",", b"],[" + CUT).split(CUT)  # '1.5],['
    parts: list[bytes] = [b""] * (2 * ts.size)
    parts[0::2] = _heads(ts, middle)
    parts[1::2] = tails[:-1]
    return parts


def measures_json(parts: Sequence[tuple[int, Int64s, Floats]]) -> bytes:
    """``parts``: (granularity ns, bucket starts, values), coarsest first."""
    pieces: list[bytes] = [b"[["]
    for g, ts, v in parts:
        if ts.size:
            pieces += _parts(g, ts, v)
    if len(pieces) == 1:
        return b"[]"
    pieces[-1] = pieces[-1][:-2] + b"]"  # the last row's tail: no next row
    return b"".join(pieces)
