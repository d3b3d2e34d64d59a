"""Large objects: static (SLO: a JSON manifest of segments, ``?multipart-manifest=put``)
and dynamic (DLO: ``X-Object-Manifest: container/prefix``, the segments are whatever the
listing holds). A GET streams the segments one after another (ranges map onto them); the
ETag is the quoted md5 of the segments' ETags, as Swift's."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import unquote

import orjson
from starlette.types import Send

from onestack.object import errors
from onestack.object.api import auth, ranges, writes
from onestack.object.api.http import SwiftRequest, encode_headers, iso_date, respond
from onestack.object.api.metadata import expired
from onestack.object.drivers import base
from onestack.object.drivers.base import Chunk, ContainerInfo, Listing, ObjectEntry, OpenObject
from onestack.object.service import ObjectService

MAX_MANIFEST_SEGMENTS = 1000
MAX_MANIFEST_SIZE = 8 * 1024 * 1024
MIN_SEGMENT_SIZE = 1
MAX_NESTING = 10
DLO_SEGMENTS = 10000


@dataclass(frozen=True, slots=True)
class Segment:
    account: str
    container: str
    name: str
    etag: str  # what the manifest expects ("" for DLO segments: whatever is there)
    start: int  # the part of the segment object used
    end: int

    @property
    def size(self) -> int:
        return self.end - self.start


def _etag(etags: list[str]) -> str:
    return hashlib.md5("".join(etags).encode(), usedforsecurity=False).hexdigest()


def _split(path: str) -> tuple[str, str]:
    container, _, name = unquote(path).lstrip("/").partition("/")
    return container, name


# --- reading -------------------------------------------------------------------------------
async def _read_manifest(opened: OpenObject) -> list[dict]:
    parts = [bytes(c) async for c in opened.read()]
    try:
        data = orjson.loads(b"".join(parts))
    except orjson.JSONDecodeError:
        raise errors.PreconditionFailed("Unreadable manifest") from None
    return data if isinstance(data, list) else []


async def slo_segments(
    svc: ObjectService, req: SwiftRequest, opened: OpenObject, depth: int = 0
) -> list[Segment]:
    if depth > MAX_NESTING:
        raise errors.Conflict("Max recursion depth exceeded on GET of a nested manifest.")
    out: list[Segment] = []
    for item in await _read_manifest(opened):
        if "data" in item:
            out.append(Segment("", "", item["data"], "", 0, len(base64.b64decode(item["data"]))))
            continue
        container, name = _split(item["name"])
        start, end = 0, int(item["bytes"])
        if item.get("range"):
            first, _, last = item["range"].partition("-")
            start, end = int(first), int(last) + 1
        if item.get("sub_slo"):
            sub = await svc.store.open_object(req.account, container, name)
            try:
                nested = await slo_segments(svc, req, sub, depth + 1)
            finally:
                await sub.close()
            out.extend(_slice(nested, start, end))
        else:
            out.append(Segment(req.account, container, name, item["hash"], start, end))
    return out


def _slice(segments: list[Segment], start: int, end: int) -> list[Segment]:
    out = []
    at = 0
    for seg in segments:
        lo, hi = max(start, at), min(end, at + seg.size)
        if lo < hi:
            out.append(
                Segment(
                    seg.account,
                    seg.container,
                    seg.name,
                    seg.etag,
                    seg.start + lo - at,
                    seg.start + hi - at,
                )
            )
        at += seg.size
    return out


async def dlo_segments(svc: ObjectService, req: SwiftRequest, opened: OpenObject) -> list[Segment]:
    container, prefix = _split(opened.info.metadata["x-object-manifest"])
    await auth.authorize(svc, req, req.account, container, "x", "GET")
    out: list[Segment] = []
    marker = ""
    while len(out) < DLO_SEGMENTS:
        try:
            page = await svc.store.list_objects(
                req.account, container, Listing(prefix=prefix, marker=marker, now=1.0)
            )
        except base.NotFound:
            break
        entries = [e for e in page if isinstance(e, ObjectEntry)]
        if not entries:
            break
        out += [Segment(req.account, container, e.name, "", 0, e.size) for e in entries]
        marker = entries[-1].name
    return out


async def _stream(
    svc: ObjectService, req: SwiftRequest, segments: list[Segment], offset: int, length: int
) -> AsyncIterator[Chunk]:
    """Bytes [offset, offset + length) of the segments' concatenation."""
    for seg in _slice(segments, offset, offset + length):
        if not seg.account:  # an inline data segment
            yield base64.b64decode(seg.name)[seg.start : seg.end]
            continue
        await auth.authorize(svc, req, seg.account, seg.container, seg.name, "GET")
        try:
            part = await svc.store.open_object(seg.account, seg.container, seg.name)
        except base.NotFound:
            raise errors.Conflict(f"Segment {seg.container}/{seg.name} is gone") from None
        try:
            if seg.etag and part.info.etag != seg.etag:
                raise errors.Conflict(f"Segment {seg.container}/{seg.name} changed")
            async for chunk in part.read(seg.start, seg.size):
                yield chunk
        finally:
            await part.close()


