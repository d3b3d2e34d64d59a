"""The project's instances: the list (status updating live, filters, paging), one
instance's pages (overview, log, action log) and its deletion. The launch dialog
(``instance_launch``), the one-click actions (``instance_actions``) and the actions with a
form of their own (``instance_resize``, ``instance_attach``) live in their own modules."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from onestack.dashboard.client import APIError
from onestack.dashboard.pages.instance_actions import allowed, path_of
from onestack.dashboard.web import Ctx, page

# States that change by themselves: a page showing one polls until none is left.
TRANSITIONAL = {"BUILD", "REBOOT", "HARD_REBOOT", "RESIZE", "MIGRATING", "REBUILD", "PASSWORD"}
STATUSES = (
    "ACTIVE", "BUILD", "SHUTOFF", "PAUSED", "SUSPENDED", "VERIFY_RESIZE", "SHELVED",
    "SHELVED_OFFLOADED", "REBOOT", "HARD_REBOOT", "RESIZE", "REBUILD", "ERROR",
)  # fmt: skip
POWER = {0: "NOSTATE", 1: "Running", 3: "Paused", 4: "Shut Down", 6: "Crashed", 7: "Suspended"}
LOG_LINES = 35


def addresses(server: dict[str, Any]) -> list[str]:
    return [
        str(a["addr"])
        for net in (server.get("addresses") or {}).values()
        for a in net
        if isinstance(a, dict) and "addr" in a
    ]


def transitional(server: dict[str, Any]) -> bool:
    return server.get("status") in TRANSITIONAL or bool(server.get("OS-EXT-STS:task_state"))


def image_id(server: dict[str, Any]) -> str:
    image = server.get("image") or {}
    return str(image.get("id", "")) if isinstance(image, dict) else ""


def row(
    server: dict[str, Any], images: dict[str, str] | None = None, *, is_admin: bool = False
) -> dict[str, Any]:
    flavor = server.get("flavor") or {}
    image = image_id(server)
    return {
        "id": server["id"],
        "name": server.get("name", ""),
        "image": image,
        "image_name": (images or {}).get(image, image) if image else "-",
        "addresses": addresses(server),
        "flavor": flavor.get("original_name", flavor.get("id", "")),
        "key_name": server.get("key_name") or "",
        "status": server.get("status", ""),
        "task": server.get("OS-EXT-STS:task_state") or "",
        "power": POWER.get(server.get("OS-EXT-STS:power_state") or 0, "NOSTATE"),
        "created": server.get("created", ""),
        "busy": transitional(server),
        "locked": bool(server.get("locked")),
        "actions": [
            {
                "name": n,
                "label": a.label,
                "path": path_of(server["id"], n),
                "danger": a.danger,
                "post": a.body is not None and not a.confirm,
            }
            for n, a in allowed(server, is_admin=is_admin)
        ],
    }


async def image_names(ctx: Ctx, ids: set[str]) -> dict[str, str]:
    """The names of the images ``ids`` in one Glance call (an image the user cannot see
    keeps its id)."""
    if not ids:
        return {}
    try:
        found = await ctx.api.get(
            "image", "/v2/images", id="in:" + ",".join(sorted(ids)), limit=len(ids)
        )
    except APIError:
        return {}
    return {str(i["id"]): str(i.get("name") or i["id"]) for i in found.get("images", [])}


FILTERS = ("name", "status", "image", "flavor", "ip")


async def _servers(ctx: Ctx) -> tuple[list[dict[str, Any]], str]:
    """One page of the project's servers and the next page's marker ('' on the last)."""
    query = ctx.request.query_params
    filters = {k: query[k] for k in FILTERS if query.get(k)}
    found = await ctx.api.get(
        "compute",
        "/servers/detail",
        limit=ctx.page_size,
        marker=query.get("marker"),
        **filters,
    )
    servers: list[dict[str, Any]] = found["servers"]
    more = any(link.get("rel") == "next" for link in found.get("servers_links", []))
    return servers, servers[-1]["id"] if servers and more else ""


async def _rows(
    ctx: Ctx, servers: list[dict[str, Any]], known: dict[str, str]
) -> list[dict[str, Any]]:
    """The table's rows; the image names not ``known`` already looked up in one call."""
    missing = {image_id(s) for s in servers} - {""} - known.keys()
    names = {**known, **await image_names(ctx, missing)}
    return [row(s, names, is_admin=ctx.user.is_admin) for s in servers]


async def _choices(ctx: Ctx) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The filters' images and flavors (one call each)."""
    images, flavors = await asyncio.gather(
        ctx.api.get("image", "/v2/images", limit=200, sort="name:asc"),
        ctx.api.get("compute", "/flavors"),
    )
    return images.get("images", []), flavors.get("flavors", [])


@page()
async def index(ctx: Ctx) -> Response:
    query = ctx.request.query_params
    filters = {k: query.get(k, "") for k in FILTERS}
    if query.get("fragment") == "rows":  # the live table's refresh
        servers, _ = await _servers(ctx)
        return ctx.render("project/instance_rows.html", rows=await _rows(ctx, servers, {}))
    # The filters' image list names most rows' images: the page and it are asked at once.
    (servers, marker), (images, flavors) = await asyncio.gather(_servers(ctx), _choices(ctx))
    known = {str(i["id"]): str(i.get("name") or i["id"]) for i in images}
    return ctx.render(
        "project/instances.html",
        rows=await _rows(ctx, servers, known),
        next_url=ctx.url("/project/instances/", marker=marker, **filters) if marker else "",
        first_url=ctx.url("/project/instances/", **filters),
        filters=filters,
        statuses=STATUSES,
        images=images,
        flavors=flavors,
        paged=bool(query.get("marker")),
    )


