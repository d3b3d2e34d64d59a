"""Microversion negotiation (``OpenStack-API-Version: <service> X.Y`` and legacy headers)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import total_ordering

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from onestack.common import errors
from onestack.common.auth import route_path
from onestack.common.errors import ErrorFormatter

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


class MicroversionMiddleware:
    """Puts the negotiated ``APIVersion`` in ``scope["state"]["api_version"]`` and the version
    headers on every response, errors included; 406 (in the service's error body) for a
    version out of range. Paths under ``unversioned`` (a legacy endpoint without
    microversions) get the minimum and no version headers. ``request_id_header`` also names
    the request id in a header of the service's own (Nova's ``x-compute-request-id``)."""

    def __init__(
        self,
        app: ASGIApp,
        versions: VersionRange,
        error_body: ErrorFormatter,
        *,
        unversioned: tuple[str, ...] = (),
        request_id_header: str = "",
    ) -> None:
        self.app = app
        self.versions = versions
        self.error_body = error_body
        self.unversioned = unversioned
        self.request_id_header = request_id_header.lower().encode()

    def _legacy(self, path: str) -> bool:
        return any(path == p or path.startswith(p + "/") for p in self.unversioned)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        extra: list[tuple[bytes, bytes]] = []
        if self.request_id_header and "request_id" in state:
            extra.append((self.request_id_header, state["request_id"].encode()))
        if self._legacy(route_path(scope)):
            state["api_version"] = self.versions.minimum
        else:
            try:
                version = self.versions.negotiate(Headers(scope=scope))
            except errors.OneStackError as err:
                await self._refuse(err, send)
                return
            state["api_version"] = version
            extra += [
                (k.lower().encode(), v.encode())
                for k, v in self.versions.response_headers(version).items()
            ]

        async def send_with_version(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_version)

    async def _refuse(self, err: errors.OneStackError, send: Send) -> None:
        ctype, body = errors.render_error(self.error_body, err)
        await send(
            {
                "type": "http.response.start",
                "status": err.code,
                "headers": [
                    (b"content-type", ctype),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
