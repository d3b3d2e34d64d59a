"""The compute metadata API: what the network agent's metadata proxy forwards guests to.

The proxy identifies the guest by the address it connects from and adds Neutron's headers:
``X-Instance-ID`` (the server), ``X-Tenant-ID`` (its project), ``X-Forwarded-For`` (the
guest's address) and ``X-Instance-ID-Signature`` (hex HMAC-SHA256 of the instance id with the
shared secret). A request is answered only when the signature is right, the instance exists,
the project is the instance's and the address is one of its fixed IPs; the path is then
resolved as Nova does (:func:`.content.resolve`).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
from collections.abc import Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from onestack.common.logging import get_logger
from onestack.compute.metadata import content
from onestack.compute.metadata.source import InstanceMetadata, MetadataLookup, PasswordStore

log = get_logger(__name__)

MAX_PASSWORD = 256  # Nova's limit on what a guest may post as its password


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def sign(instance_id: str, secret: str) -> str:
    return hmac.new(secret.encode(), instance_id.encode(), hashlib.sha256).hexdigest()


def _one(request: Request, name: str) -> str | None:
    values = request.headers.getlist(name)
    if len(values) > 1:
        raise _Refused(400, f"Multiple {name} headers found within request.")
    return values[0].strip() if values else None


def _same_address(a: str, b: str) -> bool:
    try:
        return ipaddress.ip_address(a) == ipaddress.ip_address(b)
    except ValueError:
        return False


class _Secret:
    """The shared secret, read once (the provider may touch the disk)."""

    def __init__(self, provider: Callable[[], str]) -> None:
        self._provider = provider
        self._value: str | None = None
        self._lock = asyncio.Lock()

    async def get(self) -> str:
        if self._value is None:
            async with self._lock:
                if self._value is None:
                    self._value = await asyncio.to_thread(self._provider)
        return self._value


async def _identify(request: Request, secret: str, lookup: MetadataLookup) -> InstanceMetadata:
    instance_id = _one(request, "X-Instance-ID")
    tenant_id = _one(request, "X-Tenant-ID")
    signature = _one(request, "X-Instance-ID-Signature")
    forwarded_for = _one(request, "X-Forwarded-For")
    if not instance_id:
        raise _Refused(400, "X-Instance-ID header is missing from request.")
    if not tenant_id:
        raise _Refused(400, "X-Tenant-ID header is missing from request.")
    # An empty secret would make every signature forgeable: refuse rather than serve.
    if (
        not signature
        or not secret
        or not hmac.compare_digest(sign(instance_id, secret).encode(), signature.encode())
    ):
        log.warning(
            "metadata request with an invalid signature",
            extra={"fields": {"instance_id": instance_id, "remote_address": forwarded_for}},
        )
        raise _Refused(403, "Invalid proxy request signature.")
    md = await lookup.metadata_for(instance_id)
    if md is None:
        raise _Refused(404, "The resource could not be found.")
    if md.project_id != tenant_id:
        log.warning(
            "metadata request for an instance of another project",
            extra={"fields": {"instance_id": instance_id, "tenant_id": tenant_id}},
        )
        raise _Refused(403, "The instance is not in this project.")
    if not forwarded_for or not any(_same_address(forwarded_for, ip) for ip in md.fixed_ips()):
        log.warning(
            "metadata request from an address not the instance's",
            extra={"fields": {"instance_id": instance_id, "remote_address": forwarded_for}},
        )
        raise _Refused(403, "The request does not come from the instance.")
    return md


async def _read_limited(request: Request, limit: int) -> bytes | None:
    """The body, or None when it is longer than ``limit``."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def build_metadata_app(
    secret_provider: Callable[[], str],
    lookup: MetadataLookup,
    passwords: PasswordStore | None = None,
) -> ASGIApp:
    """The metadata API as an ASGI app, serving from its own root (mount it at the path the
    proxy forwards to, ``/compute-metadata`` by default). ``secret_provider`` gives the secret
    shared with the proxy (``onestack.common.secrets.metadata_secret``); ``passwords``, when
    given, stores what guests POST to ``/openstack/<version>/password``."""
    secret = _Secret(secret_provider)

    async def serve(request: Request) -> Response:
        try:
            md = await _identify(request, await secret.get(), lookup)
            path = request.path_params.get("path", "")
            try:
                item = content.resolve(md, path, request.headers.get("x-forwarded-for"))
            except content.NotFound:
                raise _Refused(404, "The resource could not be found.") from None
            if request.method == "POST":
                return await _post_password(request, md, item, passwords)
            return Response(item.body, media_type=item.content_type)
        except _Refused as refused:
            return PlainTextResponse(refused.message + "\n", status_code=refused.status)

    return Starlette(routes=[Route("/{path:path}", serve, methods=["GET", "HEAD", "POST"])])


async def _post_password(
    request: Request,
    md: InstanceMetadata,
    item: content.Item,
    passwords: PasswordStore | None,
) -> Response:
    if not item.password or passwords is None:
        raise _Refused(404, "The resource could not be found.")
    if md.password:
        raise _Refused(409, "The password is already set.")
    body = await _read_limited(request, MAX_PASSWORD)
    if body is None:
        raise _Refused(400, "Request is too large.")
    try:
        text = body.decode()
    except UnicodeDecodeError:
        raise _Refused(400, "The password is not UTF-8 text.") from None
    if not await passwords.set_password(md.uuid, text):
        raise _Refused(409, "The password is already set.")
    return Response(b"", media_type=content.TEXT)
