"""Admin → Networks (every project's; create with a provider network type, physical
network and segmentation id, external, shared; delete), Routers and Floating IPs (every
project's; delete, release)."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from onestack.dashboard.client import APIError
from onestack.dashboard.forms import (
    PANEL,
    Field,
    Form,
    FormError,
    checkbox,
    confirm,
    next_marker,
    refusal,
)
from onestack.dashboard.pages.admin_compute import project_names
from onestack.dashboard.tables import action, cell, row
from onestack.dashboard.web import Ctx, page

NETWORKS = "/admin/networks/"
ROUTERS = "/admin/routers/"
FLOATING_IPS = "/admin/floating_ips/"
NETWORK_TYPES = ("local", "flat", "vlan", "vxlan", "geneve", "gre")


async def _listing(ctx: Ctx, kind: str) -> tuple[list[dict[str, Any]], dict[str, str], str]:
    """One page of a Neutron collection and every project's name (two calls)."""
    marker = ctx.request.query_params.get("marker")
    found, names = await asyncio.gather(
        ctx.api.get("network", f"/v2.0/{kind}", limit=ctx.page_size, marker=marker),
        project_names(ctx),
    )
    items = found[kind]
    return items, names, next_marker(items, found.get(f"{kind}_links"), ctx.page_size)


def _render(ctx: Ctx, base: str, title: str, columns: list[str], rows: list[Any],
            nxt: str, buttons: list[tuple[str, str]] | None = None) -> Response:  # fmt: skip
    return ctx.render(
        "admin/list.html",
        title=title,
        buttons=buttons or [],
        filters=[],
        columns=columns,
        rows=rows,
        next_url=ctx.url(base, marker=nxt) if nxt else "",
        paged=bool(ctx.request.query_params.get("marker")),
        first_url=ctx.url(base),
    )


@page(admin=True)
async def networks(ctx: Ctx) -> Response:
    items, names, nxt = await _listing(ctx, "networks")
    rows = [
        row(
            n["id"],
            [
                cell(names.get(n.get("project_id", ""), n.get("project_id", ""))),
                cell(n.get("name") or n["id"]),
                cell(n.get("provider:network_type") or ""),
                cell(n.get("provider:physical_network") or ""),
                cell(n.get("provider:segmentation_id") or ""),
                cell(len(n.get("subnets", []))),
                cell("Yes" if n.get("shared") else "No"),
                cell("Yes" if n.get("router:external") else "No"),
                cell(n.get("status", "")),
                cell("UP" if n.get("admin_state_up") else "DOWN"),
            ],
            [action("Delete Network", ctx.url(f"{NETWORKS}{n['id']}/delete/"), danger=True)],
        )
        for n in items
    ]
    columns = ["Project", "Network Name", "Network Type", "Physical Network",
               "Segmentation ID", "Subnets", "Shared", "External", "Status", "Admin State",
               "Actions"]  # fmt: skip
    buttons = [("Create Network", ctx.url(f"{NETWORKS}create/"))]
    return _render(ctx, NETWORKS, "Networks", columns, rows, nxt, buttons)


def _network_form(ctx: Ctx, projects: dict[str, str]) -> Form:
    options = sorted(((i, n) for i, n in projects.items()), key=lambda o: o[1])
    return Form(
        title="Create Network",
        fields=[
            Field("name", "Name", required=True),
            Field("project", "Project", "select", ctx.user.project_id, True, options=options),
            Field("network_type", "Provider Network Type", "select", "vxlan",
                  options=[(t, t) for t in NETWORK_TYPES]),
            Field("physical_network", "Physical Network",
                  help="flat and vlan networks: the physical network's name."),
            Field("segmentation_id", "Segmentation ID", "number",
                  help="vlan: the VLAN id; vxlan, geneve, gre: the tunnel id. Empty: chosen."),
            Field("admin_state_up", "Enable Admin State", "checkbox", "on"),
            Field("shared", "Shared", "checkbox"),
            Field("external", "External Network", "checkbox"),
        ],
        button="Create Network",
        cancel=ctx.url(NETWORKS),
        template=PANEL,
    )  # fmt: skip


def _network_body(values: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": values["name"],
        "project_id": values["project"],
        "provider:network_type": values["network_type"],
        "admin_state_up": checkbox(values, "admin_state_up"),
        "shared": checkbox(values, "shared"),
        "router:external": checkbox(values, "external"),
    }
    if values.get("physical_network"):
        body["provider:physical_network"] = values["physical_network"]
    if values.get("segmentation_id"):
        try:
            body["provider:segmentation_id"] = int(values["segmentation_id"])
        except ValueError:
            raise FormError("Enter a whole number.", "segmentation_id") from None
    return body


