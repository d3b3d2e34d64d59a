"""The Neutron v2.0 API under /network."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, Router
from starlette.types import ASGIApp

from onestack.common.http import json_response
from onestack.common.runtime import Runtime


def build_app(runtime: Runtime) -> ASGIApp:
    prefix_url = f"{runtime.public_url}/network"

    async def versions(_request: Request) -> Response:
        doc = {
            "id": "v2.0",
            "status": "CURRENT",
            "links": [{"rel": "self", "href": f"{prefix_url}/v2.0/"}],
        }
        return json_response({"versions": [doc]})

    return Router(routes=[Route("/", versions, methods=["GET"])], redirect_slashes=False)
