"""An httpx transport into an ASGI app of this process that streams both ways: httpx's own
``ASGITransport`` keeps the whole answer in memory before returning it, and a 1 GiB object or
image downloaded through the dashboard must not sit there."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any

import httpx

ASGIApp = Callable[
    [
        MutableMapping[str, Any],
        Callable[[], Awaitable[MutableMapping[str, Any]]],
        Callable[[MutableMapping[str, Any]], Awaitable[None]],
    ],
    Awaitable[None],
]
QUEUED_CHUNKS = 8  # the app waits while this many chunks of its answer are unread


class _Body(httpx.AsyncByteStream):
    def __init__(self, chunks: asyncio.Queue[bytes | None], task: asyncio.Task[None]) -> None:
        self.chunks = chunks
        self.task = task

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while not (self.chunks.empty() and self.task.done()):
            chunk = await self.chunks.get()
            if chunk is None:
                return
            yield chunk

    async def aclose(self) -> None:
        if not self.task.done():  # the reader stopped early: the app stops too
            self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self.task


class StreamingASGITransport(httpx.AsyncBaseTransport):
    def __init__(self, app: ASGIApp, client: tuple[str, int] = ("127.0.0.1", 0)) -> None:
        self.app = app
        self.client = client

    def _scope(self, request: httpx.Request) -> dict[str, Any]:
        return {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": request.method,
            "headers": [(k.lower(), v) for k, v in request.headers.raw],
            "scheme": request.url.scheme,
            "path": request.url.path,
            "raw_path": request.url.raw_path.split(b"?")[0],
            "query_string": request.url.query,
            "server": (request.url.host, request.url.port),
            "client": self.client,
            "root_path": "",
        }

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.AsyncByteStream)
        body = request.stream.__aiter__()
        sent_all = False
        started = asyncio.Event()
        finished = asyncio.Event()
        head: dict[str, Any] = {}
        chunks: asyncio.Queue[bytes | None] = asyncio.Queue(QUEUED_CHUNKS)

        async def receive() -> dict[str, Any]:
            nonlocal sent_all
            if sent_all:
                await finished.wait()
                return {"type": "http.disconnect"}
            try:
                data = await body.__anext__()
            except StopAsyncIteration:
                sent_all = True
                return {"type": "http.request", "body": b"", "more_body": False}
            return {"type": "http.request", "body": data, "more_body": True}

        async def send(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                head.update(status=message["status"], headers=message.get("headers", []))
                started.set()
            elif message["type"] == "http.response.body" and not finished.is_set():
                data = message.get("body", b"")
                if data and request.method != "HEAD":
                    await chunks.put(data)
                if not message.get("more_body", False):
                    finished.set()
                    await chunks.put(None)

        async def run() -> None:
            try:
                await self.app(self._scope(request), receive, send)
            finally:
                if not finished.is_set():  # the app ended (or failed) mid-answer
                    finished.set()
                    started.set()
                    # A full queue's reader drains it and then finds the task done.
                    with contextlib.suppress(asyncio.QueueFull):
                        chunks.put_nowait(None)

        task = asyncio.create_task(run())
        await started.wait()
        if "status" not in head:  # it failed before answering: its error is the caller's
            await task
            raise httpx.RemoteProtocolError("the app ended without answering", request=request)
        return httpx.Response(head["status"], headers=head["headers"], stream=_Body(chunks, task))
