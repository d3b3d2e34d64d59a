"""The Glance v2 API under /image: version discovery plus every resource's routes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from onestack.common.api import Public
from onestack.common.http import json_response
from onestack.image.api import cache, data, images, info, members, metadefs, tasks

if TYPE_CHECKING:
    from onestack.common.runtime import Runtime

CURRENT = 17  # v2.17: Glance 2023.1's newest version
PUBLIC = (Public(r"^/?$|^/versions/?$"),)


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


def routes(runtime: Runtime) -> Sequence[BaseRoute]:
    prefix_url = f"{runtime.public_url}/image"

    async def versions(_request: Request) -> Response:
        return json_response(versions_doc(prefix_url), 300)

    async def versions_list(_request: Request) -> Response:
        return json_response(versions_doc(prefix_url))

    return [
        Route("/", versions, methods=["GET"]),
        Route("/versions", versions_list, methods=["GET"]),
        *images.routes,
        *data.routes,
        *members.routes,
        *info.routes,
        *metadefs.routes,
        *tasks.routes,
        *cache.routes,
    ]
