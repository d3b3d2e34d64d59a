"""The app of a staged start (#19): identity answers at once, a request for another service
waits until every service has started, and fails plainly when one could not start."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.types import Receive, Scope, Send

from onestack.app import StagedApp


class Recorder:
    """An ASGI app that answers 200 with its name, and remembers the paths it was given."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.paths: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.paths.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": self.name.encode()})


async def call(app: StagedApp, path: str) -> tuple[int, bytes]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app({"type": "http", "path": path, "method": "GET", "headers": []}, receive, send)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


async def test_identity_answers_while_a_request_for_another_service_waits() -> None:
    early, full = Recorder("early"), Recorder("full")
    app = StagedApp(early, ["/identity"])
    assert await call(app, "/identity/v3") == (200, b"early")
    assert await call(app, "/identity") == (200, b"early")
    waiting = asyncio.ensure_future(call(app, "/compute/v2.1/servers"))
    await asyncio.sleep(0.01)
    assert not waiting.done()
    app.complete(full)
    assert await asyncio.wait_for(waiting, 10) == (200, b"full")
    assert await call(app, "/identity/v3") == (200, b"full")  # the whole app from then on
    assert full.paths == ["/compute/v2.1/servers", "/identity/v3"]
    assert await call(app, "/identityx") == (200, b"full")


async def test_a_waiting_request_gets_a_503_when_a_service_failed_to_start() -> None:
    app = StagedApp(Recorder("early"), ["/identity"])
    waiting = asyncio.ensure_future(call(app, "/image/v2/images"))
    await asyncio.sleep(0.01)
    app.complete(None)
    status, _ = await asyncio.wait_for(waiting, 10)
    assert status == 503
