"""Symlinks (Swift's symlink middleware): a zero-byte object naming another object.

- ``PUT`` with ``X-Symlink-Target: <container>/<object>`` (and ``X-Symlink-Target-Account``)
  makes one; with ``X-Symlink-Target-Etag`` a *static* link, made only when the target is
  there with that ETag (409 otherwise), and checked again on every read;
- ``GET``/``HEAD`` follow up to ``SYMLOOP_MAX`` links (409 beyond), each target read as the
  caller may read it, and answer the target with ``Content-Location``; ``?symlink=get``
  answers the link itself with its ``X-Symlink-Target`` headers;
- ``POST`` sets the link's own metadata and answers 307 to the target; ``COPY`` copies the
  target (the link with ``?symlink=get``); ``DELETE`` removes the link;
- JSON listings show ``symlink_path`` (``symlink_etag``, ``symlink_bytes`` for static links):
  the listing's content type carries them as parameters, as Swift's container rows do.
"""

from __future__ import annotations

import dataclasses
from urllib.parse import quote, unquote

from starlette.types import Send

from onestack.object import errors
from onestack.object.api import auth, writes
from onestack.object.api.http import SwiftRequest, encode_headers, http_date, respond
from onestack.object.api.metadata import expired
from onestack.object.drivers import base
from onestack.object.drivers.base import LISTED_TYPE, ObjectInfo, OpenObject
from onestack.object.service import ObjectService

TARGET = "x-object-sysmeta-symlink-target"
TARGET_ACCOUNT = "x-object-sysmeta-symlink-target-account"
TARGET_ETAG = "x-object-sysmeta-symlink-target-etag"
TARGET_BYTES = "x-object-sysmeta-symlink-target-bytes"
KEPT_BY_POST = (TARGET, TARGET_ACCOUNT, TARGET_ETAG, TARGET_BYTES)
SYMLOOP_MAX = 2
FORM = "X-Symlink-Target header must be of the form <container name>/<object name>"


def is_link(info: ObjectInfo) -> bool:
    return TARGET in info.metadata


def listed_type(ctype: str, metadata: dict[str, str]) -> str:
    """The listing's content type of a link: its own, with the target as parameters."""
    out = f"{ctype};symlink_target={quote(metadata[TARGET])}"
    if metadata.get(TARGET_ACCOUNT):
        out += f";symlink_target_account={quote(metadata[TARGET_ACCOUNT])}"
    if metadata.get(TARGET_ETAG):
        out += f";symlink_target_etag={metadata[TARGET_ETAG]}"
        out += f";symlink_target_bytes={metadata[TARGET_BYTES]}"
    return out


def listing_row(row: dict[str, object], account: str, version: str) -> dict[str, object]:
    """A JSON listing row: a link's parameters taken out of its content type."""
    ctype = str(row.get("content_type", ""))
    if ";symlink_target=" not in ctype:
        return row
    base_type, *params = ctype.split(";")
    target = ""
    for param in params:
        key, _, value = param.partition("=")
        if key == "symlink_target":
            target = value
        elif key == "symlink_target_account":
            account = value
        elif key == "symlink_target_etag":
            row["symlink_etag"] = value
        elif key == "symlink_target_bytes":
            row["symlink_bytes"] = int(value)
        else:
            base_type += f";{param}"
    row["content_type"] = base_type
    row["symlink_path"] = f"/{version}/{account}/{target}"
    return row


def plain_type(ctype: str) -> str:
    """A listing's content type without a link's parameters (XML and text listings)."""
    return ctype.split(";symlink_target=")[0]


def target_of(req: SwiftRequest, metadata: dict[str, str]) -> tuple[str, str, str]:
    container, _, name = metadata[TARGET].partition("/")
    return metadata.get(TARGET_ACCOUNT) or req.account, container, name


def location(req: SwiftRequest, target: tuple[str, str, str]) -> str:
    return quote(f"/{req.version}/{target[0]}/{target[1]}/{target[2]}")


