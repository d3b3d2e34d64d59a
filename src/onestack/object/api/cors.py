"""CORS as Swift answers it: the rules live in a container's metadata and hold for the
container and every object in it.

- ``X-Container-Meta-Access-Control-Allow-Origin``: origins (space-separated, or ``*``),
  besides ``[object] cors_allow_origin`` for every container;
- ``X-Container-Meta-Access-Control-Max-Age``: how long a browser may keep a preflight;
- ``X-Container-Meta-Access-Control-Expose-Headers``: more headers a script may read.

``OPTIONS`` needs no token: without ``Origin`` it answers 200 and ``Allow``; with one (a
preflight) 200 and the ``Access-Control-*`` headers when the origin and the asked method are
allowed, 401 otherwise. Other requests with ``Origin`` to a container or an object get
``Access-Control-Allow-Origin`` and ``-Expose-Headers`` added to whatever they answer,
errors included, when the origin is allowed (``strict_cors_mode``: else nothing is added).
"""

from __future__ import annotations

from starlette.types import Message, Send

from onestack.object.api.http import SwiftRequest, respond
from onestack.object.service import ObjectService

BASE_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT")
OBJECT_METHODS = (*BASE_METHODS, "COPY")  # Swift's copy middleware adds COPY to objects'
EXPOSED = frozenset(
    {
        "cache-control",
        "content-language",
        "content-type",
        "expires",
        "last-modified",
        "pragma",
        "etag",
        "x-timestamp",
        "x-trans-id",
        "x-openstack-request-id",
    }
)
META_PREFIXES = (b"x-container-meta-", b"x-object-meta-")
ALLOW_ORIGIN = "x-container-meta-access-control-allow-origin"
MAX_AGE = "x-container-meta-access-control-max-age"
EXPOSE = "x-container-meta-access-control-expose-headers"


def _methods(req: SwiftRequest) -> tuple[str, ...]:
    return OBJECT_METHODS if req.obj else BASE_METHODS


def _split(value: str, sep: str) -> list[str]:
    return [part.strip() for part in value.split(sep) if part.strip()]


def origin_allowed(svc: ObjectService, metadata: dict[str, str], origin: str) -> bool:
    allowed = set(_split(metadata.get(ALLOW_ORIGIN, ""), " "))
    allowed.update(_split(svc.settings.cors_allow_origin, ","))
    return origin in allowed or "*" in allowed


def _allow_origin(metadata: dict[str, str], origin: str) -> list[tuple[bytes, bytes]]:
    if metadata.get(ALLOW_ORIGIN, "").strip() == "*":
        return [(b"access-control-allow-origin", b"*")]
    return [(b"access-control-allow-origin", origin.encode("latin-1")), (b"vary", b"Origin")]


async def options(svc: ObjectService, req: SwiftRequest, send: Send) -> None:
    """``OPTIONS`` on an account, a container or an object (no token needed)."""
    methods = _methods(req)
    headers = [(b"allow", ", ".join(methods).encode())]
    origin = req.header("origin")
    if not origin or not req.container:
        await respond(send, req, 200, headers)
        return
    info = await svc.container(req.account, req.container)
    metadata = info.metadata if info is not None else {}
    if not origin_allowed(svc, metadata, origin) or (
        req.header("access-control-request-method") not in methods
    ):
        await respond(send, req, 401, [])
        return
    headers += _allow_origin(metadata, origin)
    if metadata.get(MAX_AGE):
        headers.append((b"access-control-max-age", metadata[MAX_AGE].encode("latin-1")))
    headers.append((b"access-control-allow-methods", ", ".join(methods).encode()))
    asked = sorted(set(_split(req.header("access-control-request-headers"), ",")))
    if asked:
        headers.append((b"access-control-allow-headers", ", ".join(asked).encode("latin-1")))
        vary = [i for i, (k, _) in enumerate(headers) if k == b"vary"]
        if vary:
            headers[vary[0]] = (b"vary", b"Origin, Access-Control-Request-Headers")
        else:
            headers.append((b"vary", b"Access-Control-Request-Headers"))
    await respond(send, req, 200, headers)


async def wrap(svc: ObjectService, req: SwiftRequest, send: Send) -> Send:
    """``send`` adding the CORS response headers of a request with ``Origin`` to a container
    or an object (``send`` itself for every other request)."""
    origin = req.header("origin")
    if not origin or not req.container or req.method == "OPTIONS":
        return send
    info = await svc.container(req.account, req.container)
    metadata = info.metadata if info is not None else {}
    if not origin_allowed(svc, metadata, origin):
        return send  # strict_cors_mode: an origin not allowed gets no CORS headers
    extra_exposed = {h.lower() for h in _split(svc.settings.cors_expose_headers, ",")}
    extra_exposed.update(h.lower() for h in _split(metadata.get(EXPOSE, ""), " "))

    async def cors_send(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            names = {k.lower() for k, _ in headers}
            if b"access-control-expose-headers" not in names:
                exposed = set(EXPOSED) | extra_exposed
                exposed.update(
                    k.lower().decode("latin-1")
                    for k, _ in headers
                    if k.lower().startswith(META_PREFIXES)
                )
                value = ", ".join(sorted(exposed)).encode("latin-1")
                headers.append((b"access-control-expose-headers", value))
            if b"access-control-allow-origin" not in names:
                headers += _allow_origin(metadata, origin)
            message = {**message, "headers": headers}
        await send(message)

    return cors_send
