"""A volume's backups (create, restore into a new or an existing volume, delete) and the
deletion of snapshots: the rows of the Volumes page's other tabs."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from onestack.dashboard.client import APIError
from onestack.dashboard.forms import Field, Form
from onestack.dashboard.pages.volumes import one
from onestack.dashboard.web import Ctx, page


@page()
async def create_backup(ctx: Ctx) -> Response:
    volume_id = ctx.request.path_params["volume_id"]
    volume = await one(ctx, volume_id)
    form = Form(
        title="Create Volume Backup",
        action=ctx.url(f"/project/volumes/{volume_id}/create_backup/"),
        cancel=ctx.url("/project/volumes/"),
        button="Create Volume Backup",
        fields=[
            Field("name", "Backup Name", required=True),
            Field("description", "Description", "textarea"),
            Field("container", "Container Name", help="Optional: where the backup is kept."),
            Field("incremental", "Incremental backup", "checkbox"),
            Field("force", "Back up an attached (in-use) volume", "checkbox"),
        ],
        intro=f'Of the volume "{volume.get("name") or volume_id}" ({volume["size"]} GiB).',
    )
    if ctx.request.method == "GET":
        return form.render(ctx)
    values = await form.read(ctx)
    if form.errors:
        return form.render(ctx)
    backup = {
        "volume_id": volume_id,
        "name": values["name"],
        "description": values["description"],
        "incremental": bool(values["incremental"]),
        "force": bool(values["force"]),
    }
    if values["container"]:
        backup["container"] = values["container"]
    try:
        await ctx.api.post("volumev3", "/backups", {"backup": backup})
    except APIError as err:
        form.refused(err)
        return form.render(ctx)
    ctx.flash("success", f'Creating volume backup "{values["name"]}".')
    return ctx.redirect("/project/volumes/", tab="backups")


@page()
async def restore(ctx: Ctx) -> Response:
    backup_id = ctx.request.path_params["backup_id"]
    backup = (await ctx.api.get("volumev3", f"/backups/{backup_id}"))["backup"]
    volumes = await ctx.api.get("volumev3", "/volumes", limit=100, status="available")
    form = Form(
        title="Restore Volume Backup",
        action=ctx.url(f"/project/volumes/backups/{backup_id}/restore/"),
        cancel=ctx.url("/project/volumes/", tab="backups"),
        button="Restore Backup to Volume",
        fields=[
            Field(
                "volume_id",
                "Select Volume",
                type="select",
                options=[("", "Create a New Volume")]
                + [(v["id"], v.get("name") or v["id"]) for v in volumes["volumes"]],
                words=("volume",),
            ),
            Field("name", "New Volume Name", help="For a new volume only."),
        ],
        intro=f'Backup "{backup.get("name") or backup_id}" of {backup["size"]} GiB.',
    )
    if ctx.request.method == "GET":
        return form.render(ctx)
    values = await form.read(ctx)
    body: dict[str, str] = {}
    if values["volume_id"]:
        body["volume_id"] = values["volume_id"]
    elif values["name"]:
        body["name"] = values["name"]
    try:
        done = await ctx.api.post("volumev3", f"/backups/{backup_id}/restore", {"restore": body})
    except APIError as err:
        form.refused(err)
        return form.render(ctx)
    target = done["restore"]
    label = target.get("volume_name") or target["volume_id"]
    ctx.flash("success", f'Restoring backup "{backup.get("name") or backup_id}" to "{label}".')
    return ctx.redirect("/project/volumes/")


async def _delete(ctx: Ctx, kind: str, item_id: str, tab: str) -> Response:
    collection = "snapshots" if kind == "snapshot" else "backups"
    title = "Volume Snapshot" if kind == "snapshot" else "Volume Backup"
    item = (await ctx.api.get("volumev3", f"/{collection}/{item_id}"))[kind]
    name = item.get("name") or item_id
    if ctx.request.method == "GET":
        return ctx.render(
            "confirm.html",
            title=f"Delete {title}",
            question=f'Delete the {title.lower()} "{name}"? It cannot be undone.',
            action=ctx.url(f"/project/volumes/{collection}/{item_id}/delete/"),
            cancel=ctx.url("/project/volumes/", tab=tab),
            button=f"Delete {title}",
        )
    try:
        await ctx.api.delete("volumev3", f"/{collection}/{item_id}")
    except APIError as err:
        ctx.flash("error", f'Unable to delete {title.lower()} "{name}": {err.message}')
    else:
        ctx.flash("success", f'Scheduled deletion of {title.lower()} "{name}".')
    return ctx.redirect("/project/volumes/", tab=tab)


@page()
async def delete_snapshot(ctx: Ctx) -> Response:
    return await _delete(ctx, "snapshot", ctx.request.path_params["snapshot_id"], "snapshots")


@page()
async def delete_backup(ctx: Ctx) -> Response:
    return await _delete(ctx, "backup", ctx.request.path_params["backup_id"], "backups")


ROUTES = [
    Route("/project/volumes/{volume_id}/create_backup/", create_backup, methods=["GET", "POST"]),
    Route("/project/volumes/backups/{backup_id}/restore/", restore, methods=["GET", "POST"]),
    Route("/project/volumes/backups/{backup_id}/delete/", delete_backup, methods=["GET", "POST"]),
    Route(
        "/project/volumes/snapshots/{snapshot_id}/delete/",
        delete_snapshot,
        methods=["GET", "POST"],
    ),
]
