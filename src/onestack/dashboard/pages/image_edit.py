"""An image's properties (name, visibility, minimums, protection, custom properties) and its
sharing: the owner adds a project as a member, the member project accepts or declines."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from onestack.dashboard.client import APIError
from onestack.dashboard.forms import Field, Form, confirm, number
from onestack.dashboard.pages.images import CORE, VISIBILITY_CHOICES
from onestack.dashboard.web import Ctx, page

PATCH = "application/openstack-images-v2.1-json-patch"
EDITABLE = ("name", "visibility", "min_disk", "min_ram", "protected")


def _properties(text: str) -> tuple[dict[str, str], str]:
    """``key=value`` lines: the properties, or why a line is not one."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            return {}, f'"{line.strip()}" is not a key=value line.'
        found[key.strip()] = value.strip()
    return found, ""


def _patch(image: dict[str, Any], values: dict[str, str], props: dict[str, str]) -> list[Any]:
    wanted: dict[str, Any] = {
        "name": values["name"],
        "visibility": values["visibility"],
        "min_disk": number(values["min_disk"] or "0"),
        "min_ram": number(values["min_ram"] or "0"),
        "protected": bool(values["protected"]),
    }
    ops: list[dict[str, Any]] = [
        {"op": "replace", "path": f"/{k}", "value": v}
        for k, v in wanted.items()
        if image.get(k) != v
    ]
    custom = {k: v for k, v in image.items() if k not in CORE}
    for key, value in props.items():
        if custom.get(key) != value:
            op = "replace" if key in custom else "add"
            ops.append({"op": op, "path": f"/{key}", "value": value})
    ops += [{"op": "remove", "path": f"/{k}"} for k in custom if k not in props]
    return ops


def _edit_form(ctx: Ctx, image: dict[str, Any]) -> Form:
    custom = {k: v for k, v in image.items() if k not in CORE}
    return Form(
        title="Edit Image",
        action=ctx.url(f"/project/images/{image['id']}/update/"),
        cancel=ctx.url(f"/project/images/{image['id']}/"),
        button="Update Image",
        fields=[
            Field("name", "Image Name", required=True),
            Field("visibility", "Visibility", "select", options=VISIBILITY_CHOICES),
            Field("min_disk", "Minimum Disk (GB)", "number", words=("min_disk",)),
            Field("min_ram", "Minimum RAM (MB)", "number", words=("min_ram",)),
            Field("protected", "Protected", "checkbox"),
            Field(
                "properties",
                "Custom Properties",
                "textarea",
                help="One key=value a line; a property left out is removed.",
                words=("property", "properties", "attribute"),
            ),
        ],
        values={
            "name": image.get("name") or "",
            "visibility": image.get("visibility", "private"),
            "min_disk": str(image.get("min_disk") or 0),
            "min_ram": str(image.get("min_ram") or 0),
            "protected": "on" if image.get("protected") else "",
            "properties": "\n".join(f"{k}={v}" for k, v in sorted(custom.items())),
        },
    )


@page()
async def edit(ctx: Ctx) -> Response:
    image_id = ctx.request.path_params["image_id"]
    image = await ctx.api.get("image", f"/v2/images/{image_id}")
    form = _edit_form(ctx, image)
    if ctx.request.method == "GET":
        return form.render(ctx)
    values = await form.read(ctx)
    props, problem = _properties(values["properties"])
    if problem:
        form.errors["properties"] = problem
    if form.errors:
        return form.render(ctx)
    ops = _patch(image, values, props)
    try:
        if ops:
            await ctx.api.patch("image", f"/v2/images/{image_id}", ops, content_type=PATCH)
    except APIError as err:
        form.refused(err)
        return form.render(ctx)
    ctx.flash("success", f'Updated image "{values["name"]}".')
    return ctx.redirect(f"/project/images/{image_id}/")


@page()
async def share(ctx: Ctx) -> Response:
    image_id = ctx.request.path_params["image_id"]
    image = await ctx.api.get("image", f"/v2/images/{image_id}")
    form = Form(
        title=f"Share Image: {image.get('name') or image_id}",
        action=ctx.url(f"/project/images/{image_id}/share/"),
        cancel=ctx.url(f"/project/images/{image_id}/"),
        button="Share Image",
        fields=[Field("member", "Project ID", required=True, words=("member", "project"))],
        intro="The project sees the image once it accepts it. Sharing makes a private "
        "image's visibility Shared.",
    )
    if ctx.request.method == "GET":
        return form.render(ctx)
    values = await form.read(ctx)
    if form.errors:
        return form.render(ctx)
    try:
        if image.get("visibility") == "private":
            op = [{"op": "replace", "path": "/visibility", "value": "shared"}]
            await ctx.api.patch("image", f"/v2/images/{image_id}", op, content_type=PATCH)
        await ctx.api.post("image", f"/v2/images/{image_id}/members", {"member": values["member"]})
    except APIError as err:
        form.refused(err)
        return form.render(ctx)
    ctx.flash("success", f'Shared image "{image.get("name") or image_id}" with {values["member"]}.')
    return ctx.redirect(f"/project/images/{image_id}/")


@page()
async def answer(ctx: Ctx) -> Response:
    """POST: this project accepts or declines an image shared with it."""
    image_id = ctx.request.path_params["image_id"]
    choice = str((await ctx.form()).get("status", ""))
    status = {"accept": "accepted", "reject": "rejected"}.get(choice, choice)
    path = f"/v2/images/{image_id}/members/{ctx.user.project_id}"
    try:
        await ctx.api.put("image", path, {"status": status})
    except APIError as err:
        if err.status == 404:
            raise
        ctx.flash("error", f"Unable to answer the image's sharing: {err.message}")
    else:
        ctx.flash("success", f"The image is {status}.")
    return ctx.redirect("/project/images/", visibility="shared")


@page()
async def unshare(ctx: Ctx) -> Response:
    """GET: the confirmation; POST: the project no longer sees the image."""
    image_id = ctx.request.path_params["image_id"]
    member = ctx.request.path_params["member_id"]
    if ctx.request.method == "GET":
        await ctx.api.get("image", f"/v2/images/{image_id}/members/{member}")
        return confirm(
            ctx,
            "Stop Sharing Image",
            f"Stop sharing the image with the project {member}?",
            f"/project/images/{image_id}/",
            "Stop Sharing",
            action=f"/project/images/{image_id}/members/{member}/delete/",
        )
    await ctx.api.delete("image", f"/v2/images/{image_id}/members/{member}")
    ctx.flash("success", f"Stopped sharing the image with {member}.")
    return ctx.redirect(f"/project/images/{image_id}/")


ROUTES = [
    Route("/project/images/{image_id}/update/", edit, methods=["GET", "POST"]),
    Route("/project/images/{image_id}/share/", share, methods=["GET", "POST"]),
    Route("/project/images/{image_id}/member_status/", answer, methods=["POST"]),
    Route(
        "/project/images/{image_id}/members/{member_id}/delete/", unshare, methods=["GET", "POST"]
    ),
]
