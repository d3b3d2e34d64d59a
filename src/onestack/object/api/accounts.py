"""Accounts: HEAD and GET (counts, metadata, the container listing) and POST (metadata,
temp URL keys, the account quota, which only a reseller admin sets). An account exists
from its first write; reading one never written answers zeros (Swift's autocreate)."""

from __future__ import annotations

from starlette.types import Send

from onestack.object import errors
from onestack.object.api import auth, listing
from onestack.object.api.http import SwiftRequest, encode_headers, fmt_ts, now_ts, respond
from onestack.object.api.metadata import POLICY, check_metadata, meta_changes, response_headers
from onestack.object.service import ObjectService

# The legacy quota header and Swift 2.34's pair (a count too).
QUOTAS = ("x-account-meta-quota-bytes", "x-account-quota-bytes", "x-account-quota-count")


def _stats_headers(
    svc_info: tuple[int, int, int, float], metadata: dict[str, str], owner: bool
) -> list[tuple[str, str]]:
    containers, objects, used, created = svc_info
    out = [
        ("X-Account-Container-Count", str(containers)),
        ("X-Account-Object-Count", str(objects)),
        ("X-Account-Bytes-Used", str(used)),
        ("X-Timestamp", fmt_ts(created)),
        ("X-Put-Timestamp", fmt_ts(created)),
        ("Accept-Ranges", "bytes"),
    ]
    if containers:
        base = f"X-Account-Storage-Policy-{POLICY}"
        out += [
            (f"{base}-Container-Count", str(containers)),
            (f"{base}-Object-Count", str(objects)),
            (f"{base}-Bytes-Used", str(used)),
        ]
    out += response_headers(metadata, owner)
    return out


async def head_or_get(svc: ObjectService, req: SwiftRequest, send: Send) -> None:
    info = await svc.store.account_info(req.account)
    if info is None:
        stats = (0, 0, 0, now_ts())
        metadata: dict[str, str] = {}
    else:
        stats = (info.container_count, info.object_count, info.bytes_used, info.created)
        metadata = info.metadata
    headers = encode_headers(_stats_headers(stats, metadata, req.swift_owner))
    fmt = listing.listing_format(req)
    if req.method == "HEAD":
        ctype = {"json": listing.JSON, "xml": listing.XML}.get(fmt, listing.TEXT)
        await respond(send, req, 204, headers, content_type=ctype)
        return
    query = listing.listing_query(req)
    entries = await svc.store.list_containers(req.account, query) if info is not None else []
    body, ctype = listing.render_containers(entries, fmt, req.account)
    status = 204 if not entries and fmt == "text" else 200
    await respond(send, req, status, headers, body if status == 200 else b"", ctype)


async def post(svc: ObjectService, req: SwiftRequest, send: Send) -> None:
    check_metadata(req.headers, "account")
    changes = meta_changes(req.headers, "account", QUOTAS[1:])
    for quota in QUOTAS:
        if quota not in changes:
            continue
        if not auth.is_reseller(svc, req):  # account_quotas: only a reseller admin sets it
            raise errors.Forbidden()
        value = changes[quota]
        if value and not value.isdigit():
            raise errors.BadRequest("Invalid quota value")
    await svc.store.update_account(req.account, changes, now_ts())
    svc.forget_account(req.account)
    await respond(send, req, 204, [])


async def handle(svc: ObjectService, req: SwiftRequest, send: Send) -> None:
    if req.method in ("GET", "HEAD"):
        await head_or_get(svc, req, send)
    elif req.method == "POST":
        await post(svc, req, send)
    elif req.method in ("PUT", "DELETE"):
        raise errors.MethodNotAllowed()
    else:
        raise errors.MethodNotAllowed()