async def _server(ctx: Ctx) -> dict[str, Any]:
    server_id = ctx.request.path_params["server_id"]
    found: dict[str, Any] = (await ctx.api.get("compute", f"/servers/{server_id}"))["server"]
    return found


async def _volumes(ctx: Ctx, server: dict[str, Any]) -> list[dict[str, str]]:
    """The attached volumes with their names and devices (one call for the attachments,
    one per volume for its name: an instance has a few)."""
    found = await ctx.api.get("compute", f"/servers/{server['id']}/os-volume_attachments")
    attached = found.get("volumeAttachments", [])

    async def name(volume_id: str) -> str:
        try:
            vol = (await ctx.api.get("volumev3", f"/volumes/{volume_id}"))["volume"]
        except APIError:
            return volume_id
        return str(vol.get("name") or volume_id)

    names = await asyncio.gather(*(name(a["volumeId"]) for a in attached[:20]))
    return [
        {"id": a["volumeId"], "name": n, "device": a.get("device") or ""}
        for a, n in zip(attached, names, strict=False)
    ]


async def _image_of(ctx: Ctx, server: dict[str, Any]) -> dict[str, str]:
    image = image_id(server)
    if not image:
        return {}
    try:
        found = await ctx.api.get("image", f"/v2/images/{image}")
    except APIError:
        return {"id": image, "name": image}
    return {"id": image, "name": str(found.get("name") or image)}


def _tab(ctx: Ctx, server: dict[str, Any], tab: str, **values: Any) -> Response:
    return ctx.render(
        f"project/instance_{tab}.html",
        server=server,
        row=row(server, is_admin=ctx.user.is_admin),
        tab=tab,
        **values,
    )


def _live(server: dict[str, Any]) -> dict[str, Any]:
    """What the live parts of the instance's pages show (``_instance_live.html``)."""
    return {
        "networks": server.get("addresses") or {},
        "fault": (server.get("fault") or {}).get("message", ""),
    }


@page()
async def detail(ctx: Ctx) -> Response:
    server = await _server(ctx)
    if ctx.request.query_params.get("fragment") == "status":  # the live parts' refresh
        return _tab(ctx, server, "status", **_live(server))
    volumes, image = await asyncio.gather(_volumes(ctx, server), _image_of(ctx, server))
    groups = sorted({str(g.get("name", "")) for g in server.get("security_groups") or []})
    return _tab(
        ctx,
        server,
        "detail",
        volumes=volumes,
        image=image,
        groups=groups,
        flavor=server.get("flavor") or {},
        **_live(server),
    )


@page()
async def log(ctx: Ctx) -> Response:
    """The console output: its last ``length`` lines (every line when ``length`` is 0)."""
    server = await _server(ctx)
    raw = ctx.request.query_params.get("length", str(LOG_LINES))
    length = int(raw) if raw.isdigit() else LOG_LINES
    body: dict[str, Any] = {"os-getConsoleOutput": {"length": length} if length else {}}
    try:
        found = await ctx.api.post("compute", f"/servers/{server['id']}/action", body)
        output, problem = str((found or {}).get("output", "")), ""
    except APIError as exc:
        if exc.status in (403, 404) and exc.message.startswith("Instance"):
            raise
        output, problem = "", exc.message
    return _tab(ctx, server, "log", output=output, problem=problem, length=length)


@page()
async def action_log(ctx: Ctx) -> Response:
    server = await _server(ctx)
    found = await ctx.api.get("compute", f"/servers/{server['id']}/os-instance-actions")
    actions = found.get("instanceActions", [])
    return _tab(ctx, server, "action_log", actions=actions)


@page()
async def delete(ctx: Ctx) -> Response:
    """GET: the confirmation; POST: the deletion."""
    server = await _server(ctx)
    server_id = server["id"]
    if ctx.request.method == "GET":
        return ctx.render(
            "confirm.html",
            title="Delete Instance",
            question=f'Delete the instance "{server["name"]}"? It cannot be undone.',
            action=ctx.url(f"/project/instances/{server_id}/delete/"),
            cancel=ctx.url("/project/instances/"),
            button="Delete Instance",
        )
    try:
        await ctx.api.delete("compute", f"/servers/{server_id}")
    except APIError as exc:
        if exc.status == 404:
            raise
        ctx.flash("error", f'Unable to delete instance "{server["name"]}": {exc.message}')
    else:
        ctx.flash("success", f'Scheduled deletion of instance "{server["name"]}".')
    return ctx.redirect("/project/instances/")


ROUTES = [
    Route("/project/instances/", index, methods=["GET"]),
    Route("/project/instances/{server_id}/", detail, methods=["GET"]),
    Route("/project/instances/{server_id}/log/", log, methods=["GET"]),
    Route("/project/instances/{server_id}/action_log/", action_log, methods=["GET"]),
    Route("/project/instances/{server_id}/delete/", delete, methods=["GET", "POST"]),
]
