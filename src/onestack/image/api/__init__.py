"""The Glance v2 API under /image."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, Router
from starlette.types import ASGIApp

from onestack.common.http import json_response
from onestack.common.runtime import Runtime


def build_app(runtime: Runtime) -> ASGIApp:
    prefix_url = f"{runtime.public_url}/image"

    async def versions(_request: Request) -> Response:
        links = [{"rel": "self", "href": f"{prefix_url}/v2/"}]
        doc = {"id": "v2.17", "status": "CURRENT", "links": links}
        return json_response({"versions": [doc]}, 300)

    return Router(routes=[Route("/", versions, methods=["GET"])], redirect_slashes=False)
