"""What is done to one volume besides edit and extend: attachments (through Nova, as
Horizon does), a snapshot, an upload to an image, and transfers to another project."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from onestack.dashboard.client import APIError
from onestack.dashboard.forms import Field, Form, confirm
from onestack.dashboard.pages.volumes import one
from onestack.dashboard.web import Ctx, page

DISK_FORMATS = tuple(
    (f, f.upper() if f != "qcow2" else "QCOW2")
    for f in ("raw", "qcow2", "vdi", "vmdk", "vhd", "vhdx")
)


def _name(volume: dict[str, Any]) -> str:
    return str(volume.get("name") or volume["id"])


@page()
async def attachments(ctx: Ctx) -> Response:
    """The volume's attachments (each with Detach) and a form to attach it to an instance."""
    volume_id = ctx.request.path_params["volume_id"]
    volume = await one(ctx, volume_id)
    servers = (await ctx.api.get("compute", "/servers", limit=100))["servers"]
    form = Form(
        title=f"Manage Volume Attachments: {_name(volume)}",
        action=ctx.url(f"/project/volumes/{volume_id}/attach/"),
        cancel=ctx.url("/project/volumes/"),
        button="Attach Volume",
        fields=[
            Field(
                "instance",
                "Attach to Instance",
                type="select",
                required=True,
                options=[("", "Select an instance")]
                + [(s["id"], s.get("name") or s["id"]) for s in servers],
                words=("server", "instance"),
            ),
            Field("device", "Device Name", help="Optional, e.g. /dev/vdc.", words=("device",)),
        ],
    )
    if ctx.request.method == "POST":
        values = await form.read(ctx)
        if not form.errors:
            body: dict[str, Any] = {"volumeId": volume_id}
            if values["device"]:
                body["device"] = values["device"]
            path = f"/servers/{values['instance']}/os-volume_attachments"
            try:
                await ctx.api.post("compute", path, {"volumeAttachment": body})
            except APIError as err:
                form.refused(err)
            else:
                ctx.flash("success", f'Attaching volume "{_name(volume)}".')
                return ctx.redirect("/project/volumes/")
    names = {s["id"]: s.get("name") or s["id"] for s in servers}
    return ctx.render(
        "project/volume_attachments.html",
        status=400 if form.errors or form.error else 200,
        form=form,
        volume=volume,
        names=names,
    )


@page()
async def detach(ctx: Ctx) -> Response:
    volume_id = ctx.request.path_params["volume_id"]
    server_id = ctx.request.path_params["server_id"]
    volume = await one(ctx, volume_id)
    if ctx.request.method == "GET":
        return confirm(
            ctx,
            "Detach Volume",
            f'Detach the volume "{_name(volume)}" from the instance {server_id}?',
            f"/project/volumes/{volume_id}/attach/",
            action=f"/project/volumes/{volume_id}/detach/{server_id}/",
        )
    try:
        await ctx.api.delete("compute", f"/servers/{server_id}/os-volume_attachments/{volume_id}")
    except APIError as err:
        ctx.flash("error", f'Unable to detach volume "{_name(volume)}": {err.message}')
    else:
        ctx.flash("success", f'Detaching volume "{_name(volume)}".')
    return ctx.redirect("/project/volumes/")


@page()
async def create_snapshot(ctx: Ctx) -> Response:
    volume_id = ctx.request.path_params["volume_id"]
    volume = await one(ctx, volume_id)
    form = Form(
        title="Create Volume Snapshot",
        action=ctx.url(f"/project/volumes/{volume_id}/create_snapshot/"),
        cancel=ctx.url("/project/volumes/"),
        button="Create Volume Snapshot",
        fields=[
            Field("name", "Snapshot Name", required=True),
            Field("description", "Description", "textarea"),
            Field("force", "Snapshot an attached (in-use) volume", "checkbox"),
        ],
        intro=f'Of the volume "{_name(volume)}" ({volume["size"]} GiB).',
    )
    if ctx.request.method == "GET":
        return form.render(ctx)
    values = await form.read(ctx)
    if form.errors:
        return form.render(ctx)
    body = {
        "snapshot": {
            "volume_id": volume_id,
            "name": values["name"],
            "description": values["description"],
            "force": bool(values["force"]),
        }
    }
    try:
        await ctx.api.post("volumev3", "/snapshots", body)
    except APIError as err:
        form.refused(err)
        return form.render(ctx)
    ctx.flash("success", f'Creating volume snapshot "{values["name"]}".')
    return ctx.redirect("/project/volumes/", tab="snapshots")


