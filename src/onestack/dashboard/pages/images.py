"""The project's images: the list (its own, shared with it, public), detail, create with the
file streamed from the browser to Glance, delete. Editing and sharing live in
``image_edit``."""

from __future__ import annotations

import math
from typing import Any

from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from onestack.dashboard.client import APIError
from onestack.dashboard.forms import Field, Form, confirm, number
from onestack.dashboard.web import Ctx, NotFound, page

BUSY = {"queued", "saving", "importing", "uploading"}
VISIBILITIES = {
    "": "All Images",
    "private": "Project",
    "shared": "Shared with Project",
    "public": "Public",
    "community": "Community",
}
DISK_FORMATS = tuple(
    (f, f.upper()) for f in ("qcow2", "raw", "iso", "vmdk", "vdi", "vhd", "vhdx", "ami", "aki")
)
CONTAINER_FORMATS = tuple((f, f) for f in ("bare", "ovf", "ova", "docker", "ami", "aki"))
VISIBILITY_CHOICES = (("private", "Private"), ("shared", "Shared"), ("public", "Public"),
                      ("community", "Community"))  # fmt: skip


def size_text(size: int | None) -> str:
    if not size:
        return ""
    units = ("bytes", "KiB", "MiB", "GiB", "TiB")
    power = min(int(math.log(size, 1024)), len(units) - 1)
    value = size / 1024**power
    return f"{size} bytes" if power == 0 else f"{value:.1f} {units[power]}"


def row(image: dict[str, Any], project_id: str) -> dict[str, Any]:
    return {
        **image,
        "busy": image.get("status") in BUSY,
        "size_text": size_text(image.get("size")),
        "mine": image.get("owner") == project_id,
        "kind": "Snapshot" if image.get("image_type") == "snapshot" else "Image",
    }


async def _pending(ctx: Ctx, images: list[dict[str, Any]]) -> set[str]:
    """Which of the page's shared images wait for this project's answer (one call)."""
    ids = [i["id"] for i in images if i.get("owner") != ctx.user.project_id]
    if not ids:
        return set()
    found = await ctx.api.get(
        "image", "/v2/images", id="in:" + ",".join(ids), member_status="pending", limit=len(ids)
    )
    return {i["id"] for i in found["images"]}


@page()
async def index(ctx: Ctx) -> Response:
    query = ctx.request.query_params
    visibility = query.get("visibility", "")
    if visibility not in VISIBILITIES:
        raise NotFound("There is no such list of images.")
    params: dict[str, Any] = {"limit": ctx.page_size, "marker": query.get("marker")}
    if visibility:
        params["visibility"] = visibility
    if visibility == "shared":  # shared with the project: accepted or not yet
        params["member_status"] = "all"
    if visibility == "private":
        params["owner"] = ctx.user.project_id
    found = await ctx.api.get("image", "/v2/images", **params)
    images = found["images"]
    pending = await _pending(ctx, images) if visibility == "shared" else set()
    rows = [{**row(i, ctx.user.project_id), "pending": i["id"] in pending} for i in images]
    values: dict[str, Any] = {
        "rows": rows,
        "visibility": visibility,
        "visibilities": VISIBILITIES,
        "next_marker": images[-1]["id"] if images and found.get("next") else "",
        "paged": bool(query.get("marker")),
    }
    if query.get("fragment") == "rows":  # the live table's refresh
        return ctx.render("project/image_rows.html", **values)
    return ctx.render("project/images.html", **values)


def create_form(ctx: Ctx) -> Form:
    return Form(
        title="Create Image",
        action=ctx.url("/project/images/create/"),
        cancel=ctx.url("/project/images/"),
        button="Create Image",
        fields=[
            Field("name", "Image Name", required=True),
            Field("description", "Image Description", "textarea"),
            Field("file", "File", "file", help="The image's data, uploaded from this computer."),
            Field("disk_format", "Format", "select", options=DISK_FORMATS, words=("disk_format",)),
            Field("container_format", "Container Format", "select", options=CONTAINER_FORMATS),
            Field("visibility", "Visibility", "select", options=VISIBILITY_CHOICES),
            Field("min_disk", "Minimum Disk (GB)", "number", words=("min_disk", "minimum disk")),
            Field("min_ram", "Minimum RAM (MB)", "number", words=("min_ram", "minimum ram")),
            Field("protected", "Protected", "checkbox"),
        ],
        values={"disk_format": "qcow2", "container_format": "bare", "visibility": "private"},
    )


def create_body(values: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": values["name"],
        "disk_format": values["disk_format"] or "qcow2",
        "container_format": values["container_format"] or "bare",
        "visibility": values["visibility"] or "private",
        "protected": bool(values["protected"]),
    }
    for key in ("min_disk", "min_ram"):
        if values[key]:
            body[key] = number(values[key])
    if values["description"]:
        body["description"] = values["description"]
    return body


