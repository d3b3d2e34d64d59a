"""The Keystone v3 API under /identity: version discovery plus every resource's routes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from onestack.common.api import Public
from onestack.common.http import json_response
from onestack.common.versions import APIVersionDoc
from onestack.identity.api import (
    auth,
    catalog,
    credentials,
    domain_config,
    endpoint_filter,
    federation,
    limits,
    oauth1,
    policy_blobs,
    resources,
    roles,
    trusts,
    users,
)

if TYPE_CHECKING:
    from onestack.common.runtime import Runtime

V3 = APIVersionDoc(
    id="v3.14",
    status="stable",
    updated="2020-04-07T00:00:00Z",
    media_type="application/vnd.openstack.identity-v3+json",
    path="v3/",
)

PUBLIC = (
    Public(r"^/?$|^/v3/?$"),
    Public(r"^/v3/auth/tokens$", frozenset({"POST"})),
    Public(r"^/v3/users/[^/]+/password$", frozenset({"POST"})),
    # Signed by the OAuth1 consumer instead of carrying a token.
    Public(r"^/v3/OS-OAUTH1/(request|access)_token$", frozenset({"POST"})),
    # The trusted front has identified the user; the mapping decides who that is here.
    Public(
        r"^/v3/OS-FEDERATION/identity_providers/[^/]+/protocols/[^/]+/auth$",
        frozenset({"GET", "POST"}),
    ),
)
WWW_AUTHENTICATE = 'Keystone uri="{url}"'


def routes(runtime: Runtime) -> Sequence[BaseRoute]:
    prefix_url = f"{runtime.public_url}/identity"

    async def versions(_request: Request) -> Response:
        return json_response(
            {"versions": {"values": [V3.render(prefix_url, with_microversions=False)]}}, 300
        )

    async def version(_request: Request) -> Response:
        return json_response({"version": V3.render(prefix_url, with_microversions=False)})

    return [
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
        *trusts.routes,
        *endpoint_filter.routes,
        *limits.routes,
        *domain_config.routes,
        *oauth1.routes,
        *federation.routes,
    ]
