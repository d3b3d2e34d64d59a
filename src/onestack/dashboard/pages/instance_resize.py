"""The instance actions with a form of their own: resize (a flavor), rebuild (an image),
create snapshot (a name)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from onestack.dashboard.forms import Field, flavors, images
from onestack.dashboard.pages.instance_actions import form_of, label_of, run, server_of
from onestack.dashboard.web import Ctx, page


async def action(ctx: Ctx, server: dict[str, Any], body: dict[str, Any]) -> Any:
    return await ctx.api.post("compute", f"/servers/{server['id']}/action", body)


@page()
async def resize(ctx: Ctx) -> Response:
    server = await server_of(ctx)
    current = (server.get("flavor") or {}).get("original_name", "")
    options = await flavors(ctx, but=current)
    form = form_of(
        ctx,
        server,
        "resize",
        [Field("flavor", "New Flavor", "select", required=True, options=options,
               empty="Select a new flavor")],
        "Resize",
        intro=f"Old flavor: {current}. After the resize, confirm it or revert to the old one.",
    )  # fmt: skip

    async def do(values: dict[str, str]) -> str:
        await action(ctx, server, {"resize": {"flavorRef": values["flavor"]}})
        return f'Resizing instance "{label_of(server)}".'

    return await run(ctx, server, form, do)


@page()
async def rebuild(ctx: Ctx) -> Response:
    server = await server_of(ctx)
    options = await images(ctx, 200, sort="name:asc")
    form = form_of(
        ctx,
        server,
        "rebuild",
        [Field("image", "Select Image", "select", required=True, options=options,
               empty="Select an image")],
        "Rebuild",
        intro="Rebuilding writes the image over the instance's disk: what is on it is lost.",
        danger=True,
    )  # fmt: skip

    async def do(values: dict[str, str]) -> str:
        await action(ctx, server, {"rebuild": {"imageRef": values["image"]}})
        return f'Rebuilding instance "{label_of(server)}".'

    return await run(ctx, server, form, do)


@page()
async def snapshot(ctx: Ctx) -> Response:
    server = await server_of(ctx)
    form = form_of(
        ctx,
        server,
        "snapshot",
        [Field("name", "Snapshot Name", required=True,
               help="The image made of the instance's disk.")],
        "Create Snapshot",
        intro="A snapshot is an image of the running instance's disk, listed with the images.",
    )  # fmt: skip

    async def do(values: dict[str, str]) -> str:
        await action(ctx, server, {"createImage": {"name": values["name"]}})
        return f'Created snapshot "{values["name"]}" of "{label_of(server)}".'

    return await run(ctx, server, form, do)


ROUTES = [
    Route("/project/instances/{server_id}/resize/", resize, methods=["GET", "POST"]),
    Route("/project/instances/{server_id}/rebuild/", rebuild, methods=["GET", "POST"]),
    Route("/project/instances/{server_id}/snapshot/", snapshot, methods=["GET", "POST"]),
]
