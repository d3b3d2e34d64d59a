"""Admin → Instances (every project's, live status, delete, migrate and live-migrate),
Volumes (every project's) and Images (every project's, visibility edited)."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from onestack.dashboard.client import APIError
from onestack.dashboard.forms import confirm, next_marker, refusal
from onestack.dashboard.pages.instances import addresses, transitional
from onestack.dashboard.tables import action, cell, row
from onestack.dashboard.web import Ctx, page

INSTANCES = "/admin/instances/"
VOLUMES = "/admin/volumes/"
IMAGES = "/admin/images/"
INSTANCE_FILTERS = (("name", "Name"), ("status", "Status"), ("project_id", "Project ID"),
                    ("host", "Host"))  # fmt: skip
INSTANCE_COLUMNS = ["Project", "Host", "Name", "IP Address", "Flavor", "Status", "Task",
                    "Actions"]  # fmt: skip


async def project_names(ctx: Ctx) -> dict[str, str]:
    """Every project's name by id, in one call (Keystone lists without paging)."""
    found = await ctx.api.get("identity", "/projects")
    return {str(p["id"]): str(p["name"]) for p in found["projects"]}


def _instance_row(ctx: Ctx, s: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    here = f"{INSTANCES}{s['id']}/"
    flavor = s.get("flavor") or {}
    project = str(s.get("tenant_id", ""))
    return row(
        s["id"],
        [
            cell(names.get(project, project)),
            cell(s.get("OS-EXT-SRV-ATTR:host") or ""),
            cell(s.get("name", ""), ctx.url(f"/project/instances/{s['id']}/")
                 if project == ctx.user.project_id else ""),
            cell(", ".join(addresses(s))),
            cell(flavor.get("original_name", flavor.get("id", ""))),
            cell(s.get("status", "")),
            cell(s.get("OS-EXT-STS:task_state") or "None"),
        ],
        [
            action("Live Migrate", ctx.url(f"{here}live_migrate/"), post=True),
            action("Migrate", ctx.url(f"{here}migrate/"), post=True),
            action("Delete Instance", ctx.url(f"{here}delete/"), danger=True),
        ],
        busy=transitional(s),
    )  # fmt: skip


@page(admin=True)
async def instances(ctx: Ctx) -> Response:
    query = ctx.request.query_params
    filters = {k: query[k] for k, _ in INSTANCE_FILTERS if query.get(k)}
    found, names = await asyncio.gather(
        ctx.api.get("compute", "/servers/detail", all_tenants="1", limit=ctx.page_size,
                    marker=query.get("marker"), **filters),
        project_names(ctx),
    )  # fmt: skip
    servers = found["servers"]
    rows = [_instance_row(ctx, s, names) for s in servers]
    if query.get("fragment") == "rows":
        return ctx.render("admin/rows.html", columns=INSTANCE_COLUMNS, rows=rows)
    nxt = next_marker(servers, found.get("servers_links", []), ctx.page_size)
    return ctx.render(
        "admin/list.html",
        title="All Instances",
        buttons=[],
        filters=[(k, label, query.get(k, "")) for k, label in INSTANCE_FILTERS],
        columns=INSTANCE_COLUMNS,
        rows=rows,
        live="rows",
        next_url=ctx.url(INSTANCES, marker=nxt, **filters) if nxt else "",
        paged=bool(query.get("marker")),
        first_url=ctx.url(INSTANCES, **filters),
    )


async def _server(ctx: Ctx) -> tuple[str, dict[str, Any]]:
    sid = ctx.request.path_params["server_id"]
    return sid, (await ctx.api.get("compute", f"/servers/{sid}"))["server"]


async def _server_action(ctx: Ctx, body: dict[str, Any], done: str) -> Response:
    sid, server = await _server(ctx)
    try:
        await ctx.api.post("compute", f"/servers/{sid}/action", body)
    except APIError as exc:
        ctx.flash("error", f'Could not {done} "{server["name"]}": {refusal(exc)}')
    else:
        ctx.flash("success", f'Scheduled {done} of instance "{server["name"]}".')
    return ctx.redirect(INSTANCES)


@page(admin=True)
async def migrate(ctx: Ctx) -> Response:
    return await _server_action(ctx, {"migrate": None}, "migration")


@page(admin=True)
async def live_migrate(ctx: Ctx) -> Response:
    # The scheduler picks the host; with one host Nova's refusal says so.
    body = {"os-migrateLive": {"host": None, "block_migration": "auto"}}
    return await _server_action(ctx, body, "live migration")


@page(admin=True)
async def instance_delete(ctx: Ctx) -> Response:
    sid, server = await _server(ctx)
    if ctx.request.method == "GET":
        question = f'Delete the instance "{server["name"]}"? It cannot be undone.'
        return confirm(ctx, "Delete Instance", question, INSTANCES, "Delete Instance")
    await ctx.api.delete("compute", f"/servers/{sid}")
    ctx.flash("success", f'Scheduled deletion of instance "{server["name"]}".')
    return ctx.redirect(INSTANCES)


def _volume_row(ctx: Ctx, v: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    project = str(v.get("os-vol-tenant-attr:tenant_id", ""))
    attached = ", ".join(str(a.get("server_id", "")) for a in v.get("attachments", []))
    return row(
        v["id"],
        [
            cell(names.get(project, project)),
            cell(v.get("os-vol-host-attr:host") or ""),
            cell(v.get("name") or v["id"]),
            cell(f"{v.get('size', 0)} GiB"),
            cell(v.get("status", "")),
            cell(v.get("volume_type") or ""),
            cell(attached),
            cell("Yes" if str(v.get("bootable")) == "true" else "No"),
        ],
        [action("Delete Volume", ctx.url(f"{VOLUMES}{v['id']}/delete/"), danger=True)],
        busy=str(v.get("status", "")).endswith("ing"),
    )


@page(admin=True)
async def volumes(ctx: Ctx) -> Response:
    query = ctx.request.query_params
    found, names = await asyncio.gather(
        ctx.api.get("volumev3", "/volumes/detail", all_tenants="1", limit=ctx.page_size,
                    marker=query.get("marker"), name=query.get("name")),
        project_names(ctx),
    )  # fmt: skip
    items = found["volumes"]
    columns = ["Project", "Host", "Name", "Size", "Status", "Type", "Attached To", "Bootable",
               "Actions"]  # fmt: skip
    rows = [_volume_row(ctx, v, names) for v in items]
    if query.get("fragment") == "rows":
        return ctx.render("admin/rows.html", columns=columns, rows=rows)
    nxt = next_marker(items, found.get("volumes_links", []), ctx.page_size)
    return ctx.render(
        "admin/list.html",
        title="Volumes",
        buttons=[],
        filters=[("name", "Name", query.get("name", ""))],
        columns=columns,
        rows=rows,
        live="rows",
        next_url=ctx.url(VOLUMES, marker=nxt) if nxt else "",
        paged=bool(query.get("marker")),
        first_url=ctx.url(VOLUMES),
    )


@page(admin=True)
async def volume_delete(ctx: Ctx) -> Response:
    vid = ctx.request.path_params["volume_id"]
    volume = (await ctx.api.get("volumev3", f"/volumes/{vid}"))["volume"]
    label = volume.get("name") or vid
    if ctx.request.method == "GET":
        question = f'Delete the volume "{label}"? It cannot be undone.'
        return confirm(ctx, "Delete Volume", question, VOLUMES, "Delete Volume")
    try:
        await ctx.api.delete("volumev3", f"/volumes/{vid}")
    except APIError as exc:
        ctx.flash("error", f'Could not delete volume "{label}": {refusal(exc)}')
    else:
        ctx.flash("success", f'Scheduled deletion of volume "{label}".')
    return ctx.redirect(VOLUMES)


VISIBILITIES = ("public", "private", "shared", "community")


def _image_row(ctx: Ctx, i: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    owner = str(i.get("owner") or "")
    others = [v for v in VISIBILITIES if v != i.get("visibility")]
    return row(
        i["id"],
        [
            cell(names.get(owner, owner)),
            cell(i.get("name") or i["id"]),
            cell(i.get("status", "")),
            cell(i.get("visibility", "")),
            cell("Yes" if i.get("protected") else "No"),
            cell(i.get("disk_format") or ""),
            cell(i.get("size") or ""),
        ],
        [action(f"Make {v.title()}", ctx.url(f"{IMAGES}{i['id']}/visibility/"), post=True,
                visibility=v) for v in others],
    )  # fmt: skip


@page(admin=True)
async def images(ctx: Ctx) -> Response:
    query = ctx.request.query_params
    found, names = await asyncio.gather(
        ctx.api.get("image", "/v2/images", limit=ctx.page_size, marker=query.get("marker"),
                    name=query.get("name")),
        project_names(ctx),
    )  # fmt: skip
    items = found["images"]
    nxt = items[-1]["id"] if found.get("next") and items else ""
    return ctx.render(
        "admin/list.html",
        title="Images",
        buttons=[],
        filters=[("name", "Name", query.get("name", ""))],
        columns=["Owner", "Name", "Status", "Visibility", "Protected", "Disk Format", "Size",
                 "Actions"],
        rows=[_image_row(ctx, i, names) for i in items],
        next_url=ctx.url(IMAGES, marker=nxt) if nxt else "",
        paged=bool(query.get("marker")),
        first_url=ctx.url(IMAGES),
    )  # fmt: skip


@page(admin=True)
async def image_visibility(ctx: Ctx) -> Response:
    iid = ctx.request.path_params["image_id"]
    wanted = str((await ctx.form()).get("visibility", ""))
    patch = [{"op": "replace", "path": "/visibility", "value": wanted}]
    try:
        await ctx.api.patch(
            "image",
            f"/v2/images/{iid}",
            patch,
            content_type="application/openstack-images-v2.1-json-patch",
        )
    except APIError as exc:
        ctx.flash("error", refusal(exc))
    else:
        ctx.flash("success", f"The image is now {wanted}.")
    return ctx.redirect(IMAGES)  # fmt: skip


ROUTES = [
    Route(INSTANCES, instances, methods=["GET"]),
    Route(INSTANCES + "{server_id}/migrate/", migrate, methods=["POST"]),
    Route(INSTANCES + "{server_id}/live_migrate/", live_migrate, methods=["POST"]),
    Route(INSTANCES + "{server_id}/delete/", instance_delete, methods=["GET", "POST"]),
    Route(VOLUMES, volumes, methods=["GET"]),
    Route(VOLUMES + "{volume_id}/delete/", volume_delete, methods=["GET", "POST"]),
    Route(IMAGES, images, methods=["GET"]),
    Route(IMAGES + "{image_id}/visibility/", image_visibility, methods=["POST"]),
]
