"""The project's volumes, snapshots and backups (tabs of one page, statuses updating live),
and a volume's create, detail, edit, extend and delete. The other actions on a volume live
in ``volume_actions``."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from onestack.dashboard.client import APIError
from onestack.dashboard.forms import Field, Form, images, named, next_marker, number
from onestack.dashboard.web import Ctx, NotFound, page

# Statuses that change by themselves: a page showing one polls until none is left.
BUSY = {
    "creating", "attaching", "detaching", "deleting", "extending", "downloading",
    "uploading", "backing-up", "restoring", "restoring-backup", "retyping", "reserved",
    "maintenance", "awaiting-transfer",
}  # fmt: skip
TABS = {
    "volumes": ("Volumes", "/volumes/detail", "volumes"),
    "snapshots": ("Volume Snapshots", "/snapshots/detail", "snapshots"),
    "backups": ("Volume Backups", "/backups/detail", "backups"),
}
SOURCES = (
    ("blank", "No source, empty volume"),
    ("image", "Image"),
    ("snapshot", "Snapshot"),
    ("volume", "Volume"),
)


def busy(item: dict[str, Any]) -> bool:
    return str(item.get("status", "")) in BUSY and item.get("status") != "awaiting-transfer"


async def one(ctx: Ctx, volume_id: str) -> dict[str, Any]:
    found: dict[str, Any] = (await ctx.api.get("volumev3", f"/volumes/{volume_id}"))["volume"]
    return found


@page()
async def index(ctx: Ctx) -> Response:
    query = ctx.request.query_params
    tab = query.get("tab", "volumes")
    if tab not in TABS:
        raise NotFound("There is no such tab.")
    _title, path, key = TABS[tab]
    found = await ctx.api.get(
        "volumev3", path, limit=ctx.page_size, marker=query.get("marker"), sort="created_at:desc"
    )
    items = found[key]
    for item in items:
        item["busy"] = busy(item)
    values: dict[str, Any] = {
        "tab": tab,
        "tabs": TABS,
        "items": items,
        "next_marker": next_marker(items, found.get(f"{key}_links")),
        "paged": bool(query.get("marker")),
    }
    if query.get("fragment") == "rows":  # the live table's refresh
        return ctx.render(f"project/volume_{tab}_rows.html", **values)
    return ctx.render("project/volumes.html", **values)


async def _choices(ctx: Ctx) -> dict[str, list[tuple[str, str]]]:
    """What a new volume may be made from: the first page of each, in one call per kind."""
    choices, snaps, vols, types, zones = await asyncio.gather(
        images(ctx, 100),
        ctx.api.get("volumev3", "/snapshots", limit=100, status="available"),
        ctx.api.get("volumev3", "/volumes", limit=100, status="available"),
        ctx.api.get("volumev3", "/types"),
        ctx.api.get("volumev3", "/os-availability-zone"),
    )
    return {
        "image_id": [("", "Choose an image"), *choices],
        "snapshot_id": [("", "Choose a snapshot"), *named(snaps["snapshots"])],
        "source_volid": [("", "Choose a volume"), *named(vols["volumes"])],
        "volume_type": [("", "No volume type")]
        + [(t["name"], t["name"]) for t in types["volume_types"]],
        "availability_zone": [("", "Any Availability Zone")]
        + [(z["zoneName"], z["zoneName"]) for z in zones["availabilityZoneInfo"]],
    }


def _create_fields(choices: dict[str, list[tuple[str, str]]]) -> list[Field]:
    def pick(name: str, label: str, *words: str) -> Field:
        return Field(name, label, type="select", options=choices[name], words=words)

    return [
        Field("name", "Volume Name"),
        Field("description", "Description", type="textarea"),
        Field("source", "Volume Source", type="select", options=SOURCES),
        pick("image_id", "Use image as a source", "image"),
        pick("snapshot_id", "Use snapshot as a source", "snapshot"),
        pick("source_volid", "Use a volume as source", "source volume", "volume to clone"),
        pick("volume_type", "Type", "volume type", "volume_type"),
        Field("size", "Size (GiB)", type="number", required=True, words=("gigabytes", "size")),
        pick("availability_zone", "Availability Zone", "availability zone", "zone"),
    ]


def _create_body(values: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {"size": number(values["size"])}
    for key in ("name", "description", "volume_type", "availability_zone"):
        if values.get(key):
            body[key] = values[key]
    source = values.get("source") or "blank"
    for kind, key in (
        ("image", "image_id"),
        ("snapshot", "snapshot_id"),
        ("volume", "source_volid"),
    ):
        if source == kind:
            body["imageRef" if kind == "image" else key] = values.get(key, "")
    return {"volume": body}


@page()
async def create(ctx: Ctx) -> Response:
    form = Form(
        title="Create Volume",
        action=ctx.url("/project/volumes/create/"),
        cancel=ctx.url("/project/volumes/"),
        button="Create Volume",
        fields=_create_fields(await _choices(ctx)),
        values={"size": "1", "source": "blank"},
    )
    query = ctx.request.query_params
    for key in ("image_id", "snapshot_id", "source_volid"):
        if query.get(key):  # "Create Volume" from a snapshot's or an image's row
            form.values[key] = query[key]
            form.values["source"] = {"image_id": "image", "snapshot_id": "snapshot"}.get(
                key, "volume"
            )
    if ctx.request.method == "GET":
        return form.render(ctx, script="volumes")
    values = await form.read(ctx)
    source_key = {"image": "image_id", "snapshot": "snapshot_id", "volume": "source_volid"}
    wanted = source_key.get(values.get("source", ""))
    if wanted and not values.get(wanted):
        form.errors[wanted] = "Choose the source of the volume."
    if form.errors:
        return form.render(ctx, script="volumes")
    try:
        made = (await ctx.api.post("volumev3", "/volumes", _create_body(values)))["volume"]
    except APIError as err:
        form.refused(err)
        return form.render(ctx, script="volumes")
    ctx.flash("success", f'Creating volume "{made.get("name") or made["id"]}".')
    return ctx.redirect("/project/volumes/")


@page()
async def detail(ctx: Ctx) -> Response:
    volume = await one(ctx, ctx.request.path_params["volume_id"])
    live = ctx.request.query_params.get("fragment") == "status"  # the live part's refresh
    template = "project/volume_status.html" if live else "project/volume_detail.html"
    return ctx.render(template, volume=volume, busy=busy(volume))


@page()
async def edit(ctx: Ctx) -> Response:
    volume_id = ctx.request.path_params["volume_id"]
    volume = await one(ctx, volume_id)
    form = Form(
        title="Edit Volume",
        action=ctx.url(f"/project/volumes/{volume_id}/update/"),
        cancel=ctx.url(f"/project/volumes/{volume_id}/"),
        button="Save Changes",
        fields=[Field("name", "Volume Name"), Field("description", "Description", "textarea")],
        values={"name": volume.get("name") or "", "description": volume.get("description") or ""},
    )
    if ctx.request.method == "GET":
        return form.render(ctx)
    values = await form.read(ctx)
    body = {"volume": {"name": values["name"], "description": values["description"]}}
    try:
        await ctx.api.put("volumev3", f"/volumes/{volume_id}", body)
    except APIError as err:
        form.refused(err)
        return form.render(ctx)
    ctx.flash("success", f'Updated volume "{values["name"] or volume_id}".')
    return ctx.redirect(f"/project/volumes/{volume_id}/")


@page()
async def extend(ctx: Ctx) -> Response:
    volume_id = ctx.request.path_params["volume_id"]
    volume = await one(ctx, volume_id)
    form = Form(
        title="Extend Volume",
        action=ctx.url(f"/project/volumes/{volume_id}/extend/"),
        cancel=ctx.url("/project/volumes/"),
        button="Extend Volume",
        fields=[
            Field("new_size", "New Size (GiB)", "number", required=True, words=("size",)),
        ],
        values={"new_size": str(volume["size"] + 1)},
        intro=f'Volume "{volume.get("name") or volume_id}" is {volume["size"]} GiB now.',
    )
    if ctx.request.method == "GET":
        return form.render(ctx)
    values = await form.read(ctx)
    if form.errors:
        return form.render(ctx)
    body = {"os-extend": {"new_size": number(values["new_size"])}}
    try:
        await ctx.api.post("volumev3", f"/volumes/{volume_id}/action", body)
    except APIError as err:
        form.refused(err)
        return form.render(ctx)
    ctx.flash("success", f'Extending volume "{volume.get("name") or volume_id}".')
    return ctx.redirect("/project/volumes/")


@page()
async def delete(ctx: Ctx) -> Response:
    """GET: the confirmation; POST: the deletion."""
    volume_id = ctx.request.path_params["volume_id"]
    volume = await one(ctx, volume_id)
    name = volume.get("name") or volume_id
    if ctx.request.method == "GET":
        return ctx.render(
            "confirm.html",
            title="Delete Volume",
            question=f'Delete the volume "{name}"? It cannot be undone.',
            action=ctx.url(f"/project/volumes/{volume_id}/delete/"),
            cancel=ctx.url("/project/volumes/"),
            button="Delete Volume",
        )
    try:
        await ctx.api.delete("volumev3", f"/volumes/{volume_id}")
    except APIError as err:
        if err.status == 404:
            raise
        ctx.flash("error", f'Unable to delete volume "{name}": {err.message}')
        return ctx.redirect("/project/volumes/")
    ctx.flash("success", f'Scheduled deletion of volume "{name}".')
    return ctx.redirect("/project/volumes/")


ROUTES = [
    Route("/project/volumes/", index, methods=["GET"]),
    Route("/project/volumes/create/", create, methods=["GET", "POST"]),
    Route("/project/volumes/{volume_id}/", detail, methods=["GET"]),
    Route("/project/volumes/{volume_id}/update/", edit, methods=["GET", "POST"]),
    Route("/project/volumes/{volume_id}/extend/", extend, methods=["GET", "POST"]),
    Route("/project/volumes/{volume_id}/delete/", delete, methods=["GET", "POST"]),
]
