"""Form POST (Swift's formpost): a browser uploads files straight into a container with an
HTML form signed by the Temp-URL key: the HMAC covers
``PATH\\nREDIRECT\\nMAX_FILE_SIZE\\nMAX_FILE_COUNT\\nEXPIRES``. Each file becomes the object
``<path's prefix><file name>``; the answer redirects (303) to ``redirect`` with the status,
or is the status as text."""

from __future__ import annotations

import time
from html import escape
from urllib.parse import quote

from starlette.types import Send

from onestack.object import errors
from onestack.object.api import signed, writes
from onestack.object.api.http import SwiftRequest, encode_headers, now_ts, respond
from onestack.object.api.metadata import check_object_name, delete_at
from onestack.object.service import ObjectService

MAX_FORM_FIELD = 8 * 1024


def is_form_post(req: SwiftRequest) -> bool:
    return (
        req.method == "POST"
        and bool(req.container)
        and req.header("content-type").lower().startswith("multipart/form-data")
    )


def _boundary(ctype: str) -> bytes:
    for param in ctype.split(";")[1:]:
        key, _, value = param.strip().partition("=")
        if key.lower() == "boundary":
            return value.strip('"').encode()
    raise errors.BadRequest("FormPost: invalid boundary")


def _parts(body: bytes, boundary: bytes) -> list[tuple[dict[str, str], bytes]]:
    """(headers, content) of each part of a multipart/form-data body."""
    out = []
    delimiter = b"--" + boundary
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk.removeprefix(b"\r\n").removesuffix(b"\r\n")
        head, _, content = chunk.partition(b"\r\n\r\n")
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        out.append((headers, content))
    return out


def _disposition(value: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for item in value.split(";")[1:]:
        key, _, val = item.strip().partition("=")
        params[key.lower()] = val.strip().strip('"')
    return params


async def _answer(req: SwiftRequest, send: Send, redirect: str, status: str, message: str) -> None:
    code = int(status.split(" ", 1)[0])
    if not redirect:
        body = status + (f"\r\nFormPost: {message.title()}" if message else "")
        await respond(send, req, code, [], body.encode(), b"text/plain")
        return
    sep = "&" if "?" in redirect else "?"
    location = f"{redirect}{sep}status={quote(status.split(' ')[0])}&message={quote(message)}"
    body = f'<html><body><p><a href="{escape(location)}">Click to continue...</a></p></body></html>'
    await respond(send, req, 303, encode_headers([("Location", location)]), body.encode())


def _int(fields: dict[str, str], key: str) -> int:
    try:
        return int(fields.get(key, "0"))
    except ValueError:
        raise errors.BadRequest(f"FormPost: invalid {key}") from None


async def handle(svc: ObjectService, req: SwiftRequest, send: Send) -> None:
    fields: dict[str, str] = {}
    files: list[tuple[str, str, bytes]] = []
    parts = _parts(
        await req.read_body(svc.settings.max_file_size), _boundary(req.header("content-type"))
    )
    for headers, content in parts:
        disposition = _disposition(headers.get("content-disposition", ""))
        if "filename" in disposition:
            files.append((disposition["filename"], headers.get("content-type", ""), content))
        elif "name" in disposition and len(content) <= MAX_FORM_FIELD:
            fields[disposition["name"]] = content.decode("utf-8", "replace")
    redirect = fields.get("redirect", "")
    max_size, max_count = _int(fields, "max_file_size"), _int(fields, "max_file_count")
    expires = _int(fields, "expires")
    if expires < time.time():
        await _answer(req, send, redirect, "401 Unauthorized", "form expired")
        return
    parsed = signed.parse_signature(fields.get("signature", ""))
    body_path = "/" + "/".join(p for p in (req.version, req.account, req.container, req.obj) if p)
    bodies = [
        f"{p}\n{redirect}\n{fields.get('max_file_size', '')}\n{fields.get('max_file_count', '')}\n"
        f"{fields.get('expires', '')}"
        for p in (body_path, signed.API_PREFIX + body_path)
    ]
    if parsed is None or not signed.matches(
        await signed.keys(svc, req.account, req.container), *parsed, bodies
    ):
        await _answer(req, send, redirect, "401 Unauthorized", "invalid signature")
        return
    if len(files) > max_count:
        await _answer(req, send, redirect, "400 Bad Request", "max file count exceeded")
        return
    container = await svc.container(req.account, req.container)
    if container is None:
        await _answer(req, send, redirect, "404 Not Found", "")
        return
    now = now_ts()
    extra: dict[str, str] = {}
    at = delete_at(
        {
            k.replace("_", "-"): v
            for k, v in fields.items()
            if k in ("x_delete_at", "x_delete_after")
        },
        now,
    )
    if at is not None:
        extra["x-delete-at"] = at
    for filename, ctype, content in files:
        if not filename:
            continue
        if len(content) > max_size:
            await _answer(req, send, redirect, "400 Bad Request", "max_file_size exceeded")
            return
        name = req.obj + filename
        check_object_name(name)
        await writes.check_quotas(svc, req.account, container, len(content))
        await writes.store_object(
            svc,
            req.account,
            req.container,
            name,
            writes.single(content),
            length=len(content),
            content_type=ctype or "application/octet-stream",
            metadata=dict(extra),
            quota=container,
        )
    await _answer(req, send, redirect, "201 Created", "")
