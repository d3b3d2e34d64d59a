"""Microversion negotiation (``OpenStack-API-Version: <service> X.Y`` and legacy headers)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import total_ordering

from starlette.datastructures import Headers

from onestack.common import errors

_VERSION = re.compile(r"^([1-9]\d*)\.(0|[1-9]\d*)$")


@total_ordering
@dataclass(frozen=True, slots=True)
class APIVersion:
    major: int
    minor: int

    @classmethod
    def parse(cls, text: str) -> APIVersion:
        m = _VERSION.match(text.strip())
        if not m:
            raise errors.BadRequest(f"Invalid API version format: {text!r}.")
        return cls(int(m.group(1)), int(m.group(2)))

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, APIVersion):
            return NotImplemented
        return (self.major, self.minor) < (other.major, other.minor)

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"


@dataclass(frozen=True, slots=True)
class VersionRange:
    service: str  # the name in OpenStack-API-Version, e.g. "compute", "volume"
    minimum: APIVersion
    maximum: APIVersion
    legacy_header: str = ""  # e.g. X-OpenStack-Nova-API-Version

    def negotiate(self, headers: Headers) -> APIVersion:
        """The requested version, the minimum when none is asked for; 406 when out of range."""
        requested: str | None = None
        for value in headers.getlist("openstack-api-version"):
            for item in value.split(","):
                parts = item.strip().split()
                if len(parts) == 2 and parts[0].lower() == self.service:
                    requested = parts[1]
        if requested is None and self.legacy_header:
            requested = headers.get(self.legacy_header)
        if requested is None:
            return self.minimum
        if requested.strip().lower() == "latest":
            return self.maximum
        version = APIVersion.parse(requested)
        if not self.minimum <= version <= self.maximum:
            raise errors.NotAcceptable(
                reason=f"Version {version} is not supported by the API. Minimum is "
                f"{self.minimum} and maximum is {self.maximum}."
            )
        return version

    def response_headers(self, version: APIVersion) -> dict[str, str]:
        headers = {
            "OpenStack-API-Version": f"{self.service} {version}",
            "Vary": "OpenStack-API-Version",
        }
        if self.legacy_header:
            headers[self.legacy_header] = str(version)
            headers["Vary"] += f", {self.legacy_header}"
        return headers
