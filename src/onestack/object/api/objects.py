"""Objects: GET and HEAD (conditions, ranges, large objects), PUT (streamed, md5-checked,
X-Copy-From, manifests, versions), POST (metadata), DELETE and COPY."""

from __future__ import annotations

from starlette.types import Send

from onestack.object import errors
from onestack.object.api import copy, large, ranges, signed, symlink, versioning, writes
from onestack.object.api.http import (
    SwiftRequest,
    encode_headers,
    fmt_ts,
    http_date,
    now_ts,
    respond,
    respond_file,
    respond_stream,
    zerocopy,
)
from onestack.object.api.metadata import (
    check_object_name,
    content_type,
    expired,
    put_metadata,
    response_headers,
)
from onestack.object.drivers import base
from onestack.object.drivers.base import ObjectInfo, OpenObject
from onestack.object.service import ObjectService

TEMPURL_HIDDEN = "tempurl_hidden"


def info_headers(
    req: SwiftRequest, info: ObjectInfo, etag: str | None = None
) -> list[tuple[str, str]]:
    hide: tuple[str, ...] = req.extra.get(TEMPURL_HIDDEN, ())
    if req.authorized_by == "tempurl":
        hide = (*hide, *signed.outgoing_hidden(info.metadata))
    return [
        ("Etag", info.etag if etag is None else etag),
        ("Last-Modified", http_date(info.meta_timestamp)),
        ("X-Timestamp", fmt_ts(info.meta_timestamp)),
        ("Accept-Ranges", "bytes"),
        *response_headers(info.metadata, req.swift_owner, hide),
        *req.extra.get("response_headers", ()),
    ]


async def _open(svc: ObjectService, req: SwiftRequest) -> OpenObject:
    try:
        opened = await svc.store.open_object(req.account, req.container, req.obj)
    except base.NotFound:
        raise errors.NotFound() from None
    if expired(opened.info):
        await opened.close()
        raise errors.NotFound()
    return opened


async def get_or_head(svc: ObjectService, req: SwiftRequest, send: Send) -> None:
    opened = await _open(svc, req)
    if symlink.is_link(opened.info):
        if req.query.get("symlink") == "get":
            req.extra.setdefault("response_headers", []).extend(
                symlink.link_headers(req, opened.info)
            )
        else:
            req, opened = await symlink.resolve(svc, req, opened)
    try:
        meta = opened.info.metadata
        if req.query.get("multipart-manifest") != "get":
            if meta.get("x-static-large-object"):
                await large.serve_slo(svc, req, send, opened)
                return
            if meta.get("x-object-manifest"):
                await large.serve_dlo(svc, req, send, opened)
                return
        elif meta.get("x-static-large-object"):
            await large.serve_manifest(svc, req, send, opened)
            return
        await serve(req, send, opened)
    finally:
        await opened.close()


async def serve(req: SwiftRequest, send: Send, opened: OpenObject) -> None:
    info = opened.info
    headers = info_headers(req, info)
    status = ranges.check_conditions(req, info.etag, info.meta_timestamp)
    if status is not None:
        await respond(send, req, status, encode_headers(headers), b"")
        return
    wanted = ranges.parse_ranges(req.headers.get("range"), info.size)
    if zerocopy(req) and (wanted is None or len(wanted) == 1):
        start, end = (0, info.size) if wanted is None else wanted[0]
        fd = opened.file_region(start, end - start)
        if fd is not None:
            headers.append(("Content-Type", info.content_type))
            status = 200
            if wanted is not None:
                status = 206
                headers.append(("Content-Range", f"bytes {start}-{end - 1}/{info.size}"))
            await respond_file(send, req, status, encode_headers(headers), fd, start, end - start)
            return
    await send_ranges(req, send, headers, info.content_type, info.size, wanted, opened.read)


async def send_ranges(
    req: SwiftRequest,
    send: Send,
    headers: list[tuple[str, str]],
    ctype: str,
    size: int,
    wanted: list[tuple[int, int]] | None,
    read: ranges.Reader,
) -> None:
    """The whole body, one range (206 with Content-Range) or several (206 multipart)."""
    if wanted is None:
        headers.append(("Content-Type", ctype))
        await respond_stream(send, req, 200, encode_headers(headers), read(0, size), size)
        return
    if len(wanted) == 1:
        start, end = wanted[0]
        headers.append(("Content-Type", ctype))
        headers.append(("Content-Range", f"bytes {start}-{end - 1}/{size}"))
        await respond_stream(
            send, req, 206, encode_headers(headers), read(start, end - start), end - start
        )
        return
    mp = ranges.multipart(wanted, size, ctype)
    headers.append(("Content-Type", mp.content_type))
    await respond_stream(
        send, req, 206, encode_headers(headers), ranges.multipart_body(mp, read), mp.length
    )


def _length(req: SwiftRequest, max_size: int) -> int | None:
    raw = req.headers.get("content-length")
    chunked = "chunked" in req.header("transfer-encoding").lower()
    if raw is None:
        if not chunked:
            raise errors.LengthRequired()
        return None
    try:
        length = int(raw)
    except ValueError:
        raise errors.BadRequest("Invalid Content-Length") from None
    if length < 0:
        raise errors.BadRequest("Invalid Content-Length")
    if length > max_size:
        raise errors.TooLarge()
    return None if chunked else length


