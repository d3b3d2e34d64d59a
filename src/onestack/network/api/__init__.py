"""The Neutron v2.0 API under /network."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from onestack.common.api import Public
from onestack.common.http import json_response
from onestack.network.api import (
    actions,
    autoallocate,
    extensions,
    flavors,
    qos,
    resources,
    trunks,
)

if TYPE_CHECKING:
    from onestack.common.runtime import Runtime

PUBLIC = (Public(r"^/?$"),)


def routes(runtime: Runtime) -> Sequence[BaseRoute]:
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

    return [
        Route("/", versions, methods=["GET"]),
        Route("/v2.0", v2_root, methods=["GET"]),
        Route("/v2.0/", v2_root, methods=["GET"]),
        *extensions.routes,
        *autoallocate.routes,
        *flavors.routes,
        *trunks.routes,
        *actions.routes,
        *qos.routes,
        *resources.routes(),
    ]
