"""The compute API's microversions: negotiated once per request, echoed on every response."""

from __future__ import annotations

from starlette.types import ASGIApp

from onestack.common import errors
from onestack.common.microversion import APIVersion, MicroversionMiddleware, VersionRange

# 2.96 (Nova 2024.1): every behaviour up to it that the clients exercise is implemented.
VERSIONS = VersionRange(
    service="compute",
    minimum=APIVersion(2, 1),
    maximum=APIVersion(2, 96),
    legacy_header="X-OpenStack-Nova-API-Version",
)


def negotiate(app: ASGIApp) -> ASGIApp:
    """Nova's negotiation around the compute app: the legacy ``/v2`` endpoint is v2.1
    without microversions, and Nova names each request's id in ``x-compute-request-id``."""
    return MicroversionMiddleware(
        app,
        VERSIONS,
        errors.nova_body,
        unversioned=("/v2",),
        request_id_header="x-compute-request-id",
    )
