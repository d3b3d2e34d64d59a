"""Admin: volume types — list, create, delete, and each type's extra specs."""

from __future__ import annotations

from urllib.parse import quote

from starlette.responses import Response
from starlette.routing import Route

from onestack.dashboard.client import APIError
from onestack.dashboard.forms import Field, Form, confirm
from onestack.dashboard.web import Ctx, page


@page(admin=True)
async def index(ctx: Ctx) -> Response:
    types = (await ctx.api.get("volumev3", "/types"))["volume_types"]
    return ctx.render("admin/volume_types.html", types=sorted(types, key=lambda t: t["name"]))


@page(admin=True)
async def create(ctx: Ctx) -> Response:
    form = Form(
        title="Create Volume Type",
        action=ctx.url("/admin/volume_types/create/"),
        cancel=ctx.url("/admin/volume_types/"),
        button="Create Volume Type",
        fields=[
            Field("name", "Volume Type Name", required=True, words=("volume type", "name")),
            Field("description", "Description", "textarea"),
            Field("is_public", "Public", "checkbox"),
        ],
        values={"is_public": "on"},
    )
    if ctx.request.method == "GET":
        return form.render(ctx)
    values = await form.read(ctx)
    if form.errors:
        return form.render(ctx)
    body = {
        "volume_type": {
            "name": values["name"],
            "description": values["description"],
            "os-volume-type-access:is_public": bool(values["is_public"]),
        }
    }
    try:
        await ctx.api.post("volumev3", "/types", body)
    except APIError as err:
        form.refused(err)
        return form.render(ctx)
    ctx.flash("success", f'Created volume type "{values["name"]}".')
    return ctx.redirect("/admin/volume_types/")


@page(admin=True)
async def delete(ctx: Ctx) -> Response:
    type_id = ctx.request.path_params["type_id"]
    found = (await ctx.api.get("volumev3", f"/types/{type_id}"))["volume_type"]
    if ctx.request.method == "GET":
        return confirm(
            ctx,
            "Delete Volume Type",
            f'Delete the volume type "{found["name"]}"? It cannot be undone.',
            "/admin/volume_types/",
            action=f"/admin/volume_types/{type_id}/delete/",
        )
    try:
        await ctx.api.delete("volumev3", f"/types/{type_id}")
    except APIError as err:
        ctx.flash("error", f'Unable to delete volume type "{found["name"]}": {err.message}')
    else:
        ctx.flash("success", f'Deleted volume type "{found["name"]}".')
    return ctx.redirect("/admin/volume_types/")


def _spec_form(ctx: Ctx, type_id: str) -> Form:
    return Form(
        title="Create Extra Spec",
        action=ctx.url(f"/admin/volume_types/{type_id}/extras/"),
        cancel=ctx.url("/admin/volume_types/"),
        button="Create Extra Spec",
        fields=[
            Field("key", "Key", required=True, words=("key",)),
            Field("value", "Value", required=True, words=("value",)),
        ],
    )


@page(admin=True)
async def extras(ctx: Ctx) -> Response:
    """The type's extra specs, and (POST) one more."""
    type_id = ctx.request.path_params["type_id"]
    found = (await ctx.api.get("volumev3", f"/types/{type_id}"))["volume_type"]
    form = _spec_form(ctx, type_id)
    if ctx.request.method == "POST":
        values = await form.read(ctx)
        if not form.errors:
            body = {"extra_specs": {values["key"]: values["value"]}}
            try:
                await ctx.api.post("volumev3", f"/types/{type_id}/extra_specs", body)
            except APIError as err:
                form.refused(err)
            else:
                ctx.flash("success", f'Created extra spec "{values["key"]}".')
                return ctx.redirect(f"/admin/volume_types/{type_id}/extras/")
    specs = (await ctx.api.get("volumev3", f"/types/{type_id}/extra_specs"))["extra_specs"]
    return ctx.render(
        "admin/volume_type_extras.html",
        status=400 if form.errors or form.error else 200,
        form=form,
        volume_type=found,
        specs=sorted(specs.items()),
        quote=lambda k: quote(k, safe=""),
    )


@page(admin=True)
async def delete_extra(ctx: Ctx) -> Response:
    type_id = ctx.request.path_params["type_id"]
    key = ctx.request.path_params["key"]
    here = f"/admin/volume_types/{type_id}/extras/"
    if ctx.request.method == "GET":
        await ctx.api.get("volumev3", f"/types/{type_id}/extra_specs/{quote(key, safe='')}")
        return confirm(
            ctx,
            "Delete Extra Spec",
            f'Delete the extra spec "{key}"?',
            here,
            action=f"{here}{quote(key, safe='')}/delete/",
        )
    await ctx.api.delete("volumev3", f"/types/{type_id}/extra_specs/{quote(key, safe='')}")
    ctx.flash("success", f'Deleted extra spec "{key}".')
    return ctx.redirect(here)


ROUTES = [
    Route("/admin/volume_types/", index, methods=["GET"]),
    Route("/admin/volume_types/create/", create, methods=["GET", "POST"]),
    Route("/admin/volume_types/{type_id}/delete/", delete, methods=["GET", "POST"]),
    Route("/admin/volume_types/{type_id}/extras/", extras, methods=["GET", "POST"]),
    Route(
        "/admin/volume_types/{type_id}/extras/{key}/delete/", delete_extra, methods=["GET", "POST"]
    ),
]