async def put(
    svc: ObjectService, req: SwiftRequest, send: Send, ctype: str, metadata: dict[str, str]
) -> None:
    """``PUT`` with ``X-Symlink-Target``: the link, a zero-byte object."""
    if req.headers.get("content-length") != "0":
        raise errors.BadRequest("Symlink requests require a zero byte body")
    raw = unquote(req.headers["x-symlink-target"])
    container, _, name = raw.partition("/")
    if raw.startswith("/") or not container or not name:
        raise errors.PreconditionFailed(FORM)
    account = unquote(req.headers.get("x-symlink-target-account", "")) or req.account
    if (account, container, name) == (req.account, req.container, req.obj):
        raise errors.BadRequest("Symlink cannot target itself")
    metadata[TARGET] = f"{container}/{name}"
    if "x-symlink-target-account" in req.headers:
        metadata[TARGET_ACCOUNT] = account
    etag = req.headers.get("x-symlink-target-etag", "").strip().strip('"')
    if any(c in etag for c in ';"\\'):
        raise errors.BadRequest("Bad X-Symlink-Target-Etag format")
    if etag:
        target = await _static_target(svc, req, (account, container, name), etag)
        metadata[TARGET_ETAG] = etag
        metadata[TARGET_BYTES] = str(target.size)
        if not req.headers.get("content-type"):
            ctype = target.content_type
    elif not req.headers.get("content-type"):
        ctype = "application/symlink"
    metadata[LISTED_TYPE] = listed_type(ctype, metadata)
    info = await writes.store_object(
        svc,
        req.account,
        req.container,
        req.obj,
        writes.single(b""),
        length=0,
        content_type=ctype,
        metadata=metadata,
    )
    headers = [("Etag", info.etag), ("Last-Modified", http_date(info.meta_timestamp))]
    await respond(send, req, 201, encode_headers(headers))


async def _static_target(
    svc: ObjectService, req: SwiftRequest, target: tuple[str, str, str], etag: str
) -> ObjectInfo:
    await auth.authorize(svc, req, *target, "HEAD")
    try:
        info = await svc.store.object_info(*target)
    except base.NotFound:
        info = None
    if info is None or expired(info):
        raise errors.Conflict(f"X-Symlink-Target does not exist ({location(req, target)})")
    found = info.metadata.get("x-object-sysmeta-slo-manifest-etag") or info.etag
    if found != etag:
        raise errors.Conflict(
            f"Object Etag {found!r} does not match X-Symlink-Target-Etag header {etag!r}"
        )
    return info


async def resolve(
    svc: ObjectService, req: SwiftRequest, opened: OpenObject
) -> tuple[SwiftRequest, OpenObject]:
    """Follow the link ``opened`` (closing it) to what it names: the request as if made
    to the target (``Content-Location`` among its headers) and the target, open."""
    hops = 0
    current = req
    while is_link(opened.info):
        meta = opened.info.metadata
        if hops >= SYMLOOP_MAX:
            await opened.close()
            raise errors.Conflict(
                f"Too many levels of symbolic links, maximum allowed is {SYMLOOP_MAX}"
            )
        target = target_of(current, meta)
        expect = meta.get(TARGET_ETAG)
        await opened.close()
        await _authorize(svc, req, target)
        current = dataclasses.replace(
            req, account=target[0], container=target[1], obj=target[2], extra=dict(req.extra)
        )
        headers = [("Content-Location", location(req, target))]
        current.extra["response_headers"] = headers
        try:
            opened = await svc.store.open_object(*target)
        except base.NotFound:
            raise errors.NotFound() from None
        if expired(opened.info):
            await opened.close()
            raise errors.NotFound()
        etag = opened.info.metadata.get("x-object-sysmeta-slo-manifest-etag") or opened.info.etag
        if expect and etag != expect:
            await opened.close()
            raise errors.Conflict(
                f"Object Etag {etag!r} does not match X-Symlink-Target-Etag header {expect!r}"
            )
        hops += 1
    return current, opened


async def _authorize(svc: ObjectService, req: SwiftRequest, target: tuple[str, str, str]) -> None:
    if req.authorized_by == "tempurl":  # a temp URL's key covers its own container only
        if target[:2] != (req.account, req.container):
            raise errors.Unauthorized()
        return
    await auth.authorize(svc, req, *target, "GET")


def link_headers(req: SwiftRequest, info: ObjectInfo) -> list[tuple[str, str]]:
    """What ``?symlink=get`` shows of a link (Swift's user-facing names)."""
    meta = info.metadata
    out = [("X-Symlink-Target", quote(meta[TARGET]))]
    if meta.get(TARGET_ACCOUNT):
        out.append(("X-Symlink-Target-Account", quote(meta[TARGET_ACCOUNT])))
    if meta.get(TARGET_ETAG):
        out.append(("X-Symlink-Target-Etag", meta[TARGET_ETAG]))
        out.append(("X-Symlink-Target-Bytes", meta[TARGET_BYTES]))
    return out