def _total(segments: list[Segment]) -> int:
    return sum(s.size for s in segments)


async def _serve(
    svc: ObjectService,
    req: SwiftRequest,
    send: Send,
    opened: OpenObject,
    segments: list[Segment],
    etag: str,
    extra: list[tuple[str, str]],
) -> None:
    from onestack.object.api.objects import info_headers, send_ranges

    info = opened.info
    size = _total(segments)
    headers = info_headers(req, info, f'"{etag}"') + extra
    status = ranges.check_conditions(req, etag, info.meta_timestamp)
    if status is not None:
        await respond(send, req, status, encode_headers(headers))
        return
    wanted = ranges.parse_ranges(req.headers.get("range"), size)

    def read(offset: int, length: int) -> AsyncIterator[Chunk]:
        return _stream(svc, req, segments, offset, length)

    await send_ranges(req, send, headers, info.content_type, size, wanted, read)


async def serve_slo(svc: ObjectService, req: SwiftRequest, send: Send, opened: OpenObject) -> None:
    segments = await slo_segments(svc, req, opened)
    meta = opened.info.metadata
    etag = meta.get("x-object-sysmeta-slo-etag", opened.info.etag)
    extra = [
        ("X-Static-Large-Object", "True"),
        ("X-Manifest-Etag", meta.get("x-object-sysmeta-slo-manifest-etag", "")),
    ]
    hidden = {
        "x-static-large-object",
        "x-object-sysmeta-slo-etag",
        "x-object-sysmeta-slo-size",
        "x-object-sysmeta-slo-manifest-etag",
    }
    req.extra["tempurl_hidden"] = (*req.extra.get("tempurl_hidden", ()), *hidden)
    await _serve(svc, req, send, opened, segments, etag, extra)


async def serve_dlo(svc: ObjectService, req: SwiftRequest, send: Send, opened: OpenObject) -> None:
    segments = await dlo_segments(svc, req, opened)
    etags = []
    for seg in segments:  # the listing's etags, as Swift's DLO ETag
        etags.append(await _segment_etag(svc, seg))
    await _serve(svc, req, send, opened, segments, _etag(etags), [])


async def _segment_etag(svc: ObjectService, seg: Segment) -> str:
    try:
        return (await svc.store.object_info(seg.account, seg.container, seg.name)).etag
    except base.NotFound:
        return ""


async def serve_manifest(
    svc: ObjectService, req: SwiftRequest, send: Send, opened: OpenObject
) -> None:
    """``?multipart-manifest=get``: the manifest itself (``&format=raw``: as it was PUT)."""
    manifest = await _read_manifest(opened)
    if req.query.get("format") == "raw":
        manifest = [
            {
                "path": m["name"],
                "etag": m["hash"],
                "size_bytes": m["bytes"],
                **({"range": m["range"]} if m.get("range") else {}),
            }
            if "data" not in m
            else m
            for m in manifest
        ]
    body = orjson.dumps(manifest)
    from onestack.object.api.objects import info_headers

    meta = opened.info.metadata
    headers = info_headers(req, opened.info, meta.get("x-object-sysmeta-slo-manifest-etag", ""))
    headers.append(("X-Static-Large-Object", "True"))
    await respond(send, req, 200, encode_headers(headers), body, b"application/json; charset=utf-8")


async def slo_content(
    svc: ObjectService, req: SwiftRequest, opened: OpenObject
) -> tuple[AsyncIterator[Chunk], int]:
    segments = await slo_segments(svc, req, opened)
    return _stream(svc, req, segments, 0, _total(segments)), _total(segments)


async def dlo_content(
    svc: ObjectService, req: SwiftRequest, opened: OpenObject
) -> tuple[AsyncIterator[Chunk], int]:
    segments = await dlo_segments(svc, req, opened)
    return _stream(svc, req, segments, 0, _total(segments)), _total(segments)


