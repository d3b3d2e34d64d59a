"""The per-request shortcuts of #19 answer exactly as what they replace: the candidate router
as starlette's walk, the one-write transport with the same bytes in the same order."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route, Router

from onestack.common.httpserver import _HeadThenBody
from onestack.common.routing import CandidateRouter
from onestack.common.sendfile import _Gone, _owned, send_region


async def _named(request: Request) -> PlainTextResponse:
    return PlainTextResponse(f"{request.scope['endpoint'].__name__} {request.path_params}")


async def first(request: Request) -> PlainTextResponse:
    return await _named(request)


async def second(request: Request) -> PlainTextResponse:
    return await _named(request)


async def third(request: Request) -> PlainTextResponse:
    return await _named(request)


def _routes() -> list[Any]:
    inner = [
        Route("/v1/things", first, methods=["GET"]),
        Route("/v1/things", second, methods=["POST"]),
        Route("/v1/things/detail", third, methods=["GET"]),
        Route("/v1/things/{thing_id}", second, methods=["GET", "DELETE"]),
        Route("/v1/things/{thing_id:int}/n", third, methods=["GET"]),
    ]
    return [
        Route("/", first, methods=["GET"]),
        Mount("/a", app=Router(routes=list(inner), redirect_slashes=False)),
        Mount("/b", app=CandidateRouter(routes=list(inner), redirect_slashes=False)),
    ]


REQUESTS = [
    ("GET", "/"),
    ("POST", "/"),
    ("GET", "/v1/things"),
    ("POST", "/v1/things"),
    ("PUT", "/v1/things"),
    ("GET", "/v1/things/detail"),
    ("DELETE", "/v1/things/detail"),
    ("GET", "/v1/things/42"),
    ("GET", "/v1/things/42/n"),
    ("GET", "/v1/things/x/n"),
    ("GET", "/v1/nothing"),
    ("GET", "/v1/things/"),
]


@pytest.mark.parametrize(("method", "path"), REQUESTS)
async def test_candidate_router_answers_as_starlette(method: str, path: str) -> None:
    plain = Starlette(routes=_routes())
    fast = Starlette()
    fast.router = CandidateRouter(routes=_routes())
    answers = []
    for app, prefix in ((plain, "/a"), (fast, "/b"), (fast, "/a")):
        full = path if path == "/" else prefix + path
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            for _ in range(2):  # the second from the router's remembered candidates
                resp = await client.request(method, full)
                answers.append((resp.status_code, resp.text, resp.headers.get("allow")))
    assert all(a == answers[0] for a in answers), answers


class _Transport:
    def __init__(self) -> None:
        self.sends: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.sends.append(data)

    def writelines(self, chunks: Any) -> None:
        self.sends.append(b"".join(chunks))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True


class _Cycle:
    response_started = False


async def test_head_and_body_go_out_in_one_send() -> None:
    raw, cycle = _Transport(), _Cycle()
    t = _HeadThenBody(raw, cycle, asyncio.get_running_loop())
    t.write(b"HTTP/1.1 100 Continue\r\n\r\n")  # before the response: at once
    assert raw.sends == [b"HTTP/1.1 100 Continue\r\n\r\n"]
    cycle.response_started = True
    t.write(b"HTTP/1.1 200 OK\r\n\r\n")
    assert len(raw.sends) == 1  # the head waits for the body
    t.write(b"body")
    t.write(b"more")
    assert raw.sends[1:] == [b"HTTP/1.1 200 OK\r\n\r\nbody", b"more"]
    await asyncio.sleep(0)  # the scheduled flush finds nothing held
    assert len(raw.sends) == 3


async def test_a_head_without_body_still_goes_out() -> None:
    raw, cycle = _Transport(), _Cycle()
    cycle.response_started = True
    t = _HeadThenBody(raw, cycle, asyncio.get_running_loop())
    t.write(b"HTTP/1.1 204 No Content\r\n\r\n")
    assert raw.sends == []
    await asyncio.sleep(0)  # the loop's next turn (a streamed body slow to start)
    assert raw.sends == [b"HTTP/1.1 204 No Content\r\n\r\n"]
    t.write(b"HTTP/1.1 200 OK\r\n\r\n")  # not a second head: written as it comes
    t.close()
    assert raw.sends[-1] == b"HTTP/1.1 200 OK\r\n\r\n" and raw.closed


def test_send_region_sends_the_head_then_the_files_bytes(tmp_path: Path) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)  # more than the socket takes at once
    path = tmp_path / "f"
    path.write_bytes(data)
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    got = bytearray()
    want = b"HEAD" + data[5 : 5 + 3 * 1024 * 1024]

    def drain() -> None:
        while len(got) < len(want):
            got.extend(theirs.recv(1 << 20))

    reader = threading.Thread(target=drain)
    reader.start()
    fd = os.open(path, os.O_RDONLY)
    try:
        send_region(os.dup(ours.fileno()), b"HEAD", os.dup(fd), 5, 3 * 1024 * 1024, lambda: False)
    finally:
        os.close(fd)
        reader.join()
        ours.close()
        theirs.close()
    assert bytes(got) == want


def test_send_region_stops_when_the_client_goes(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(os.urandom(4 * 1024 * 1024))
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    theirs.close()
    fd = os.open(path, os.O_RDONLY)
    try:
        with pytest.raises(_Gone):
            send_region(os.dup(ours.fileno()), b"", os.dup(fd), 0, 4 * 1024 * 1024, lambda: False)
    finally:
        os.close(fd)
        ours.close()


async def test_a_cancelled_response_closing_its_file_does_not_change_the_bytes_sent(
    tmp_path: Path,
) -> None:
    """The response closes its file when its task is cancelled (server shutdown) while the
    thread still sends; the next file opened gets the same number. The client must get the
    first file's bytes, never the other's."""
    size = 8 * 1024 * 1024  # far more than the socket holds: the thread is mid-send
    (tmp_path / "ours").write_bytes(b"a" * size)
    (tmp_path / "other").write_bytes(b"b" * size)
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    got = bytearray()
    fd = os.open(tmp_path / "ours", os.O_RDONLY)
    loop = asyncio.get_running_loop()
    sending = asyncio.ensure_future(_owned(loop, ours.fileno(), b"", fd, 0, size, lambda: False))
    await asyncio.sleep(0.05)
    sending.cancel()
    os.close(fd)
    other = os.open(tmp_path / "other", os.O_RDONLY)
    assert other == fd  # the number the thread was given is taken again

    def drain() -> None:
        while len(got) < size:
            got.extend(theirs.recv(1 << 20))

    try:
        await asyncio.to_thread(drain)
        with pytest.raises(asyncio.CancelledError):
            await sending
    finally:
        os.close(other)
        ours.close()
        theirs.close()
    assert bytes(got) == b"a" * size
