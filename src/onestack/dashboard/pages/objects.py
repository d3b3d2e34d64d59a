"""A container's objects: browsing by pseudo-folder, uploads streamed from the browser to
Swift, downloads streamed back, details, deletion and temporary URLs."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from starlette.background import BackgroundTask
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from onestack.dashboard.client import APIError, raise_for
from onestack.dashboard.forms import Field, Form, FormError, confirm
from onestack.dashboard.pages.containers import SERVICE, container_info, q, size_text
from onestack.dashboard.web import Ctx, page

TEMP_URL_KEY = "x-account-meta-temp-url-key"


def crumbs(container: str, prefix: str) -> list[tuple[str, str]]:
    """(label, browse path) from the container down to the pseudo-folder ``prefix``."""
    found = [(container, f"/project/containers/container/{q(container)}/")]
    walked = ""
    for part in [p for p in prefix.split("/") if p]:
        walked += part + "/"
        found.append((part, f"/project/containers/container/{q(container)}/{q(walked)}"))
    return found


def _entries(container: str, listing: list[dict[str, Any]], prefix: str) -> list[dict[str, Any]]:
    rows = []
    for item in listing:
        if "subdir" in item:
            name = str(item["subdir"])
            rows.append({"folder": True, "name": name, "label": name[len(prefix) :].rstrip("/")})
        elif item["name"] != prefix:  # the folder's own marker object
            name = str(item["name"])
            rows.append(
                {
                    "folder": False,
                    "name": name,
                    "label": name[len(prefix) :],
                    "size": size_text(int(item.get("bytes", 0))),
                    "modified": item.get("last_modified", ""),
                    "path": q(f"{container}/{name}"),
                }
            )
    return rows


@page()
async def browse(ctx: Ctx) -> Response:
    container = ctx.request.path_params["container"]
    prefix = ctx.request.path_params.get("prefix", "")
    info = await container_info(ctx, container)
    marker = ctx.request.query_params.get("marker")
    listing = await ctx.api.get(
        SERVICE,
        f"/{q(container)}",
        format="json",
        prefix=prefix,
        delimiter="/",
        limit=ctx.page_size + 1,
        marker=marker,
    )
    more = len(listing) > ctx.page_size
    listing = listing[: ctx.page_size]
    last = listing[-1] if listing and more else {}
    next_marker = str(last.get("subdir", last.get("name", "")))
    here = f"/project/containers/container/{q(container)}/{q(prefix)}"
    return ctx.render(
        "project/container_objects.html",
        info=info,
        prefix=prefix,
        crumbs=crumbs(container, prefix),
        rows=_entries(container, listing, prefix),
        next_url=ctx.url(here, marker=next_marker) if next_marker else "",
        paged=bool(marker),
        here=here,
        upload_url=ctx.url(f"/project/containers/upload/{q(container)}/"),
    )


@page()
async def folder(ctx: Ctx) -> Response:
    """GET: the form; POST: a pseudo-folder, an empty object named ``prefix/name/``."""
    container = ctx.request.path_params["container"]
    prefix = ctx.request.query_params.get("prefix", "")
    fields = [Field("name", required=True), Field("prefix", type="hidden", value=prefix)]
    form = Form(fields=fields, template="project/container_folder.html")
    if ctx.request.method == "POST":
        values = form.fill(await ctx.form())
        name = values["name"] = values["name"].strip("/")
        prefix = values["prefix"]
        if form.require():
            path = f"/{q(container)}/{q(prefix + name + '/')}"
            headers = {"content-type": "application/directory", "content-length": "0"}
            try:
                await ctx.api.request("PUT", SERVICE, path, headers=headers, content=b"")
            except APIError as exc:
                form.refused(FormError(exc.message, "name"))  # Swift's words name no field
            else:
                ctx.flash("success", f'Folder "{name}" created.')
                target = f"/project/containers/container/{q(container)}/{q(prefix + name + '/')}"
                return ctx.redirect(target)
    return form.render(ctx, container=container, prefix=prefix)


@page()
async def upload(ctx: Ctx) -> Response:
    """PUT from the page's script: the request's body goes to Swift as it arrives."""
    container = ctx.request.path_params["container"]
    name = ctx.request.path_params["obj"]
    if not name or name.endswith("/"):
        return JSONResponse({"message": "The object needs a name."}, status_code=400)
    incoming = ctx.request.headers
    headers = {"content-type": incoming.get("content-type") or "application/octet-stream"}
    if "content-length" in incoming:
        headers["content-length"] = incoming["content-length"]
    try:
        await ctx.api.request(
            "PUT",
            SERVICE,
            f"/{q(container)}/{q(name)}",
            content=ctx.request.stream(),
            headers=headers,
        )
    except APIError as exc:
        return JSONResponse({"message": exc.message}, status_code=exc.status)
    ctx.flash("success", f'Object "{name}" uploaded.')
    return JSONResponse({"name": name}, status_code=201)


async def _open(ctx: Ctx, method: str, path: str) -> httpx.Response:
    """The object's answer with its body not yet read (the caller closes it)."""
    api = ctx.api
    url = await api.endpoint(SERVICE) + path
    client = api.cloud.http
    request = client.build_request(method, url, headers={"x-auth-token": api.token})
    resp = await client.send(request, stream=True)
    if resp.status_code >= 400:
        await resp.aread()
        await resp.aclose()
        raise_for(resp, session=True)
    return resp