# --- writing -------------------------------------------------------------------------------
async def _check_segment(
    svc: ObjectService, req: SwiftRequest, item: object, last: bool
) -> tuple[dict, list[str], str | None]:
    """(stored manifest entry, its ETags for the total, error) of one segment of a PUT."""
    if not isinstance(item, dict):
        return {}, [], "Index 0: not a JSON object"
    if "data" in item:
        try:
            data = base64.b64decode(item["data"], validate=True)
        except ValueError:
            return {}, [], "Invalid data segment"
        return {"data": item["data"]}, [hashlib.md5(data, usedforsecurity=False).hexdigest()], None
    path = item.get("path")
    if not isinstance(path, str) or "/" not in path.lstrip("/"):
        return {}, [], f"{path}, Invalid path"
    container, name = _split(path)
    await auth.authorize(svc, req, req.account, container, name, "HEAD")
    try:
        info = await svc.store.object_info(req.account, container, name)
    except base.NotFound:
        return {}, [], f"/{container}/{name}, 404 Not Found"
    if expired(info):
        return {}, [], f"/{container}/{name}, 404 Not Found"
    etag = item.get("etag")
    if etag and etag.strip('"') != info.etag:
        return {}, [], f"/{container}/{name}, Etag Mismatch"
    size = item.get("size_bytes")
    slo = bool(info.metadata.get("x-static-large-object"))
    full = int(info.metadata["x-object-sysmeta-slo-size"]) if slo else info.size
    if size is not None and int(size) != full:
        return {}, [], f"/{container}/{name}, Size Mismatch"
    entry = {
        "name": f"/{container}/{name}",
        "bytes": full,
        "hash": info.etag,
        "content_type": info.content_type,
        "last_modified": iso_date(info.meta_timestamp),
    }
    if slo:
        entry["sub_slo"] = True
    used = full
    if item.get("range"):
        got = ranges.parse_ranges(f"bytes={item['range']}", full)
        if not got or len(got) != 1:
            return {}, [], f"/{container}/{name}, Unsatisfiable Range"
        entry["range"] = f"{got[0][0]}-{got[0][1] - 1}"
        used = got[0][1] - got[0][0]
    if used < MIN_SEGMENT_SIZE and not last:
        return {}, [], f"/{container}/{name}, Too Small; each segment must be at least 1 byte."
    tag = info.etag + (f":{entry['range']};" if "range" in entry else "")
    return entry, [tag], None


async def put_slo(
    svc: ObjectService,
    req: SwiftRequest,
    send: Send,
    container: ContainerInfo,
    metadata: dict[str, str],
) -> None:
    from onestack.object.api import versioning
    from onestack.object.api.metadata import content_type

    raw = await req.read_body(MAX_MANIFEST_SIZE)
    try:
        items = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise errors.BadRequest("Manifest must be valid JSON.\n") from None
    if not isinstance(items, list) or not items:
        raise errors.BadRequest("Manifest must be a list of segments.\n")
    if len(items) > MAX_MANIFEST_SEGMENTS:
        raise errors.TooLarge(f"Too many segments; max {MAX_MANIFEST_SEGMENTS}.")
    stored: list[dict] = []
    etags: list[str] = []
    problems: list[str] = []
    for index, item in enumerate(items):
        entry, tags, problem = await _check_segment(svc, req, item, index == len(items) - 1)
        if problem:
            problems.append(problem)
        else:
            stored.append(entry)
            etags += tags
    if problems:
        raise errors.BadRequest("Errors:\n" + "\n".join(problems))
    total = sum(len(base64.b64decode(e["data"])) if "data" in e else _used(e) for e in stored)
    body = orjson.dumps(stored)
    slo_etag = _etag(etags)
    expect = req.headers.get("etag")
    if expect and expect.strip('"') != slo_etag:
        raise errors.Unprocessable()
    metadata = {
        **metadata,
        "x-static-large-object": "True",
        "x-object-sysmeta-slo-etag": slo_etag,
        "x-object-sysmeta-slo-size": str(total),
        "x-object-sysmeta-slo-manifest-etag": hashlib.md5(body, usedforsecurity=False).hexdigest(),
    }
    await writes.check_quotas(svc, req.account, container, len(body))
    await versioning.before_write(svc, req, container, req.obj)
    info = await writes.store_object(
        svc,
        req.account,
        req.container,
        req.obj,
        writes.single(body),
        length=len(body),
        content_type=content_type(req.headers, req.obj),
        metadata=metadata,
        etag=slo_etag,
        listed_size=total,
    )
    from onestack.object.api.objects import written_headers

    await respond(send, req, 201, written_headers(info, f'"{slo_etag}"'))


def _used(entry: dict) -> int:
    if entry.get("range"):
        first, _, last = entry["range"].partition("-")
        return int(last) - int(first) + 1
    return int(entry["bytes"])


async def delete_slo(svc: ObjectService, req: SwiftRequest, send: Send) -> None:
    """``DELETE ?multipart-manifest=delete``: the segments, then the manifest (a bulk
    delete's report)."""
    from onestack.object.api import bulk

    try:
        opened = await svc.store.open_object(req.account, req.container, req.obj)
    except base.NotFound:
        raise errors.NotFound() from None
    try:
        if not opened.info.metadata.get("x-static-large-object"):
            paths = [f"/{req.container}/{req.obj}"]
        else:
            paths = [m["name"] for m in await _read_manifest(opened) if "name" in m]
            paths.append(f"/{req.container}/{req.obj}")
    finally:
        await opened.close()
    await bulk.delete_paths(svc, req, send, paths)
