"""The Glance v2 API under /image: version discovery plus every resource's routes."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, Router
from starlette.types import ASGIApp

from onestack.common.auth import RequireToken
from onestack.common.errors import glance_body
from onestack.common.http import json_response
from onestack.common.middleware import ServiceErrorMiddleware
from onestack.common.runtime import Runtime
from onestack.image.api import data, images, info, members

CURRENT = 17  # v2.17: Glance 2023.1's newest version
_PUBLIC = re.compile(r"^/?$|^/versions/?$")


def is_public(method: str, path: str) -> bool:
    return method in ("GET", "HEAD") and bool(_PUBLIC.match(path))


def versions_doc(prefix_url: str) -> dict[str, object]:
    link = [{"rel": "self", "href": f"{prefix_url}/v2/"}]
    return {
        "versions": [
            {
                "id": f"v2.{minor}",
                "status": "CURRENT" if minor == CURRENT else "SUPPORTED",
                "links": link,
            }
            for minor in range(CURRENT, -1, -1)
        ]
    }


def build_app(runtime: Runtime) -> ASGIApp:
    prefix_url = f"{runtime.public_url}/image"

    async def versions(_request: Request) -> Response:
        return json_response(versions_doc(prefix_url), 300)

    async def versions_list(_request: Request) -> Response:
        return json_response(versions_doc(prefix_url))

    router = Router(
        routes=[
            Route("/", versions, methods=["GET"]),
            Route("/versions", versions_list, methods=["GET"]),
            *images.routes,
            *data.routes,
            *members.routes,
            *info.routes,
        ],
        redirect_slashes=False,
    )
    return ServiceErrorMiddleware(RequireToken(router, is_public), glance_body)
