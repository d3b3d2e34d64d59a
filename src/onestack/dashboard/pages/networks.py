"""The project's networks (Horizon's ``/project/networks/``): the list (the project's own,
shared and external ones, paged), create with a first subnet, the detail with its subnets
and ports, edit and delete. Subnets and ports live in ``subnets.py``."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from onestack.dashboard.client import APIError
from onestack.dashboard.forms import Field, Form, confirm, lines, next_marker, pools
from onestack.dashboard.pages.neutron import mine, one
from onestack.dashboard.web import Ctx, page

LIST = "/project/networks/"
# The subnet form's fields, with the words of Neutron's refusals that point at them.
SUBNET_FIELDS = [
    Field("subnet_name"),
    Field("cidr", words=("ip subnet", "subnet cidr", "prefix")),
    Field("ip_version", words=("ip version",)),
    Field("gateway_ip", words=("gateway", "gateway ip")),
    Field("allocation_pools", words=("allocation pool", "allocation_pool", "pool")),
    Field("dns_nameservers", words=("dns", "nameserver", "dns_nameserver")),
    Field("no_gateway", type="checkbox"),
    Field("enable_dhcp", type="checkbox"),
]
SUBNET_NAMED = [f.name for f in SUBNET_FIELDS if f.type != "checkbox"]
NETWORK_FIELDS = [
    Field("name"),
    Field("admin_state_up", type="checkbox"),
    Field("shared", type="checkbox"),
]


def subnet_body(form: Form) -> dict[str, Any]:
    """The subnet members the form sets (create; an update leaves out what cannot change)."""
    body: dict[str, Any] = {
        "name": form.text("subnet_name"),
        "enable_dhcp": form.flag("enable_dhcp"),
    }
    if form.flag("no_gateway"):
        body["gateway_ip"] = None
    elif form.text("gateway_ip"):
        body["gateway_ip"] = form.text("gateway_ip")
    if form.text("allocation_pools"):
        body["allocation_pools"] = pools(form.text("allocation_pools"))
    body["dns_nameservers"] = lines(form.text("dns_nameservers"))
    return body


def subnet_values(subnet: dict[str, Any] | None = None) -> dict[str, Any]:
    if subnet is None:
        return {
            "subnet_name": "",
            "cidr": "",
            "ip_version": "4",
            "gateway_ip": "",
            "allocation_pools": "",
            "dns_nameservers": "",
            "no_gateway": False,
            "enable_dhcp": True,
        }
    return {
        "subnet_name": subnet.get("name") or "",
        "cidr": subnet.get("cidr") or "",
        "ip_version": str(subnet.get("ip_version", 4)),
        "gateway_ip": subnet.get("gateway_ip") or "",
        "allocation_pools": "\n".join(
            f"{p['start']},{p['end']}" for p in subnet.get("allocation_pools") or []
        ),
        "dns_nameservers": "\n".join(subnet.get("dns_nameservers") or []),
        "no_gateway": subnet.get("gateway_ip") is None,
        "enable_dhcp": bool(subnet.get("enable_dhcp")),
    }


async def _rows(ctx: Ctx) -> tuple[list[dict[str, Any]], str]:
    found = await ctx.api.get(
        "network",
        "/v2.0/networks",
        limit=ctx.page_size,
        marker=ctx.request.query_params.get("marker"),
    )
    networks = found["networks"]
    subnet_ids = [s for n in networks for s in n.get("subnets") or []]
    subnets: dict[str, dict[str, Any]] = {}
    if subnet_ids:
        listed = await ctx.api.get(
            "network", "/v2.0/subnets", id=subnet_ids, fields=["id", "name", "cidr"]
        )
        subnets = {s["id"]: s for s in listed["subnets"]}
    rows = []
    for n in networks:
        rows.append(
            {
                **n,
                "subnet_list": [subnets[s] for s in n.get("subnets") or [] if s in subnets],
                "own": n.get("project_id") == ctx.user.project_id,
            }
        )
    return rows, next_marker(found["networks"], found.get("networks_links"))


@page()
async def index(ctx: Ctx) -> Response:
    rows, marker = await _rows(ctx)
    return ctx.render(
        "project/networks.html",
        rows=rows,
        next_marker=marker,
        paged=bool(ctx.request.query_params.get("marker")),
    )


def _create_form(values: dict[str, Any] | None = None) -> Form:
    fields = [*NETWORK_FIELDS, Field("with_subnet", type="checkbox"), *SUBNET_FIELDS]
    return Form(fields=fields, template="project/network_create.html", values=values or {})


@page()
async def create(ctx: Ctx) -> Response:
    if ctx.request.method == "GET":
        values = {"name": "", "admin_state_up": True, "shared": False, "with_subnet": True}
        return _create_form({**values, **subnet_values()}).render(ctx)
    form = _create_form()
    form.fill(await ctx.form())
    if form.flag("with_subnet") and not form.require("cidr"):
        return form.render(ctx)
    body: dict[str, Any] = {
        "name": form.text("name"),
        "admin_state_up": form.flag("admin_state_up"),
    }
    if ctx.user.is_admin:
        body["shared"] = form.flag("shared")
    try:
        network = (await ctx.api.post("network", "/v2.0/networks", {"network": body}))["network"]
    except APIError as exc:
        form.refused(exc, among=("name", "shared"))
        return form.render(ctx)
    if form.flag("with_subnet"):
        subnet = subnet_body(form)
        subnet |= {"network_id": network["id"], "cidr": form.text("cidr")}
        subnet["ip_version"] = int(form.text("ip_version") or 4)
        try:
            await ctx.api.post("network", "/v2.0/subnets", {"subnet": subnet})
        except APIError as exc:
            # Horizon's way: the network made for a subnet that could not be is removed.
            await ctx.api.delete("network", f"/v2.0/networks/{network['id']}")
            form.refused(exc, among=SUBNET_NAMED)
            return form.render(ctx)
    ctx.flash("success", f'Created network "{network["name"] or network["id"]}".')
    return ctx.redirect(f"{LIST}{network['id']}/")


@page()
async def detail(ctx: Ctx) -> Response:
    network_id = ctx.request.path_params["network_id"]
    network = await one(ctx, "networks", "network", network_id)
    subnets = await ctx.api.get("network", "/v2.0/subnets", network_id=network_id, limit=100)
    marker = ctx.request.query_params.get("marker")
    ports = await ctx.api.get(
        "network", "/v2.0/ports", network_id=network_id, limit=ctx.page_size, marker=marker
    )
    return ctx.render(
        "project/network_detail.html",
        network=network,
        own=network.get("project_id") == ctx.user.project_id or ctx.user.is_admin,
        subnets=subnets["subnets"],
        ports=ports["ports"],
        next_marker=next_marker(ports["ports"], ports.get("ports_links")),
        paged=bool(marker),
    )


@page()
async def update(ctx: Ctx) -> Response:
    network_id = ctx.request.path_params["network_id"]
    network = await one(ctx, "networks", "network", network_id)
    mine(ctx, network)
    values = {k: network.get(k) for k in ("admin_state_up", "shared")}
    values["name"] = network.get("name") or ""
    form = Form(fields=NETWORK_FIELDS, template="project/network_update.html", values=values)
    if ctx.request.method == "GET":
        return form.render(ctx, network=network)
    form.fill(await ctx.form())
    body: dict[str, Any] = {
        "name": form.text("name"),
        "admin_state_up": form.flag("admin_state_up"),
    }
    if ctx.user.is_admin:
        body["shared"] = form.flag("shared")
    try:
        await ctx.api.put("network", f"/v2.0/networks/{network_id}", {"network": body})
    except APIError as exc:
        form.refused(exc, among=("name", "shared"))
        return form.render(ctx, network=network)
    ctx.flash("success", f'Updated network "{form.text("name") or network_id}".')
    return ctx.redirect(f"{LIST}{network_id}/")


@page()
async def delete(ctx: Ctx) -> Response:
    network_id = ctx.request.path_params["network_id"]
    network = await one(ctx, "networks", "network", network_id)
    mine(ctx, network)
    name = network.get("name") or network_id
    if ctx.request.method == "GET":
        return confirm(
            ctx,
            "Delete Network",
            f'Delete the network "{name}" and its subnets? It cannot be undone.',
            LIST,
            action=f"{LIST}{network_id}/delete/",
        )
    try:
        await ctx.api.delete("network", f"/v2.0/networks/{network_id}")
    except APIError as exc:
        ctx.flash("error", f'Unable to delete network "{name}": {exc.message}')
        return ctx.redirect(f"{LIST}{network_id}/")
    ctx.flash("success", f'Deleted network "{name}".')
    return ctx.redirect(LIST)


ROUTES = [
    Route(LIST, index, methods=["GET"]),
    Route(f"{LIST}create/", create, methods=["GET", "POST"]),
    Route(LIST + "{network_id}/", detail, methods=["GET"]),
    Route(LIST + "{network_id}/update/", update, methods=["GET", "POST"]),
    Route(LIST + "{network_id}/delete/", delete, methods=["GET", "POST"]),
]