def _answer(ctx: Ctx, form: Form, as_json: bool) -> Response:
    if as_json:  # the upload script shows the messages beside the fields itself
        return JSONResponse({"errors": form.errors, "error": form.error}, status_code=400)
    return form.render(ctx, script="images", template="project/image_create.html")


@page()
async def create(ctx: Ctx) -> Response:
    """The image's record; its data follows from the browser (``data``), with progress."""
    form = create_form(ctx)
    if ctx.request.method == "GET":
        return form.render(ctx, script="images", template="project/image_create.html")
    as_json = "application/json" in ctx.request.headers.get("accept", "")
    values = await form.read(ctx)
    if form.errors:
        return _answer(ctx, form, as_json)
    try:
        made = await ctx.api.post("image", "/v2/images", create_body(values))
    except APIError as err:
        form.refused(err)
        return _answer(ctx, form, as_json)
    if as_json:
        upload = ctx.url(f"/project/images/{made['id']}/data/")
        done = ctx.url(f"/project/images/{made['id']}/")
        return JSONResponse({"id": made["id"], "upload": upload, "done": done}, status_code=201)
    ctx.flash("info", f'Created image "{made["name"]}" without data.')
    return ctx.redirect(f"/project/images/{made['id']}/")


@page()
async def data(ctx: Ctx) -> Response:
    """PUT: the image's file, passed on to Glance as it arrives: never held in memory."""
    image_id = ctx.request.path_params["image_id"]
    headers = {"content-type": "application/octet-stream"}
    length = ctx.request.headers.get("content-length")
    if length:
        headers["x-openstack-image-size"] = length
    try:
        await ctx.api.request(
            "PUT",
            "image",
            f"/v2/images/{image_id}/file",
            content=ctx.request.stream(),
            headers=headers,
        )
    except APIError as err:
        ctx.flash("error", f"Unable to upload the image: {err.message}")
        return JSONResponse({"error": err.message}, status_code=err.status)
    image = await ctx.api.get("image", f"/v2/images/{image_id}")
    ctx.flash("success", f'Uploaded image "{image.get("name") or image_id}".')
    return JSONResponse({"id": image_id, "status": image["status"]})


CORE = {
    "id", "name", "status", "visibility", "protected", "checksum", "os_hash_algo",
    "os_hash_value", "owner", "size", "virtual_size", "min_disk", "min_ram", "disk_format",
    "container_format", "created_at", "updated_at", "tags", "self", "file", "schema",
    "os_hidden", "locations", "direct_url", "stores",
}  # fmt: skip


@page()
async def detail(ctx: Ctx) -> Response:
    image_id = ctx.request.path_params["image_id"]
    image = await ctx.api.get("image", f"/v2/images/{image_id}")
    mine = image.get("owner") == ctx.user.project_id
    members: list[dict[str, Any]] = []
    if mine and image.get("visibility") == "shared":
        members = (await ctx.api.get("image", f"/v2/images/{image_id}/members"))["members"]
    custom = {k: v for k, v in image.items() if k not in CORE}
    return ctx.render(
        "project/image_detail.html",
        image=row(image, ctx.user.project_id),
        custom=custom,
        members=members,
    )


@page()
async def delete(ctx: Ctx) -> Response:
    """GET: the confirmation; POST: the deletion (a protected image's refusal shown)."""
    image_id = ctx.request.path_params["image_id"]
    image = await ctx.api.get("image", f"/v2/images/{image_id}")
    name = image.get("name") or image_id
    if ctx.request.method == "GET":
        return confirm(
            ctx,
            "Delete Image",
            f'Delete the image "{name}"? It cannot be undone.',
            "/project/images/",
            action=f"/project/images/{image_id}/delete/",
        )
    try:
        await ctx.api.delete("image", f"/v2/images/{image_id}")
    except APIError as err:
        if err.status == 404:
            raise
        ctx.flash("error", f'Unable to delete image "{name}": {err.message}')
        return ctx.redirect(f"/project/images/{image_id}/")
    ctx.flash("success", f'Deleted image "{name}".')
    return ctx.redirect("/project/images/")


ROUTES = [
    Route("/project/images/", index, methods=["GET"]),
    Route("/project/images/create/", create, methods=["GET", "POST"]),
    Route("/project/images/{image_id}/", detail, methods=["GET"]),
    Route("/project/images/{image_id}/data/", data, methods=["PUT"]),
    Route("/project/images/{image_id}/delete/", delete, methods=["GET", "POST"]),
]
