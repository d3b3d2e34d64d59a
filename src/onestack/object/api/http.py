"""The request and response of the Swift API, straight on ASGI: one request object per call
(path split into account, container and object, headers in a dict, query parsed once) and
responses sent as two messages. Object GETs and PUTs are the hot path: no framework
objects are made for them."""

from __future__ import annotations

import math
import random
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl, unquote_to_bytes

from starlette.types import Receive, Scope, Send

from onestack.common.context import RequestContext
from onestack.common.sendfile import ZEROCOPY
from onestack.object import errors
from onestack.object.drivers.base import Chunk

Headers = list[tuple[bytes, bytes]]
HTML = b"text/html; charset=UTF-8"
PLAIN = b"text/plain; charset=utf-8"


def now_ts() -> float:
    """A Swift timestamp: seconds with 10 µs resolution."""
    return round(time.time(), 5)


def fmt_ts(ts: float) -> str:
    return f"{ts:016.5f}"


_http_dates: dict[int, str] = {}


def http_date(ts: float) -> str:
    """Last-Modified: Swift rounds up to the next whole second. Each second formatted once
    (``formatdate`` cost ~8 µs, a few percent of a small PUT's or GET's time here)."""
    whole = math.ceil(ts)
    text = _http_dates.get(whole)
    if text is None:
        if len(_http_dates) > 65536:
            _http_dates.clear()
        text = _http_dates[whole] = formatdate(whole, usegmt=True)
    return text


_seconds: dict[str, str] = {}


def _second(whole: str) -> str:
    head = _seconds.get(whole)
    if head is None:
        if len(_seconds) > 65536:
            _seconds.clear()
        head = _seconds[whole] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(int(whole)))
    return head


def iso_date(ts: float) -> str:
    """Listings' ``last_modified``: ``2014-01-15T16:41:49.390270``. Each second is formatted
    once (objects listed together were mostly written together): strftime on each of
    10,000 rows was more than half the time of a JSON listing."""
    text = f"{ts:.6f}"
    return _second(text[:-7]) + text[-7:]


def iso_dates(stamps: list[float]) -> list[str]:
    """``iso_date`` of many timestamps: their digits made in one formatting call (a call
    per row was most of a 10,000-row JSON listing's rendering)."""
    texts = ("%.6f\n" * len(stamps) % tuple(stamps)).split("\n")
    texts.pop()
    second = _second
    heads: dict[str, str] = {}
    out = []
    for text in texts:
        whole = text[:-7]
        head = heads.get(whole)
        if head is None:
            head = heads[whole] = second(whole)
        out.append(head + text[-7:])
    return out


def parse_http_date(value: str) -> float | None:
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


_random = random.Random()


def trans_id() -> str:
    """Swift's transaction id: ``tx`` + 21 hex digits + ``-`` + the time in 10 hex digits.
    (A seeded PRNG: ids need not be unpredictable, and ``getrandom`` costs a syscall.)"""
    return f"tx{_random.getrandbits(84):021x}-{int(time.time()):010x}"


def _decode(raw: str) -> str:
    data = unquote_to_bytes(raw)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise errors.PreconditionFailed("Invalid UTF8 or contains NULL") from None
    if "\x00" in text:
        raise errors.PreconditionFailed("Invalid UTF8 or contains NULL")
    return text


