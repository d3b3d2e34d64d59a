"""The Keystone v3 API under /identity: version discovery plus every resource's routes."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, Router
from starlette.types import ASGIApp

from onestack.common.auth import RequireToken
from onestack.common.errors import keystone_body
from onestack.common.http import json_response
from onestack.common.middleware import ServiceErrorMiddleware
from onestack.common.runtime import Runtime
from onestack.common.versions import APIVersionDoc
from onestack.identity.api import (
    auth,
    catalog,
    credentials,
    policy_blobs,
    resources,
    roles,
    users,
)

V3 = APIVersionDoc(
    id="v3.14",
    status="stable",
    updated="2020-04-07T00:00:00Z",
    media_type="application/vnd.openstack.identity-v3+json",
    path="v3/",
)

_PUBLIC = (
    ("GET", re.compile(r"^/?$|^/v3/?$")),
    ("HEAD", re.compile(r"^/?$|^/v3/?$")),
    ("POST", re.compile(r"^/v3/auth/tokens$")),
    ("POST", re.compile(r"^/v3/users/[^/]+/password$")),
)


def is_public(method: str, path: str) -> bool:
    return any(method == m and rx.match(path) for m, rx in _PUBLIC)


def build_app(runtime: Runtime) -> ASGIApp:
    prefix_url = f"{runtime.public_url}/identity"

    async def versions(_request: Request) -> Response:
        return json_response(
            {"versions": {"values": [V3.render(prefix_url, with_microversions=False)]}}, 300
        )

    async def version(_request: Request) -> Response:
        return json_response({"version": V3.render(prefix_url, with_microversions=False)})

    router = Router(
        routes=[
            Route("/", versions, methods=["GET"]),
            Route("/v3", version, methods=["GET"]),
            Route("/v3/", version, methods=["GET"]),
            *auth.routes,
            *resources.routes,
            *users.routes,
            *roles.routes,
            *catalog.routes,
            *credentials.routes,
            *policy_blobs.routes,
        ],
        redirect_slashes=False,
    )
    www_authenticate = f'Keystone uri="{prefix_url}"'
    return ServiceErrorMiddleware(RequireToken(router, is_public), keystone_body, www_authenticate)