@page(admin=True)
async def network_create(ctx: Ctx) -> Response:
    form = _network_form(ctx, await project_names(ctx))
    if ctx.request.method == "GET":
        return form.render(ctx)
    values = await form.read(ctx)
    if form.errors:
        return form.render(ctx)
    try:
        made = await ctx.api.post("network", "/v2.0/networks", {"network": _network_body(values)})
    except (FormError, APIError) as exc:
        form.refused(exc)
        return form.render(ctx)
    ctx.flash("success", f'Created network "{made["network"]["name"]}".')
    return ctx.redirect(NETWORKS)


@page(admin=True)
async def routers(ctx: Ctx) -> Response:
    items, names, nxt = await _listing(ctx, "routers")
    rows = []
    for r in items:
        gateway = r.get("external_gateway_info") or {}
        rows.append(
            row(
                r["id"],
                [
                    cell(names.get(r.get("project_id", ""), r.get("project_id", ""))),
                    cell(r.get("name") or r["id"]),
                    cell(r.get("status", "")),
                    cell(gateway.get("network_id", "-")),
                    cell("UP" if r.get("admin_state_up") else "DOWN"),
                ],
                [action("Delete Router", ctx.url(f"{ROUTERS}{r['id']}/delete/"), danger=True)],
            )
        )
    columns = ["Project", "Name", "Status", "External Network", "Admin State", "Actions"]
    return _render(ctx, ROUTERS, "Routers", columns, rows, nxt)


@page(admin=True)
async def floating_ips(ctx: Ctx) -> Response:
    items, names, nxt = await _listing(ctx, "floatingips")
    rows = [
        row(
            f["id"],
            [
                cell(names.get(f.get("project_id", ""), f.get("project_id", ""))),
                cell(f.get("floating_ip_address", "")),
                cell(f.get("fixed_ip_address") or "-"),
                cell(f.get("floating_network_id", "")),
                cell(f.get("status", "")),
            ],
            [action("Release Floating IP", ctx.url(f"{FLOATING_IPS}{f['id']}/delete/"),
                    danger=True)],
        )
        for f in items
    ]  # fmt: skip
    columns = ["Project", "IP Address", "Mapped Fixed IP Address", "Pool", "Status", "Actions"]
    return _render(ctx, FLOATING_IPS, "Floating IPs", columns, rows, nxt)


# kind: (collection, member key, label, the list page)
DELETABLE = {
    "networks": ("networks", "network", "Network", NETWORKS),
    "routers": ("routers", "router", "Router", ROUTERS),
    "floating_ips": ("floatingips", "floatingip", "Floating IP", FLOATING_IPS),
}


@page(admin=True)
async def delete(ctx: Ctx) -> Response:
    kind = ctx.request.url.path.removeprefix(ctx.base).split("/")[2]
    collection, key, label, back = DELETABLE[kind]
    ident = ctx.request.path_params["ident"]
    item = (await ctx.api.get("network", f"/v2.0/{collection}/{ident}"))[key]
    shown = item.get("name") or item.get("floating_ip_address") or ident
    verb = "Release" if key == "floatingip" else "Delete"
    if ctx.request.method == "GET":
        question = f'{verb} the {label.lower()} "{shown}"? It cannot be undone.'
        return confirm(ctx, f"{verb} {label}", question, back, f"{verb} {label}")
    try:
        await ctx.api.delete("network", f"/v2.0/{collection}/{ident}")
    except APIError as exc:
        ctx.flash("error", f'Could not {verb.lower()} "{shown}": {refusal(exc)}')
    else:
        ctx.flash("success", f'{verb}d {label.lower()} "{shown}".')
    return ctx.redirect(back)


ROUTES = [
    Route(NETWORKS, networks, methods=["GET"]),
    Route(f"{NETWORKS}create/", network_create, methods=["GET", "POST"]),
    Route(ROUTERS, routers, methods=["GET"]),
    Route(FLOATING_IPS, floating_ips, methods=["GET"]),
    *(
        Route(f"/admin/{kind}/" + "{ident}/delete/", delete, methods=["GET", "POST"])
        for kind in DELETABLE
    ),
]
