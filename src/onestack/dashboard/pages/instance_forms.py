"""The instance actions with a form of their own: resize (a flavor), rebuild (an image),
create snapshot (a name). ``Form`` and ``run`` serve the attach/detach forms too: the form,
its required fields checked, the call, and the API's refusal shown beside the field."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from onestack.dashboard.client import APIError
from onestack.dashboard.pages.instance_actions import ACTIONS, server_of
from onestack.dashboard.web import Ctx, page

LIST = "/project/instances/"


@dataclass
class Field:
    name: str
    label: str
    options: list[tuple[str, str]] = field(default_factory=list)  # (value, text); none: text
    required: bool = True
    help: str = ""
    empty: str = ""  # the placeholder option of a select


@dataclass
class Form:
    """One action's form page. ``intro`` says what it does; ``danger`` marks a disruptive
    one (the form is its confirmation)."""

    action: str
    fields: list[Field]
    button: str
    intro: str = ""
    danger: bool = False


# What an action does once its values are checked: the success message.
Do = Callable[[dict[str, str]], Awaitable[str]]


def render(
    ctx: Ctx,
    server: dict[str, Any],
    form: Form,
    values: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
) -> Response:
    return ctx.render(
        "project/instance_form.html",
        status=status,
        title=ACTIONS[form.action].label,
        server=server,
        form=form,
        values=values,
        errors=errors,
        action=ctx.url(f"/project/instances/{server['id']}/{form.action}/"),
        cancel=ctx.url(LIST),
    )


async def run(ctx: Ctx, server: dict[str, Any], form: Form, do: Do) -> Response:
    """GET: the form; POST: the required fields, then ``do``; back to the list with its
    message, or the form again (400) with the API's words beside the first field."""
    if ctx.request.method == "GET":
        values = {f.name: str(ctx.request.query_params.get(f.name, "")) for f in form.fields}
        return render(ctx, server, form, values, {})
    posted = await ctx.form()
    values = {f.name: str(posted.get(f.name, "")).strip() for f in form.fields}
    errors = {
        f.name: "This field is required." for f in form.fields if f.required and not values[f.name]
    }
    if not errors:
        try:
            message = await do(values)
        except APIError as exc:
            if exc.status >= 500 or (exc.status == 404 and "nstance" in exc.message):
                raise
            errors = {form.fields[0].name if form.fields else "__all__": exc.message}
        else:
            ctx.flash("success", message)
            return ctx.redirect(LIST)
    return render(ctx, server, form, values, errors, 400)


def label_of(server: dict[str, Any]) -> str:
    return str(server.get("name") or server["id"])


async def action(ctx: Ctx, server: dict[str, Any], body: dict[str, Any]) -> Any:
    return await ctx.api.post("compute", f"/servers/{server['id']}/action", body)


@page()
async def resize(ctx: Ctx) -> Response:
    server = await server_of(ctx)
    current = (server.get("flavor") or {}).get("original_name", "")
    flavors = (await ctx.api.get("compute", "/flavors/detail"))["flavors"]
    options = [
        (str(f["id"]), f"{f['name']} ({f['vcpus']} VCPU, {f['ram']} MB RAM, {f['disk']} GB disk)")
        for f in sorted(flavors, key=lambda f: (f.get("ram", 0), f.get("name", "")))
        if f["name"] != current
    ]
    form = Form(
        "resize",
        [Field("flavor", "New Flavor", options, empty="Select a new flavor")],
        "Resize",
        intro=f"Old flavor: {current}. After the resize, confirm it or revert to the old one.",
    )

    async def do(values: dict[str, str]) -> str:
        await action(ctx, server, {"resize": {"flavorRef": values["flavor"]}})
        return f'Resizing instance "{label_of(server)}".'

    return await run(ctx, server, form, do)


@page()
async def rebuild(ctx: Ctx) -> Response:
    server = await server_of(ctx)
    images = await ctx.api.get("image", "/v2/images", limit=200, status="active", sort="name:asc")
    options = [(str(i["id"]), str(i.get("name") or i["id"])) for i in images["images"]]
    form = Form(
        "rebuild",
        [Field("image", "Select Image", options, empty="Select an image")],
        "Rebuild",
        intro="Rebuilding writes the image over the instance's disk: what is on it is lost.",
        danger=True,
    )

    async def do(values: dict[str, str]) -> str:
        await action(ctx, server, {"rebuild": {"imageRef": values["image"]}})
        return f'Rebuilding instance "{label_of(server)}".'

    return await run(ctx, server, form, do)


@page()
async def snapshot(ctx: Ctx) -> Response:
    server = await server_of(ctx)
    form = Form(
        "snapshot",
        [Field("name", "Snapshot Name", help="The image made of the instance's disk.")],
        "Create Snapshot",
        intro="A snapshot is an image of the running instance's disk, listed with the images.",
    )

    async def do(values: dict[str, str]) -> str:
        await action(ctx, server, {"createImage": {"name": values["name"]}})
        return f'Created snapshot "{values["name"]}" of "{label_of(server)}".'

    return await run(ctx, server, form, do)


ROUTES = [
    Route("/project/instances/{server_id}/resize/", resize, methods=["GET", "POST"]),
    Route("/project/instances/{server_id}/rebuild/", rebuild, methods=["GET", "POST"]),
    Route("/project/instances/{server_id}/snapshot/", snapshot, methods=["GET", "POST"]),
]
