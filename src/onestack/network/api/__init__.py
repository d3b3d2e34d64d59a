"""The Neutron v2.0 API under /network."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, Router
from starlette.types import ASGIApp

from onestack.common.auth import RequireToken
from onestack.common.errors import neutron_body
from onestack.common.http import json_response
from onestack.common.middleware import ServiceErrorMiddleware
from onestack.common.runtime import Runtime
from onestack.network.api import actions, extensions, resources

_PUBLIC = re.compile(r"^/?$")


def is_public(method: str, path: str) -> bool:
    return method in ("GET", "HEAD") and bool(_PUBLIC.match(path))


def build_app(runtime: Runtime) -> ASGIApp:
    prefix_url = f"{runtime.public_url}/network"

    async def versions(_request: Request) -> Response:
        doc = {
            "id": "v2.0",
            "status": "CURRENT",
            "links": [{"rel": "self", "href": f"{prefix_url}/v2.0/"}],
        }
        return json_response({"versions": [doc]})

    async def v2_root(_request: Request) -> Response:
        items = [
            {
                "name": c.member,
                "collection": c.plural,
                "links": [{"rel": "self", "href": f"{prefix_url}/v2.0/{c.path}"}],
            }
            for c in resources.COLLECTIONS
        ]
        return json_response({"resources": items})

    router = Router(
        routes=[
            Route("/", versions, methods=["GET"]),
            Route("/v2.0", v2_root, methods=["GET"]),
            Route("/v2.0/", v2_root, methods=["GET"]),
            *extensions.routes,
            *actions.routes,
            *resources.routes(),
        ],
        redirect_slashes=False,
    )
    return ServiceErrorMiddleware(RequireToken(router, is_public), neutron_body)