@dataclass(slots=True)
class SwiftRequest:
    scope: Scope
    receive: Receive
    method: str
    version: str
    account: str
    container: str
    obj: str
    headers: dict[str, str]
    query: dict[str, str]
    txid: str
    raw_container: str = ""
    ctx: RequestContext | None = None
    # What authorised the request without a token: "tempurl", "formpost", "acl" or "".
    authorized_by: str = ""
    swift_owner: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name, default)

    def flag(self, name: str) -> bool:
        return self.headers.get(name, "").strip().lower() in ("1", "true", "yes", "on", "t", "y")

    @property
    def path(self) -> str:
        parts = [self.version, self.account]
        if self.container:
            parts.append(self.container)
            if self.obj:
                parts.append(self.obj)
        return "/" + "/".join(parts)

    async def body_chunks(self) -> AsyncIterator[bytes]:
        """The request body as it arrives; ``ClientDisconnect`` if the client goes first."""
        while True:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                raise errors.ClientDisconnect()
            chunk = message.get("body", b"")
            if chunk:
                yield chunk
            if not message.get("more_body", False):
                return

    async def read_body(self, limit: int) -> bytes:
        parts: list[bytes] = []
        size = 0
        async for chunk in self.body_chunks():
            size += len(chunk)
            if size > limit:
                raise errors.TooLarge()
            parts.append(chunk)
        return b"".join(parts)


def parse(scope: Scope, receive: Receive, route: str) -> SwiftRequest | None:
    """The request below ``/object`` (``route`` is its path there, still percent-encoded);
    None when it is not under ``/v1``."""
    parts = route.split("/", 4)
    if len(parts) < 3 or parts[1] not in ("v1", "v1.0") or not parts[2]:
        return None
    account = _decode(parts[2])
    raw_container = parts[3] if len(parts) > 3 else ""
    container = _decode(raw_container)
    obj = _decode(parts[4]) if len(parts) > 4 else ""
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    qs = scope.get("query_string", b"")
    query = dict(parse_qsl(qs.decode("latin-1"), keep_blank_values=True)) if qs else {}
    return SwiftRequest(
        scope=scope,
        receive=receive,
        method=scope["method"],
        version=parts[1],
        account=account,
        container=container,
        obj=obj,
        headers=headers,
        query=query,
        txid=trans_id(),
        raw_container=raw_container,
    )


def base_headers(req: SwiftRequest) -> Headers:
    tx = req.txid.encode()
    return [(b"x-trans-id", tx), (b"x-openstack-request-id", tx)]


def encode_headers(pairs: Iterable[tuple[str, str]]) -> Headers:
    return [(k.encode("latin-1"), _header_value(v)) for k, v in pairs]


def _header_value(value: str) -> bytes:
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:  # metadata values are UTF-8 (Swift sends them raw)
        return value.encode("utf-8")


async def respond(
    send: Send,
    req: SwiftRequest,
    status: int,
    headers: Headers,
    body: bytes = b"",
    content_type: bytes = HTML,
) -> None:
    raw = base_headers(req)
    raw += headers
    raw.append((b"content-type", content_type))
    raw.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": b"" if req.method == "HEAD" else body})


async def respond_stream(
    send: Send,
    req: SwiftRequest,
    status: int,
    headers: Headers,
    chunks: AsyncIterator[Chunk],
    length: int | None,
) -> None:
    """Stream ``chunks``; with ``length`` None the server sends them chunked."""
    raw = base_headers(req)
    raw += headers
    if length is not None:
        raw.append((b"content-length", str(length).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    if req.method == "HEAD":
        await send({"type": "http.response.body", "body": b""})
        return
    async for chunk in chunks:
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


def zerocopy(req: SwiftRequest) -> bool:
    """Whether the server takes a body as a file region (``http.response.zerocopysend``)."""
    return ZEROCOPY in req.scope.get("extensions", {})


async def respond_file(
    send: Send,
    req: SwiftRequest,
    status: int,
    headers: Headers,
    fd: int,
    offset: int,
    length: int,
) -> None:
    """``length`` bytes of the file ``fd`` from ``offset``, sent by the server from the file
    itself (only when ``zerocopy(req)``)."""
    raw = base_headers(req)
    raw += headers
    raw.append((b"content-length", str(length).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    if req.method == "HEAD":
        await send({"type": "http.response.body", "body": b""})
        return
    await send({"type": ZEROCOPY, "file": fd, "offset": offset, "count": length})
