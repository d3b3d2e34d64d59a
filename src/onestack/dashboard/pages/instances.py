"""The project's instances: the list (status updating live, filters, paging) and what is
done to one instance. The launch dialog and the actions live in their own modules."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from onestack.dashboard.web import Ctx, page

# States that change by themselves: a page showing one polls until none is left.
TRANSITIONAL = {"BUILD", "REBOOT", "HARD_REBOOT", "RESIZE", "MIGRATING", "REBUILD", "PASSWORD"}


def addresses(server: dict[str, Any]) -> list[str]:
    return [
        str(a["addr"])
        for net in (server.get("addresses") or {}).values()
        for a in net
        if isinstance(a, dict) and "addr" in a
    ]


def transitional(server: dict[str, Any]) -> bool:
    return server.get("status") in TRANSITIONAL or bool(server.get("OS-EXT-STS:task_state"))


def row(server: dict[str, Any]) -> dict[str, Any]:
    flavor = server.get("flavor") or {}
    image = server.get("image") or {}
    return {
        "id": server["id"],
        "name": server.get("name", ""),
        "image": image.get("id", "") if isinstance(image, dict) else "",
        "addresses": addresses(server),
        "flavor": flavor.get("original_name", flavor.get("id", "")),
        "key_name": server.get("key_name") or "",
        "status": server.get("status", ""),
        "task": server.get("OS-EXT-STS:task_state") or "",
        "power": server.get("OS-EXT-STS:power_state"),
        "created": server.get("created", ""),
        "busy": transitional(server),
        "locked": bool(server.get("locked")),
    }


FILTERS = ("name", "status", "image", "flavor", "ip")


async def _page(ctx: Ctx) -> tuple[list[dict[str, Any]], str]:
    query = ctx.request.query_params
    filters = {k: query[k] for k in FILTERS if query.get(k)}
    found = await ctx.api.get(
        "compute",
        "/servers/detail",
        limit=ctx.page_size,
        marker=query.get("marker"),
        **filters,
    )
    servers = found["servers"]
    more = any(link.get("rel") == "next" for link in found.get("servers_links", []))
    marker = servers[-1]["id"] if servers and more else ""
    return [row(s) for s in servers], marker


@page()
async def index(ctx: Ctx) -> Response:
    rows, marker = await _page(ctx)
    query = ctx.request.query_params
    rows_only = query.get("fragment") == "rows"  # the live table's refresh
    template = "project/instance_rows.html" if rows_only else "project/instances.html"
    return ctx.render(
        template,
        rows=rows,
        next_marker=marker,
        filters={k: query.get(k, "") for k in FILTERS},
        paged=bool(query.get("marker")),
    )


@page()
async def detail(ctx: Ctx) -> Response:
    server_id = ctx.request.path_params["server_id"]
    server = (await ctx.api.get("compute", f"/servers/{server_id}"))["server"]
    return ctx.render("project/instance_detail.html", server=server, row=row(server))


@page()
async def delete(ctx: Ctx) -> Response:
    """GET: the confirmation; POST: the deletion."""
    server_id = ctx.request.path_params["server_id"]
    server = (await ctx.api.get("compute", f"/servers/{server_id}"))["server"]
    if ctx.request.method == "GET":
        return ctx.render(
            "confirm.html",
            title="Delete Instance",
            question=f'Delete the instance "{server["name"]}"? It cannot be undone.',
            action=ctx.url(f"/project/instances/{server_id}/delete/"),
            cancel=ctx.url("/project/instances/"),
            button="Delete Instance",
        )
    await ctx.api.delete("compute", f"/servers/{server_id}")
    ctx.flash("success", f'Scheduled deletion of instance "{server["name"]}".')
    return ctx.redirect("/project/instances/")


ROUTES = [
    Route("/project/instances/", index, methods=["GET"]),
    Route("/project/instances/{server_id}/", detail, methods=["GET"]),
    Route("/project/instances/{server_id}/delete/", delete, methods=["GET", "POST"]),
]
