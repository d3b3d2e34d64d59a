"""Server-side copies: ``PUT`` with ``X-Copy-From`` and the ``COPY`` verb with
``Destination``, across accounts with ``X-Copy-From-Account`` / ``Destination-Account``.
The bytes stream from the source's file into the destination's writer; a large object's
content is copied whole (its manifest with ``?multipart-manifest=get``). The copy takes the
source's metadata unless ``X-Fresh-Metadata: true``; the request's own metadata wins."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import quote, unquote

from starlette.types import Send

from onestack.object import errors
from onestack.object.api import auth, large, symlink, versioning, writes
from onestack.object.api.http import SwiftRequest, encode_headers, http_date, now_ts, respond
from onestack.object.api.metadata import (
    check_object_name,
    content_type,
    expired,
    put_metadata,
    response_headers,
)
from onestack.object.drivers import base
from onestack.object.drivers.base import Chunk, OpenObject
from onestack.object.service import ObjectService

NOT_COPIED = ("x-delete-at", "x-static-large-object", "x-object-manifest")


def split_path(value: str, header: str) -> tuple[str, str]:
    path = unquote(value).lstrip("/")
    container, _, name = path.partition("/")
    if not container or not name:
        raise errors.PreconditionFailed(
            f"{header} header must be of the form <container name>/<object name>"
        )
    return container, name


async def put_copy(svc: ObjectService, req: SwiftRequest, send: Send) -> None:
    container, name = split_path(req.headers["x-copy-from"], "X-Copy-From")
    account = unquote(req.headers.get("x-copy-from-account", req.account))
    await do_copy(svc, req, send, (account, container, name), (req.account, req.container, req.obj))


async def copy_verb(svc: ObjectService, req: SwiftRequest, send: Send) -> None:
    if "destination" not in req.headers:
        raise errors.PreconditionFailed("You must provide a Destination header")
    container, name = split_path(req.headers["destination"], "Destination")
    account = unquote(req.headers.get("destination-account", req.account))
    await do_copy(svc, req, send, (req.account, req.container, req.obj), (account, container, name))


async def _content(
    svc: ObjectService, req: SwiftRequest, opened: OpenObject, manifest_copy: bool
) -> tuple[AsyncIterator[Chunk], int]:
    meta = opened.info.metadata
    if not manifest_copy and meta.get("x-static-large-object"):
        return await large.slo_content(svc, req, opened)
    if not manifest_copy and meta.get("x-object-manifest"):
        return await large.dlo_content(svc, req, opened)

    async def body() -> AsyncIterator[Chunk]:
        async for chunk in opened.read():
            yield chunk

    return body(), opened.info.size


async def do_copy(
    svc: ObjectService,
    req: SwiftRequest,
    send: Send,
    source: tuple[str, str, str],
    dest: tuple[str, str, str],
) -> None:
    src_account, src_container, src_name = source
    dst_account, dst_container, dst_name = dest
    check_object_name(dst_name)
    await auth.authorize(svc, req, src_account, src_container, src_name, "GET")
    await auth.authorize(svc, req, dst_account, dst_container, dst_name, "PUT")
    container = await svc.container(dst_account, dst_container)
    if container is None:
        raise errors.NotFound()
    try:
        opened = await svc.store.open_object(src_account, src_container, src_name)
    except base.NotFound:
        raise errors.NotFound() from None
    if symlink.is_link(opened.info) and req.query.get("symlink") != "get":
        _, opened = await symlink.resolve(svc, req, opened)  # the target's bytes are copied
    try:
        if expired(opened.info):
            raise errors.NotFound()
        manifest_copy = req.query.get("multipart-manifest") == "get"
        now = now_ts()
        metadata: dict[str, str] = {}
        if not req.flag("x-fresh-metadata"):
            metadata = {k: v for k, v in opened.info.metadata.items() if k not in NOT_COPIED}
            if manifest_copy:
                metadata = dict(opened.info.metadata)
        metadata.update(put_metadata(req.headers, now))
        ctype = opened.info.content_type
        if req.headers.get("content-type") or req.flag("x-detect-content-type"):
            ctype = content_type(req.headers, dst_name)
        chunks, size = await _content(svc, req, opened, manifest_copy)
        await writes.check_quotas(svc, dst_account, container, size)
        await versioning.before_write(svc, req, container, dst_name, dst_account)
        keep_etag = manifest_copy and bool(opened.info.metadata.get("x-static-large-object"))
        info = await writes.store_object(
            svc,
            dst_account,
            dst_container,
            dst_name,
            chunks,
            length=size,
            content_type=ctype,
            metadata=metadata,
            etag=opened.info.etag if keep_etag else "",
            listed_size=int(metadata["x-object-sysmeta-slo-size"]) if keep_etag else None,
            timestamp=now,
            quota=container,
        )
        headers = [
            ("Etag", info.etag),
            ("Last-Modified", http_date(info.meta_timestamp)),
            ("X-Copied-From", quote(f"{src_container}/{src_name}")),
            ("X-Copied-From-Account", quote(src_account)),
            ("X-Copied-From-Last-Modified", http_date(opened.info.meta_timestamp)),
            *response_headers(info.metadata, req.swift_owner),
        ]
        await respond(send, req, 201, encode_headers(headers))
    finally:
        await opened.close()
