"""The dashboard's in-process transport streams answers instead of holding them whole."""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from typing import Any

import httpx
import pytest

from onestack.dashboard.transport import QUEUED_CHUNKS, StreamingASGITransport

CHUNK = b"x" * 65536


def counting_app(total_chunks: int, produced: list[int]) -> Any:
    async def app(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        received = b""
        while True:
            message = await receive()
            received += message.get("body", b"")
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"x-received", str(len(received)).encode())]})  # fmt: skip
        for _ in range(total_chunks):
            await send({"type": "http.response.body", "body": CHUNK, "more_body": True})
            produced[0] += 1
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    return app


@pytest.mark.asyncio
async def test_the_answer_streams_with_back_pressure() -> None:
    produced = [0]
    transport = StreamingASGITransport(counting_app(1000, produced))
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:

        async def upload() -> Any:
            for _ in range(10):
                yield CHUNK

        request = client.build_request("PUT", "/x", content=upload())
        resp = await client.send(request, stream=True)
        assert resp.headers["x-received"] == str(10 * len(CHUNK))
        await asyncio.sleep(0.05)
        # Nothing read yet: the app is held back after a few chunks, not run to the end.
        assert produced[0] <= QUEUED_CHUNKS + 1
        total = 0
        async for part in resp.aiter_raw():
            total += len(part)
        assert total == 1000 * len(CHUNK)
        await resp.aclose()


@pytest.mark.asyncio
async def test_a_reader_that_stops_early_stops_the_app() -> None:
    produced = [0]
    transport = StreamingASGITransport(counting_app(10_000, produced))
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        resp = await client.send(client.build_request("GET", "/x"), stream=True)
        async for _ in resp.aiter_raw():
            break
        await resp.aclose()
        await asyncio.sleep(0.05)
        assert produced[0] < 100


@pytest.mark.asyncio
async def test_a_whole_answer_reads_as_usual() -> None:
    transport = StreamingASGITransport(counting_app(3, [0]))
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        resp = await client.get("/x")
        assert resp.status_code == 200 and len(resp.content) == 3 * len(CHUNK)