async def put(svc: ObjectService, req: SwiftRequest, send: Send) -> None:
    check_object_name(req.obj)
    container = await svc.container(req.account, req.container)
    if container is None:
        raise errors.NotFound()
    if "x-copy-from" in req.headers and "x-symlink-target" not in req.headers:
        await copy.put_copy(svc, req, send)
        return
    length = _length(req, svc.settings.max_file_size)
    now = now_ts()
    metadata = put_metadata(req.headers, now)
    if "x-symlink-target" in req.headers:
        await writes.check_quotas(svc, req.account, container, 0)
        await versioning.before_write(svc, req, container, req.obj)
        await symlink.put(svc, req, send, content_type(req.headers, req.obj), metadata)
        return
    if_none = req.headers.get("if-none-match")
    if if_none is not None:
        if if_none.strip() != "*":
            raise errors.BadRequest("If-None-Match only supports *")
        try:
            found = await svc.store.object_info(req.account, req.container, req.obj)
        except base.NotFound:
            pass
        else:
            if not expired(found):
                raise errors.PreconditionFailed()
    await writes.check_quotas(svc, req.account, container, length or 0)
    if req.query.get("multipart-manifest") == "put":
        await large.put_slo(svc, req, send, container, metadata)
        return
    await versioning.before_write(svc, req, container, req.obj)
    expect = req.headers.get("etag")
    info = await writes.store_object(
        svc,
        req.account,
        req.container,
        req.obj,
        req.body_chunks(),
        length=length,
        content_type=content_type(req.headers, req.obj),
        metadata=metadata,
        expect_md5=expect.strip().strip('"').lower() if expect else None,
        timestamp=now,
        quota=container,
    )
    await respond(send, req, 201, written_headers(info))


def written_headers(info: ObjectInfo, etag: str | None = None) -> list[tuple[bytes, bytes]]:
    return encode_headers(
        [
            ("Etag", info.etag if etag is None else etag),
            ("Last-Modified", http_date(info.meta_timestamp)),
        ]
    )


async def post(svc: ObjectService, req: SwiftRequest, send: Send) -> None:
    if "x-symlink-target" in req.headers:
        raise errors.BadRequest("A PUT request is required to set a symlink target")
    try:
        current = await svc.store.object_info(req.account, req.container, req.obj)
    except base.NotFound:
        raise errors.NotFound() from None
    if expired(current):
        raise errors.NotFound()
    now = now_ts()
    metadata = put_metadata(req.headers, now)
    # A POST replaces the user metadata; what describes the bytes stays.
    for key in (
        "x-static-large-object",
        "x-object-sysmeta-slo-etag",
        "x-object-sysmeta-slo-size",
        "x-object-sysmeta-slo-manifest-etag",
        *symlink.KEPT_BY_POST,
    ):
        if key in current.metadata:
            metadata[key] = current.metadata[key]
    ctype = req.headers.get("content-type") or current.content_type
    if req.flag("x-detect-content-type"):
        ctype = content_type(req.headers, req.obj)
    if symlink.is_link(current):
        metadata[base.LISTED_TYPE] = symlink.listed_type(ctype, metadata)
    try:
        await svc.store.update_object(
            req.account,
            req.container,
            req.obj,
            content_type=ctype,
            metadata=metadata,
            timestamp=now,
        )
    except base.NotFound:
        raise errors.NotFound() from None
    if symlink.is_link(current):  # the link's own metadata is set; its target is elsewhere
        target = symlink.location(req, symlink.target_of(req, current.metadata))
        body = (
            b"<html><h1>Temporary Redirect</h1><p>The document has moved"
            b' <a href="' + target.encode() + b'">here</a>.</p></html>'
        )
        await respond(send, req, 307, [(b"location", target.encode())], body)
        return
    body = b"<html><h1>Accepted</h1><p>The request is accepted for processing.</p></html>"
    await respond(send, req, 202, [], body)


async def delete(svc: ObjectService, req: SwiftRequest, send: Send) -> None:
    if req.query.get("multipart-manifest") == "delete":
        await large.delete_slo(svc, req, send)
        return
    container = await svc.container(req.account, req.container)
    if container is None:
        raise errors.NotFound()
    if await versioning.on_delete(svc, req, container):
        await respond(send, req, 204, [])
        return
    await delete_one(svc, req.account, req.container, req.obj)
    await respond(send, req, 204, [])


async def delete_one(svc: ObjectService, account: str, container: str, name: str) -> ObjectInfo:
    try:
        info = await svc.store.delete_object(account, container, name, now_ts())
    except base.NotFound:
        raise errors.NotFound() from None
    if expired(info):
        raise errors.NotFound()
    return info


async def handle(svc: ObjectService, req: SwiftRequest, send: Send) -> None:
    method = req.method
    if method in ("GET", "HEAD"):
        await get_or_head(svc, req, send)
    elif method == "PUT":
        await put(svc, req, send)
    elif method == "POST":
        await post(svc, req, send)
    elif method == "DELETE":
        await delete(svc, req, send)
    elif method == "COPY":
        await copy.copy_verb(svc, req, send)
    else:
        raise errors.MethodNotAllowed()
