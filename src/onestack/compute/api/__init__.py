"""The Nova v2.1 API under /compute: version discovery plus every resource's routes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from onestack.common.api import Public
from onestack.common.http import json_response
from onestack.compute.api import (
    assisted_snapshots,
    audit_log,
    extensions,
    external_events,
    flavors,
    floating_ips,
    hosts,
    images,
    instance_actions,
    keypairs,
    migrations,
    networks,
    os_hosts,
    quotas,
    security_groups,
    server_actions,
    server_groups,
    server_ips,
    server_subresources,
    topology,
    usage,
    volumes,
)
from onestack.compute.api import multinic as multinic  # registers addFixedIp, removeFixedIp
from onestack.compute.api import servers as servers
from onestack.compute.api import shelve as shelve  # registers the shelve actions
from onestack.compute.api.versioning import VERSIONS

if TYPE_CHECKING:
    from onestack.common.runtime import Runtime

PUBLIC = (Public(r"^/?$|^/v2(\.1)?/?$"),)
UPDATED = "2013-07-23T11:33:21Z"
V20_UPDATED = "2025-07-04T12:00:00Z"


def version_v21(prefix_url: str) -> dict[str, Any]:
    return {
        "id": "v2.1",
        "status": "CURRENT",
        "version": str(VERSIONS.maximum),
        "min_version": str(VERSIONS.minimum),
        "updated": UPDATED,
        "links": [{"rel": "self", "href": f"{prefix_url}/v2.1/"}],
    }


def version_v20(prefix_url: str) -> dict[str, Any]:
    return {
        "id": "v2.0",
        "status": "DEPRECATED",
        "version": "",
        "min_version": "",
        "updated": V20_UPDATED,
        "links": [{"rel": "self", "href": f"{prefix_url}/v2/"}],
    }


def routes(runtime: Runtime) -> Sequence[BaseRoute]:
    prefix_url = f"{runtime.public_url}/compute"

    async def versions(_request: Request) -> Response:
        # Nova lists the legacy v2.0 endpoint first; clients rely on the order.
        return json_response({"versions": [version_v20(prefix_url), version_v21(prefix_url)]})

    def version_doc(doc: dict[str, Any], media_version: str) -> dict[str, Any]:
        doc["links"].append(
            {"rel": "describedby", "type": "text/html", "href": "http://docs.openstack.org/"}
        )
        doc["media-types"] = [
            {
                "base": "application/json",
                "type": f"application/vnd.openstack.compute+json;version={media_version}",
            }
        ]
        return {"version": doc}

    async def version_doc_v21(_request: Request) -> Response:
        return json_response(version_doc(version_v21(prefix_url), "2.1"))

    async def version_doc_v20(_request: Request) -> Response:
        return json_response(version_doc(version_v20(prefix_url), "2"))

    v21 = [
        *servers.routes,
        *server_actions.routes,
        *instance_actions.routes,
        *server_subresources.routes,
        *flavors.routes,
        *keypairs.routes,
        *quotas.routes,
        *server_groups.routes,
        *hosts.routes,
        *usage.routes,
        *extensions.routes,
        *os_hosts.routes,
        *server_ips.routes,
        *images.routes,
        *security_groups.routes,
        *floating_ips.routes,
        *volumes.routes,
        *networks.routes,
        *audit_log.routes,
        *external_events.routes,
        *assisted_snapshots.routes,
        *topology.routes,
        *migrations.routes,
    ]
    return [
        Route("/", versions, methods=["GET"]),
        Route("/v2.1", version_doc_v21, methods=["GET"]),
        Route("/v2.1/", version_doc_v21, methods=["GET"]),
        *[Route(f"/v2.1{r.path}", r.endpoint, methods=r.methods) for r in v21],
        Route("/v2", version_doc_v20, methods=["GET"]),
        Route("/v2/", version_doc_v20, methods=["GET"]),
        *[Route(f"/v2{r.path}", r.endpoint, methods=r.methods) for r in v21],
    ]
