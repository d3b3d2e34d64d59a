"""The block storage API's microversions: negotiated per request, echoed on every response."""

from __future__ import annotations

from starlette.types import ASGIApp

from onestack.common import errors
from onestack.common.microversion import APIVersion, MicroversionMiddleware, VersionRange

# 3.70 (Cinder 2023.2): the volume fields of every version up to it are shown; 3.71's
# os-extend_volume_completion is not offered.
VERSIONS = VersionRange(service="volume", minimum=APIVersion(3, 0), maximum=APIVersion(3, 70))


def negotiate(app: ASGIApp) -> ASGIApp:
    return MicroversionMiddleware(app, VERSIONS, errors.nova_body)


def at_least(version: APIVersion, text: str) -> bool:
    return version >= APIVersion.parse(text)