@page()
async def upload_to_image(ctx: Ctx) -> Response:
    volume_id = ctx.request.path_params["volume_id"]
    volume = await one(ctx, volume_id)
    form = Form(
        title="Upload Volume to Image",
        action=ctx.url(f"/project/volumes/{volume_id}/upload_to_image/"),
        cancel=ctx.url("/project/volumes/"),
        button="Upload",
        fields=[
            Field("image_name", "Image Name", required=True, words=("image name", "name")),
            Field("disk_format", "Disk Format", "select", options=DISK_FORMATS, words=("disk",)),
            Field("force", "Upload an attached (in-use) volume", "checkbox"),
        ],
        values={"disk_format": "raw", "image_name": _name(volume)},
    )
    if ctx.request.method == "GET":
        return form.render(ctx)
    values = await form.read(ctx)
    if form.errors:
        return form.render(ctx)
    body = {
        "os-volume_upload_image": {
            "image_name": values["image_name"],
            "disk_format": values["disk_format"] or "raw",
            "container_format": "bare",
            "force": bool(values["force"]),
        }
    }
    try:
        await ctx.api.post("volumev3", f"/volumes/{volume_id}/action", body)
    except APIError as err:
        form.refused(err)
        return form.render(ctx)
    ctx.flash("success", f'Uploading volume "{_name(volume)}" to image "{values["image_name"]}".')
    return ctx.redirect("/project/volumes/")


@page()
async def create_transfer(ctx: Ctx) -> Response:
    volume_id = ctx.request.path_params["volume_id"]
    volume = await one(ctx, volume_id)
    form = Form(
        title="Create Volume Transfer",
        action=ctx.url(f"/project/volumes/{volume_id}/create_transfer/"),
        cancel=ctx.url("/project/volumes/"),
        button="Create Volume Transfer",
        fields=[Field("name", "Transfer Name", required=True)],
        intro=f'The volume "{_name(volume)}" is given to the project that accepts the transfer.',
    )
    if ctx.request.method == "GET":
        return form.render(ctx)
    values = await form.read(ctx)
    if form.errors:
        return form.render(ctx)
    body = {"transfer": {"volume_id": volume_id, "name": values["name"]}}
    try:
        made = (await ctx.api.post("volumev3", "/volume-transfers", body))["transfer"]
    except APIError as err:
        form.refused(err)
        return form.render(ctx)
    # The authorization key is shown on this answer only: Cinder never shows it again.
    return ctx.render("project/volume_transfer.html", transfer=made, volume=volume)


@page()
async def accept_transfer(ctx: Ctx) -> Response:
    form = Form(
        title="Accept Volume Transfer",
        action=ctx.url("/project/volumes/accept_transfer/"),
        cancel=ctx.url("/project/volumes/"),
        button="Accept Volume Transfer",
        fields=[
            Field("transfer_id", "Transfer ID", required=True, words=("transfer",)),
            Field("auth_key", "Authorization Key", required=True, words=("auth_key", "key")),
        ],
    )
    if ctx.request.method == "GET":
        return form.render(ctx)
    values = await form.read(ctx)
    if form.errors:
        return form.render(ctx)
    path = f"/volume-transfers/{values['transfer_id']}/accept"
    try:
        done = await ctx.api.post("volumev3", path, {"accept": {"auth_key": values["auth_key"]}})
    except APIError as err:
        if err.status == 404:  # a transfer id that is not there: the field's error
            form.errors["transfer_id"] = err.message
        else:
            form.refused(err)
        return form.render(ctx)
    transfer = done["transfer"]
    ctx.flash("success", f'Accepted volume transfer "{transfer.get("name") or transfer["id"]}".')
    return ctx.redirect(f"/project/volumes/{transfer['volume_id']}/")


ROUTES = [
    Route("/project/volumes/accept_transfer/", accept_transfer, methods=["GET", "POST"]),
    Route("/project/volumes/{volume_id}/attach/", attachments, methods=["GET", "POST"]),
    Route("/project/volumes/{volume_id}/detach/{server_id}/", detach, methods=["GET", "POST"]),
    Route(
        "/project/volumes/{volume_id}/create_snapshot/", create_snapshot, methods=["GET", "POST"]
    ),
    Route(
        "/project/volumes/{volume_id}/upload_to_image/", upload_to_image, methods=["GET", "POST"]
    ),
    Route(
        "/project/volumes/{volume_id}/create_transfer/", create_transfer, methods=["GET", "POST"]
    ),
]