def disposition(name: str) -> str:
    filename = name.rsplit("/", 1)[-1] or "download"
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


@page()
async def download(ctx: Ctx) -> Response:
    container = ctx.request.path_params["container"]
    name = ctx.request.path_params["obj"]
    resp = await _open(ctx, "GET", f"/{q(container)}/{q(name)}")
    headers = {"content-disposition": disposition(name)}
    if "content-length" in resp.headers:
        headers["content-length"] = resp.headers["content-length"]
    return StreamingResponse(
        resp.aiter_raw(),
        media_type=resp.headers.get("content-type", "application/octet-stream"),
        headers=headers,
        background=BackgroundTask(resp.aclose),
    )


@page()
async def details(ctx: Ctx) -> Response:
    container = ctx.request.path_params["container"]
    name = ctx.request.path_params["obj"]
    resp = await ctx.api.request("HEAD", SERVICE, f"/{q(container)}/{q(name)}")
    h = resp.headers
    meta = sorted(
        (k[len("x-object-meta-") :], v) for k, v in h.items() if k.startswith("x-object-meta-")
    )
    return ctx.render(
        "project/object_detail.html",
        container=container,
        name=name,
        obj_path=q(f"{container}/{name}"),
        folder=name.rsplit("/", 1)[0] + "/" if "/" in name else "",
        size=size_text(int(h.get("content-length", "0"))),
        bytes=h.get("content-length", "0"),
        content_type=h.get("content-type", ""),
        etag=h.get("etag", ""),
        modified=h.get("last-modified", ""),
        meta=meta,
    )


@page()
async def delete(ctx: Ctx) -> Response:
    container = ctx.request.path_params["container"]
    name = ctx.request.path_params["obj"]
    path = f"/{q(container)}/{q(name)}"
    folder = name.rstrip("/").rsplit("/", 1)[0] + "/" if "/" in name.rstrip("/") else ""
    back = f"/project/containers/container/{q(container)}/{q(folder)}"
    if ctx.request.method == "GET":
        await ctx.api.request("HEAD", SERVICE, path)
        return confirm(
            ctx,
            "Delete Object",
            f'Delete the object "{name}" from "{container}"? It cannot be undone.',
            back,
            action=f"/project/containers/delete_object/{q(container)}/{q(name)}",
        )
    await ctx.api.delete(SERVICE, path)
    ctx.flash("success", f'Object "{name}" deleted.')
    return ctx.redirect(back)


async def temp_url_key(ctx: Ctx) -> str:
    """The account's Temp-URL key, set to a new random one when it has none."""
    resp = await ctx.api.request("HEAD", SERVICE, "")
    key = str(resp.headers.get(TEMP_URL_KEY, ""))
    if not key:
        key = secrets.token_urlsafe(32)
        await ctx.api.request("POST", SERVICE, "", headers={TEMP_URL_KEY: key})
    return key


def sign(key: str, method: str, expires: int, path: str) -> str:
    """Swift's tempurl signature: HMAC-SHA256 of ``METHOD\\nEXPIRES\\nPATH``."""
    body = f"{method}\n{expires}\n{path}"
    return hmac.new(key.encode(), body.encode(), hashlib.sha256).hexdigest()


@page()
async def temp_url(ctx: Ctx) -> Response:
    container = ctx.request.path_params["container"]
    name = ctx.request.path_params["obj"]
    await ctx.api.request("HEAD", SERVICE, f"/{q(container)}/{q(name)}")
    seconds, url, error = "3600", "", ""
    if ctx.request.method == "POST":
        seconds = str((await ctx.form()).get("seconds", "")).strip()
        if not seconds.isdigit() or int(seconds) < 1:
            error = "Enter a whole number of seconds, at least 1."
        else:
            endpoint = await ctx.api.endpoint(SERVICE)
            expires = int(time.time()) + int(seconds)
            signed_path = f"{urlsplit(endpoint).path}/{container}/{name}"
            sig = sign(await temp_url_key(ctx), "GET", expires, signed_path)
            url = (
                f"{endpoint}/{q(container)}/{q(name)}?temp_url_sig={sig}&temp_url_expires={expires}"
            )
    return ctx.render(
        "project/object_tempurl.html",
        status=400 if error else 200,
        container=container,
        name=name,
        obj_path=q(f"{container}/{name}"),
        seconds=seconds,
        url=url,
        errors={"seconds": error} if error else {},
    )


ROUTES = [
    Route("/project/containers/container/{container}/{prefix:path}", browse, methods=["GET"]),
    Route("/project/containers/folder/{container}/", folder, methods=["GET", "POST"]),
    Route("/project/containers/upload/{container}/{obj:path}", upload, methods=["PUT"]),
    Route("/project/containers/download/{container}/{obj:path}", download, methods=["GET"]),
    Route("/project/containers/object/{container}/{obj:path}", details, methods=["GET"]),
    Route(
        "/project/containers/delete_object/{container}/{obj:path}",
        delete,
        methods=["GET", "POST"],
    ),
    Route("/project/containers/tempurl/{container}/{obj:path}", temp_url, methods=["GET", "POST"]),
]
