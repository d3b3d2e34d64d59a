"""Requests signed with an account's or container's Temp-URL key instead of a token:
temporary URLs (Swift's tempurl) and form POSTs (Swift's formpost) share the HMAC checks.

A temp URL's HMAC covers ``METHOD\\nEXPIRES\\nPATH`` (``ip=RANGE\\n`` first when it names an
address range; ``prefix:PATH`` when it signs every object under a prefix); the signature is
hex (sha1, sha256 or sha512 by its length) or ``<digest>:<base64>``. The path may be signed
with or without the ``/object`` prefix of this API (clients sign what they see)."""

from __future__ import annotations

import base64
import binascii
import calendar
import hashlib
import hmac
import ipaddress
import time
from collections.abc import Iterable
from urllib.parse import quote

from onestack.object import errors
from onestack.object.api.http import SwiftRequest
from onestack.object.service import ObjectService

DIGESTS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}
BY_HEX_LENGTH = {40: "sha1", 64: "sha256", 128: "sha512"}
METHODS = ("GET", "HEAD", "PUT", "POST", "DELETE")
API_PREFIX = "/object"


class SignatureInvalid(errors.SwiftError):
    code = 401
    title = "Unauthorized"


def temp_url_invalid() -> SignatureInvalid:
    return SignatureInvalid("401 Unauthorized: Temp URL invalid\n")


def parse_signature(sig: str) -> tuple[str, bytes] | None:
    """(digest name, raw signature) or None when it is neither form."""
    if ":" in sig:
        name, _, encoded = sig.partition(":")
        if name not in DIGESTS:
            return None
        try:
            raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        except (binascii.Error, ValueError):
            return None
        return name, raw
    by_length = BY_HEX_LENGTH.get(len(sig))
    if by_length is None:
        return None
    try:
        return by_length, bytes.fromhex(sig)
    except ValueError:
        return None


def matches(keys: Iterable[str], digest: str, raw: bytes, bodies: Iterable[str]) -> bool:
    algo = DIGESTS[digest]
    for key in keys:
        for body in bodies:
            mac = hmac.new(key.encode(), body.encode(), algo).digest()
            if hmac.compare_digest(mac, raw):
                return True
    return False


async def keys(svc: ObjectService, account: str, container: str) -> list[str]:
    found: list[str] = []
    acct = await svc.account(account)
    if acct is not None:
        found += [acct.metadata.get(f"x-account-meta-temp-url-key{s}", "") for s in ("", "-2")]
    info = await svc.container(account, container)
    if info is not None:
        found += [info.metadata.get(f"x-container-meta-temp-url-key{s}", "") for s in ("", "-2")]
    return [k for k in found if k]


def _expires(raw: str) -> int | None:
    try:
        return int(raw)
    except ValueError:
        pass
    try:
        return calendar.timegm(time.strptime(raw, "%Y-%m-%dT%H:%M:%SZ"))
    except ValueError:
        return None


def _paths(path: str) -> list[str]:
    return [path, API_PREFIX + path]


async def check_temp_url(svc: ObjectService, req: SwiftRequest) -> None:
    """Authorise a temp URL request as the account's owner for this one object, or 401."""
    q = req.query
    expires = _expires(q.get("temp_url_expires", ""))
    parsed = parse_signature(q.get("temp_url_sig", ""))
    if (
        expires is None
        or parsed is None
        or expires < time.time()
        or not req.obj
        or req.method not in METHODS
    ):
        raise temp_url_invalid()
    ip_range = q.get("temp_url_ip_range")
    if ip_range:
        client = (req.scope.get("client") or ("", 0))[0]
        try:
            if ipaddress.ip_address(client) not in ipaddress.ip_network(ip_range, strict=False):
                raise temp_url_invalid()
        except ValueError:
            raise temp_url_invalid() from None
    prefix = q.get("temp_url_prefix")
    if prefix is not None:
        if not req.obj.startswith(prefix):
            raise temp_url_invalid()
        base = f"/{req.version}/{req.account}/{req.container}/{prefix}"
        signed_paths = [f"prefix:{p}" for p in _paths(base)]
    else:
        signed_paths = _paths(req.path)
    methods = [req.method] if req.method != "HEAD" else ["HEAD", "GET", "PUT"]
    lead = f"ip={ip_range}\n" if ip_range else ""
    bodies = [f"{lead}{m}\n{q['temp_url_expires']}\n{p}" for m in methods for p in signed_paths]
    digest, raw = parsed
    if not matches(await keys(svc, req.account, req.container), digest, raw, bodies):
        raise temp_url_invalid()
    req.authorized_by = "tempurl"
    req.swift_owner = False
    if req.method == "GET":
        req.extra["response_headers"] = [("Content-Disposition", _disposition(req))]
    req.extra["tempurl_hidden"] = ()
    req.headers.pop("x-timestamp", None)


def _disposition(req: SwiftRequest) -> str:
    filename = req.query.get("filename")
    if "inline" in req.query:
        return f'inline; filename="{filename}"' if filename else "inline"
    name = filename or req.obj.rsplit("/", 1)[-1]
    safe = name.replace('"', '\\"')
    return f"attachment; filename=\"{safe}\"; filename*=UTF-8''{quote(name)}"


def outgoing_hidden(metadata: Iterable[str]) -> tuple[str, ...]:
    """Temp URL answers leave out user metadata but ``X-Object-Meta-Public-*``."""
    return tuple(
        k
        for k in metadata
        if k.startswith("x-object-meta-") and not k.startswith("x-object-meta-public-")
    )
