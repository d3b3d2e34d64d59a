"""The compute API's microversions: negotiated once per request, echoed on every response."""

from __future__ import annotations

import orjson
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from onestack.common import errors
from onestack.common.auth import route_path
from onestack.common.microversion import APIVersion, VersionRange

# 2.96 (Nova 2024.1): every behaviour up to it that the clients exercise is implemented.
VERSIONS = VersionRange(
    service="compute",
    minimum=APIVersion(2, 1),
    maximum=APIVersion(2, 96),
    legacy_header="X-OpenStack-Nova-API-Version",
)


class MicroversionMiddleware:
    """Puts the negotiated ``APIVersion`` in ``scope["state"]["api_version"]`` and the version
    headers on every response, errors included; 406 for a version out of range."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        # Nova names each request's id in a header of its own too (the instance actions key).
        rid = (
            [(b"x-compute-request-id", state["request_id"].encode())]
            if "request_id" in state
            else []
        )
        path = route_path(scope)
        if path == "/v2" or path.startswith("/v2/"):
            # The legacy v2.0 endpoint is v2.1 without microversions: their headers are ignored.
            state["api_version"] = VERSIONS.minimum
            extra = rid
        else:
            try:
                version = VERSIONS.negotiate(Headers(scope=scope))
            except errors.OneStackError as err:
                await self._refuse(err, send)
                return
            state["api_version"] = version
            extra = rid + [
                (k.lower().encode(), v.encode())
                for k, v in VERSIONS.response_headers(version).items()
            ]

        async def send_with_version(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_version)

    @staticmethod
    async def _refuse(err: errors.OneStackError, send: Send) -> None:
        body = orjson.dumps(errors.nova_body(err))
        await send(
            {
                "type": "http.response.start",
                "status": err.code,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
