"""The Gnocchi v1 API under /metric: version discovery plus every resource's routes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from onestack.common.api import Public
from onestack.common.http import json_response
from onestack.metering.api import aggregation, archive, metrics, resources

if TYPE_CHECKING:
    from onestack.common.runtime import Runtime

PUBLIC = (Public(r"^/?$|^/v1/?$"),)


def routes(runtime: Runtime) -> Sequence[BaseRoute]:
    prefix_url = f"{runtime.public_url}/metric"
    version = {
        "id": "v1.0",
        "status": "CURRENT",
        "updated": "2017-01-01T00:00:00Z",
        "links": [{"rel": "self", "href": f"{prefix_url}/v1/"}],
    }

    async def versions(_request: Request) -> Response:
        return json_response({"versions": [version]})

    async def v1(_request: Request) -> Response:
        return json_response({"version": version})

    return [
        Route("/", versions, methods=["GET"]),
        Route("/v1", v1, methods=["GET"]),
        *archive.routes,
        *resources.routes,
        *metrics.routes,
        *aggregation.routes,
    ]


class TrailingSlash:
    """``/v1/archive_policy/`` answers as ``/v1/archive_policy`` (gnocchiclient asks for
    collections with a trailing slash; Gnocchi's routing takes both)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            root = scope.get("root_path", "")
            if path.endswith("/") and path.rstrip("/") not in ("", root, f"{root}/v1"):
                path = path.rstrip("/")
                scope = {**scope, "path": path, "raw_path": path.encode()}
        await self.app(scope, receive, send)
