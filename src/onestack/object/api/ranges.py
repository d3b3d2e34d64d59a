"""Conditional requests (``If-Match``, ``If-None-Match``, ``If-Modified-Since``,
``If-Unmodified-Since``) and ``Range`` (one range, or several as multipart/byteranges), as
Swift's swob answers them."""

from __future__ import annotations

import math
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from onestack.object import errors
from onestack.object.api.http import SwiftRequest, parse_http_date
from onestack.object.drivers.base import Chunk

MAX_RANGES = 50


def _etags(value: str) -> list[str]:
    return [v.strip().strip('"') for v in value.split(",") if v.strip()]


def check_conditions(req: SwiftRequest, etag: str, last_modified: float) -> int | None:
    """304 or 412 when a condition says so; None to go on."""
    etag = etag.strip('"')
    if_match = req.headers.get("if-match")
    if if_match is not None:
        wanted = _etags(if_match)
        if "*" not in wanted and etag not in wanted:
            return 412
    if_none = req.headers.get("if-none-match")
    if if_none is not None:
        wanted = _etags(if_none)
        if "*" in wanted or etag in wanted:
            return 304 if req.method in ("GET", "HEAD") else 412
    modified = math.ceil(last_modified)
    since = req.headers.get("if-unmodified-since")
    if since is not None:
        when = parse_http_date(since)
        if when is not None and modified > when:
            return 412
    since = req.headers.get("if-modified-since")
    if since is not None and if_none is None and req.method in ("GET", "HEAD"):
        when = parse_http_date(since)
        if when is not None and modified <= when:
            return 304
    return None


def parse_ranges(value: str | None, size: int) -> list[tuple[int, int]] | None:
    """The satisfiable (start, end-exclusive) ranges of ``Range: bytes=...``; None when the
    header is absent or malformed (the whole object is sent); 416 when none is satisfiable."""
    if not value:
        return None
    unit, _, spec = value.partition("=")
    if unit.strip().lower() != "bytes" or not spec.strip():
        return None
    parsed: list[tuple[int | None, int | None]] = []
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        first, dash, last = part.partition("-")
        if not dash:
            return None
        try:
            start = int(first) if first.strip() else None
            end = int(last) if last.strip() else None
        except ValueError:
            return None
        if (start is None and end is None) or (start is not None and start < 0):
            return None
        if start is not None and end is not None and end < start:
            return None
        parsed.append((start, end))
    if not parsed or len(parsed) > MAX_RANGES:
        return None
    out: list[tuple[int, int]] = []
    for start, end in parsed:
        if start is None:  # the last ``end`` bytes
            assert end is not None
            if end == 0:
                continue
            out.append((max(0, size - end), size))
        elif start < size:
            out.append((start, size if end is None else min(end + 1, size)))
    if not out:
        raise RangeError(size)
    return out


class RangeError(errors.SwiftError):
    code = 416
    title = "Requested Range Not Satisfiable"

    def __init__(self, size: int) -> None:
        super().__init__("")
        self.headers["Content-Range"] = f"bytes */{size}"


Reader = Callable[[int, int], AsyncIterator[Chunk]]


@dataclass(frozen=True, slots=True)
class Multipart:
    boundary: str
    parts: list[tuple[bytes, int, int]]  # part header, start, end
    length: int

    @property
    def content_type(self) -> str:
        return f"multipart/byteranges;boundary={self.boundary}"


def multipart(ranges: list[tuple[int, int]], size: int, content_type: str) -> Multipart:
    boundary = secrets.token_hex(16)
    parts = []
    length = 0
    for start, end in ranges:
        head = (
            f"--{boundary}\r\nContent-Type: {content_type}\r\n"
            f"Content-Range: bytes {start}-{end - 1}/{size}\r\n\r\n"
        ).encode()
        parts.append((head, start, end))
        length += len(head) + (end - start) + 2
    length += len(boundary) + 4
    return Multipart(boundary, parts, length)


async def multipart_body(mp: Multipart, read: Reader) -> AsyncIterator[Chunk]:
    for head, start, end in mp.parts:
        yield head
        async for chunk in read(start, end - start):
            yield chunk
        yield b"\r\n"
    yield f"--{mp.boundary}--".encode()
