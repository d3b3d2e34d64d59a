"""The console proxy: websockets on the API port (``[compute] vnc_proxy_path``) joined to a
guest's VNC server or serial console, a unix socket on its host.

The console token in the URL is the credential (no X-Auth-Token: browsers cannot send one on
a websocket), so this app is mounted outside the compute API and its token check. The proxy
redeems the token, asks the host's agent for the socket (``console_socket``), connects and
copies bytes both ways as binary frames (subprotocol ``binary``, as websockify and noVNC
negotiate). Sockets are on the host running the guest: in a scale-out cloud, an API process
elsewhere reaches them only if that path is shared; one process (``onestack up``) always can.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route, Router, WebSocketRoute
from starlette.types import ASGIApp
from starlette.websockets import WebSocket, WebSocketDisconnect

from onestack.common.logging import get_logger
from onestack.compute.service import ComputeService
from onestack.compute.service.base import compute_topic

if TYPE_CHECKING:
    from onestack.common.runtime import Runtime
    from onestack.config import Settings

log = get_logger(__name__)

CHUNK = 64 * 1024
POLICY_VIOLATION = 1008
INTERNAL_ERROR = 1011

PAGE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>OneStack console</title></head>
<body>
<h1>Server console</h1>
<p>This cloud does not ship a browser VNC viewer (noVNC). The console is an RFB (VNC) stream
over a WebSocket (subprotocol <code>binary</code>); point a WebSocket-capable VNC client,
such as noVNC's <code>vnc_lite.html</code>, at:</p>
<p><code id="ws"></code></p>
<p>The address holds a token that expires 10 minutes after it was made.</p>
<script>
const path = new URLSearchParams(location.search).get("path") || "";
const scheme = location.protocol === "https:" ? "wss://" : "ws://";
document.getElementById("ws").textContent = scheme + location.host + "/" + path;
</script>
</body>
</html>
"""


def mount_path(settings: Settings) -> str:
    """Where the proxy is mounted: ``[compute] vnc_proxy_path``, one leading slash."""
    return "/" + settings.compute.vnc_proxy_path.strip("/")


def build_console_app(runtime: Runtime) -> ASGIApp:
    async def page(_request: Request) -> Response:
        return HTMLResponse(PAGE, headers={"Cache-Control": "no-store"})

    async def vnc(ws: WebSocket) -> None:
        await proxy(runtime, ws, "vnc")

    async def serial(ws: WebSocket) -> None:
        await proxy(runtime, ws, "serial")

    return Router(
        routes=[
            Route("/vnc_lite.html", page, methods=["GET"]),
            Route("/vnc.html", page, methods=["GET"]),
            WebSocketRoute("/websockify", vnc),
            WebSocketRoute("/serial", serial),
        ]
    )


async def proxy(runtime: Runtime, ws: WebSocket, kind: str) -> None:
    """Redeem the token, connect to the guest's socket, copy bytes until one side closes."""
    svc = runtime.service(ComputeService)
    token = ws.query_params.get("token", "")
    target = await svc.consoles.redeem(token, kind)
    if target is None:
        # Before accept: the client sees the handshake refused (HTTP 403).
        await ws.close(code=POLICY_VIOLATION)
        return
    try:
        answer = await runtime.bus.call(
            compute_topic(target.host),
            "console_socket",
            {"uuid": target.instance_uuid, "kind": kind},
            timeout=30,
        )
        reader, writer = await asyncio.open_unix_connection(str((answer or {})["path"]))
    except Exception as exc:
        log.warning("console of %s: cannot reach the guest: %s", target.instance_uuid, exc)
        await ws.close(code=INTERNAL_ERROR)
        return
    offered = ws.scope.get("subprotocols") or []
    await ws.accept(subprotocol="binary" if "binary" in offered else None)

    async def to_guest() -> None:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            data = message.get("bytes")
            if data is None:
                data = (message.get("text") or "").encode()
            writer.write(data)
            await writer.drain()

    async def to_client() -> None:
        while True:
            data = await reader.read(CHUNK)
            if not data:
                return
            await ws.send_bytes(data)

    tasks = [asyncio.create_task(to_guest()), asyncio.create_task(to_client())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, OSError):
                await task
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        # The client may be gone already (noVNC closed its end first): nothing left to close.
        with contextlib.suppress(RuntimeError, OSError, WebSocketDisconnect):
            await ws.close()
