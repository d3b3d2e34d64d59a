"""Containers: PUT (create, or update metadata), POST, DELETE (409 while not empty), HEAD
and GET (counts, metadata, the object listing)."""

from __future__ import annotations

from starlette.types import Send

from onestack.object import errors
from onestack.object.api import acl, listing
from onestack.object.api.http import (
    SwiftRequest,
    encode_headers,
    fmt_ts,
    http_date,
    now_ts,
    respond,
)
from onestack.object.api.metadata import (
    CONTAINER_HEADERS,
    POLICY,
    SYNC_HEADERS,
    check_container_name,
    check_metadata,
    meta_changes,
    response_headers,
)
from onestack.object.drivers import base
from onestack.object.service import ObjectService

QUOTAS = {
    "x-container-meta-quota-bytes": "Invalid bytes quota.",
    "x-container-meta-quota-count": "Invalid count quota.",
}


def _changes(req: SwiftRequest) -> dict[str, str]:
    """The metadata a PUT or POST sets, validated as Swift validates it."""
    for header in SYNC_HEADERS:
        if req.headers.get(header):
            raise errors.BadRequest(
                "Container sync is not available on this cloud (no sync realms)."
            )
    check_metadata(req.headers, "container")
    changes = meta_changes(req.headers, "container", CONTAINER_HEADERS)
    if not req.swift_owner:  # keystoneauth drops what only owners may set
        for key in ("x-container-read", "x-container-write"):
            changes.pop(key, None)
    for key in ("x-container-read", "x-container-write"):
        if changes.get(key):
            changes[key] = acl.clean(changes[key])
    for key, message in QUOTAS.items():
        value = changes.get(key, "")
        if value and not value.isdigit():
            raise errors.BadRequest(message)
    versions = changes.get("x-versions-location")
    history = changes.get("x-history-location")
    if versions and history:
        raise errors.BadRequest(
            "Only one of X-Versions-Location or X-History-Location may be specified"
        )
    for key in ("x-versions-location", "x-history-location"):
        given = changes.get(key)
        if given:
            where = given.split("/")[0]
            if not where or "/" in given.strip("/"):
                raise errors.PreconditionFailed(f"{key} must be a container name")
            changes[key] = where
            other = "x-history-location" if key == "x-versions-location" else "x-versions-location"
            changes[other] = ""  # one mode at a time: setting one removes the other
    return changes


async def put(svc: ObjectService, req: SwiftRequest, send: Send) -> None:
    check_container_name(req.container, req.raw_container)
    policy = req.header("x-storage-policy")
    if policy and policy.lower() != POLICY.lower():
        raise errors.BadRequest(f'Invalid X-Storage-Policy "{policy}"')
    changes = _changes(req)
    existing = await svc.store.container_info(req.account, req.container)
    if existing is not None and policy and policy.lower() != existing.policy.lower():
        raise errors.Conflict()
    created = await svc.store.create_container(
        req.account, req.container, changes, POLICY, now_ts()
    )
    svc.forget_container(req.account, req.container)
    svc.forget_account(req.account)
    await respond(send, req, 201 if created else 202, [])


async def post(svc: ObjectService, req: SwiftRequest, send: Send) -> None:
    check_container_name(req.container, req.raw_container)
    changes = _changes(req)
    try:
        await svc.store.update_container(req.account, req.container, changes, now_ts())
    except base.NotFound:
        raise errors.NotFound() from None
    svc.forget_container(req.account, req.container)
    await respond(send, req, 204, [])


async def delete(svc: ObjectService, req: SwiftRequest, send: Send) -> None:
    try:
        await svc.store.delete_container(req.account, req.container)
    except base.NotFound:
        raise errors.NotFound() from None
    except base.ContainerNotEmpty:
        raise errors.Conflict() from None
    svc.forget_container(req.account, req.container)
    svc.forget_account(req.account)
    await respond(send, req, 204, [])


def info_headers(info: base.ContainerInfo, owner: bool) -> list[tuple[str, str]]:
    return [
        ("X-Container-Object-Count", str(info.object_count)),
        ("X-Container-Bytes-Used", str(info.bytes_used)),
        ("X-Timestamp", fmt_ts(info.created)),
        ("X-Put-Timestamp", fmt_ts(info.put_timestamp)),
        ("Last-Modified", http_date(info.put_timestamp)),
        ("X-Storage-Policy", info.policy),
        ("Accept-Ranges", "bytes"),
        *response_headers(info.metadata, owner),
    ]


async def head_or_get(svc: ObjectService, req: SwiftRequest, send: Send) -> None:
    fmt = listing.listing_format(req)
    info = await svc.container(req.account, req.container, fresh=True)
    if info is None:
        raise errors.NotFound()
    headers = encode_headers(info_headers(info, req.swift_owner))
    if req.method == "HEAD":
        ctype = {"json": listing.JSON, "xml": listing.XML}.get(fmt, listing.TEXT)
        await respond(send, req, 204, headers, content_type=ctype)
        return
    query = listing.listing_query(req)
    try:
        if fmt == "json" and "path" not in req.query:
            body = await svc.store.list_objects_json(req.account, req.container, query)
            if body is not None:
                await respond(send, req, 200, headers, body, listing.JSON)
                return
        entries = await svc.store.list_objects(req.account, req.container, query)
    except base.NotFound:
        raise errors.NotFound() from None
    body, ctype = listing.render_objects(
        entries, fmt, req.container, "path" in req.query, req.account, req.version
    )
    status = 204 if not entries and fmt == "text" else 200
    await respond(send, req, status, headers, body if status == 200 else b"", ctype)


async def handle(svc: ObjectService, req: SwiftRequest, send: Send) -> None:
    if req.method in ("GET", "HEAD"):
        await head_or_get(svc, req, send)
    elif req.method == "PUT":
        await put(svc, req, send)
    elif req.method == "POST":
        await post(svc, req, send)
    elif req.method == "DELETE":
        await delete(svc, req, send)
    else:
        raise errors.MethodNotAllowed()
