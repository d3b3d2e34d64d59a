"""The project's object storage, containers: the list (counts and bytes), create, public or
private access, delete. A container's objects live in ``objects.py``."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.responses import Response
from starlette.routing import Route

from onestack.dashboard.client import APIError
from onestack.dashboard.forms import Field, Form, FormError, confirm
from onestack.dashboard.web import Ctx, page

SERVICE = "object-store"
# Swift's ACL for "anyone may read and list": Horizon's public container.
PUBLIC_READ = ".r:*,.rlistings"


def q(name: str) -> str:
    """A container or object name as a URL path (spaces, %, unicode, ? and # quoted)."""
    return quote(name, safe="/")


def is_public(read_acl: str) -> bool:
    return ".r:*" in [part.strip() for part in read_acl.split(",")]


def size_text(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{int(value)} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"


async def container_info(ctx: Ctx, container: str) -> dict[str, Any]:
    """The container's counts and access (404 page when it is not there)."""
    resp = await ctx.api.request("HEAD", SERVICE, f"/{q(container)}")
    read_acl = resp.headers.get("x-container-read", "")
    endpoint = await ctx.api.endpoint(SERVICE)
    return {
        "name": container,
        "count": int(resp.headers.get("x-container-object-count", "0")),
        "bytes": int(resp.headers.get("x-container-bytes-used", "0")),
        "size": size_text(int(resp.headers.get("x-container-bytes-used", "0"))),
        "public": is_public(read_acl),
        "public_url": f"{endpoint}/{q(container)}",
        "timestamp": resp.headers.get("x-timestamp", ""),
    }


@page()
async def index(ctx: Ctx) -> Response:
    query = ctx.request.query_params
    found = await ctx.api.get(
        SERVICE,
        "",
        format="json",
        limit=ctx.page_size + 1,
        marker=query.get("marker"),
        prefix=query.get("prefix"),
    )
    more = len(found) > ctx.page_size
    rows = [
        {"name": c["name"], "count": c.get("count", 0), "size": size_text(c.get("bytes", 0))}
        for c in found[: ctx.page_size]
    ]
    marker = rows[-1]["name"] if more and rows else ""
    return ctx.render(
        "project/containers.html",
        rows=rows,
        next_url=ctx.url("/project/containers/", marker=marker) if marker else "",
        paged=bool(query.get("marker")),
        prefix=query.get("prefix", ""),
    )


def _name_error(name: str) -> str:
    if "/" in name:
        return "Container names cannot contain a slash (/)."
    if len(name.encode()) > 256:
        return "Container names are at most 256 bytes."
    return ""


@page()
async def create(ctx: Ctx) -> Response:
    fields = [Field("name", required=True), Field("access", value="private")]
    form = Form(fields=fields, template="project/container_create.html")
    if ctx.request.method == "POST":
        values = await form.read(ctx)
        if not form.errors and _name_error(values["name"]):
            form.errors["name"] = _name_error(values["name"])
        if not form.errors:
            headers = {"x-container-read": PUBLIC_READ} if values["access"] == "public" else {}
            try:
                await ctx.api.request("PUT", SERVICE, f"/{q(values['name'])}", headers=headers)
            except APIError as exc:
                form.refused(FormError(exc.message, "name"))  # Swift's words name no field
            else:
                ctx.flash("success", f'Container "{values["name"]}" created.')
                return ctx.redirect(f"/project/containers/container/{q(values['name'])}/")
    return form.render(ctx)


@page()
async def access(ctx: Ctx) -> Response:
    """POST: make the container public (anyone may read and list) or private again."""
    container = ctx.request.path_params["container"]
    public = str((await ctx.form()).get("public", "")) == "1"
    headers = {"x-container-read": PUBLIC_READ if public else ""}
    await ctx.api.request("POST", SERVICE, f"/{q(container)}", headers=headers)
    word = "public" if public else "private"
    ctx.flash("success", f'Container "{container}" is now {word}.')
    return ctx.redirect(f"/project/containers/container/{q(container)}/")


@page()
async def delete(ctx: Ctx) -> Response:
    """GET: the confirmation; POST: the deletion (Swift refuses a container with objects)."""
    container = ctx.request.path_params["container"]
    await container_info(ctx, container)
    if ctx.request.method == "GET":
        return confirm(
            ctx,
            "Delete Container",
            f'Delete the container "{container}"? It cannot be undone.',
            f"/project/containers/container/{q(container)}/",
            action=f"/project/containers/delete/{q(container)}/",
        )
    try:
        await ctx.api.request("DELETE", SERVICE, f"/{q(container)}")
    except APIError as exc:
        if exc.status != 409:
            raise
        ctx.flash("error", f'Unable to delete container "{container}": {exc.message}')
        return ctx.redirect(f"/project/containers/container/{q(container)}/")
    ctx.flash("success", f'Container "{container}" deleted.')
    return ctx.redirect("/project/containers/")


ROUTES = [
    Route("/project/containers/", index, methods=["GET"]),
    Route("/project/containers/create/", create, methods=["GET", "POST"]),
    Route("/project/containers/access/{container}/", access, methods=["POST"]),
    Route("/project/containers/delete/{container}/", delete, methods=["GET", "POST"]),
]
