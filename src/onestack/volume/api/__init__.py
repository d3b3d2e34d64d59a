"""The Cinder v3 API under /volume: version discovery plus every resource's routes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from onestack.common.api import Public
from onestack.common.http import json_response
from onestack.volume.api import (
    actions,
    attachments,
    backups,
    extensions,
    hosts,
    messages,
    qos,
    quotas,
    snapshots,
    transfers,
    types,
    volumes,
)
from onestack.volume.microversions import VERSIONS

if TYPE_CHECKING:
    from onestack.common.runtime import Runtime

PUBLIC = (Public(r"^/?$|^/v3/?$"),)
UPDATED = "2023-08-31T00:00:00Z"


def version_v3(prefix_url: str) -> dict[str, Any]:
    return {
        "id": "v3.0",
        "status": "CURRENT",
        "version": str(VERSIONS.maximum),
        "min_version": str(VERSIONS.minimum),
        "updated": UPDATED,
        "links": [
            {"href": "https://docs.openstack.org/", "type": "text/html", "rel": "describedby"},
            {"href": f"{prefix_url}/v3/", "rel": "self"},
        ],
        "media-types": [
            {"base": "application/json", "type": "application/vnd.openstack.volume+json;version=3"}
        ],
    }


def routes(runtime: Runtime) -> Sequence[BaseRoute]:
    prefix_url = f"{runtime.public_url}/volume"

    async def versions(_request: Request) -> Response:
        return json_response({"versions": [version_v3(prefix_url)]}, 300)

    async def v3(_request: Request) -> Response:
        return json_response({"versions": [version_v3(prefix_url)]})

    return [
        Route("/", versions, methods=["GET"]),
        Route("/v3", v3, methods=["GET"]),
        Route("/v3/", v3, methods=["GET"]),
        *volumes.routes,
        *actions.routes,
        *types.routes,
        *snapshots.routes,
        *transfers.routes,
        *backups.routes,
        *attachments.routes,
        *qos.routes,
        *quotas.routes,
        *hosts.routes,
        *messages.routes,
        *extensions.routes,
        Route("/v3/{project_id}", v3, methods=["GET"]),
        Route("/v3/{project_id}/", v3, methods=["GET"]),
    ]
