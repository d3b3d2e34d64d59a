"""The project's networks (Horizon's ``/project/networks/``): the list (the project's own,
shared and external ones, paged), create with a first subnet, the detail with its subnets
and ports, edit and delete. Subnets and ports live in ``subnets.py``."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from onestack.dashboard.client import APIError
from onestack.dashboard.pages import netforms
from onestack.dashboard.pages.netforms import Form
from onestack.dashboard.web import Ctx, page

LIST = "/project/networks/"
SUBNET_TEXTS = (
    "subnet_name",
    "cidr",
    "ip_version",
    "gateway_ip",
    "allocation_pools",
    "dns_nameservers",
)
SUBNET_FLAGS = ("no_gateway", "enable_dhcp")
# Words in Neutron's refusals that point at a field of the subnet form.
SUBNET_ALIASES: dict[str, tuple[str, ...]] = {
    "allocation_pools": ("allocation pool", "allocation_pool", "pool"),
    "gateway_ip": ("gateway", "gateway ip"),
    "dns_nameservers": ("dns", "nameserver", "dns_nameserver"),
    "cidr": ("ip subnet", "subnet cidr", "prefix"),
    "ip_version": ("ip version",),
    "subnet_name": (),
}
NETWORK_ALIASES: dict[str, tuple[str, ...]] = {"name": (), "shared": ()}


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
        body["allocation_pools"] = netforms.pools(form.text("allocation_pools"))
    body["dns_nameservers"] = netforms.lines(form.text("dns_nameservers"))
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
    return rows, netforms.next_marker(found, "networks")


@page()
async def index(ctx: Ctx) -> Response:
    rows, marker = await _rows(ctx)
    return ctx.render(
        "project/networks.html",
        rows=rows,
        next_marker=marker,
        paged=bool(ctx.request.query_params.get("marker")),
    )


def _create_page(ctx: Ctx, form: Form, status: int = 200) -> Response:
    return ctx.render("project/network_create.html", status=status, form=form)


@page()
async def create(ctx: Ctx) -> Response:
    if ctx.request.method == "GET":
        values = {"name": "", "admin_state_up": True, "shared": False, "with_subnet": True}
        return _create_page(ctx, Form({**values, **subnet_values()}))
    texts = ("name", *SUBNET_TEXTS)
    flags = ("admin_state_up", "shared", "with_subnet", *SUBNET_FLAGS)
    form = netforms.read(await ctx.form(), texts, flags)
    if form.flag("with_subnet") and not form.require("cidr"):
        return _create_page(ctx, form, 400)
    body: dict[str, Any] = {
        "name": form.text("name"),
        "admin_state_up": form.flag("admin_state_up"),
    }
    if ctx.user.is_admin:
        body["shared"] = form.flag("shared")
    try:
        network = (await ctx.api.post("network", "/v2.0/networks", {"network": body}))["network"]
    except APIError as exc:
        form.refused(exc, NETWORK_ALIASES)
        return _create_page(ctx, form, 400)
    if form.flag("with_subnet"):
        subnet = subnet_body(form)
        subnet |= {"network_id": network["id"], "cidr": form.text("cidr")}
        subnet["ip_version"] = int(form.text("ip_version") or 4)
        try:
            await ctx.api.post("network", "/v2.0/subnets", {"subnet": subnet})
        except APIError as exc:
            # Horizon's way: the network made for a subnet that could not be is removed.
            await ctx.api.delete("network", f"/v2.0/networks/{network['id']}")
            form.refused(exc, SUBNET_ALIASES)
            return _create_page(ctx, form, 400)
    ctx.flash("success", f'Created network "{network["name"] or network["id"]}".')
    return ctx.redirect(f"{LIST}{network['id']}/")


@page()
async def detail(ctx: Ctx) -> Response:
    network_id = ctx.request.path_params["network_id"]
    network = await netforms.one(ctx, "networks", "network", network_id)
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
        next_marker=netforms.next_marker(ports, "ports"),
        paged=bool(marker),
    )


@page()
async def update(ctx: Ctx) -> Response:
    network_id = ctx.request.path_params["network_id"]
    network = await netforms.one(ctx, "networks", "network", network_id)
    netforms.mine(ctx, network)
    if ctx.request.method == "GET":
        values = {k: network.get(k) for k in ("name", "admin_state_up", "shared")}
        form = Form({**values, "name": network.get("name") or ""})
        return ctx.render("project/network_update.html", network=network, form=form)
    form = netforms.read(await ctx.form(), ("name",), ("admin_state_up", "shared"))
    body: dict[str, Any] = {
        "name": form.text("name"),
        "admin_state_up": form.flag("admin_state_up"),
    }
    if ctx.user.is_admin:
        body["shared"] = form.flag("shared")
    try:
        await ctx.api.put("network", f"/v2.0/networks/{network_id}", {"network": body})
    except APIError as exc:
        form.refused(exc, NETWORK_ALIASES)
        return ctx.render("project/network_update.html", 400, network=network, form=form)
    ctx.flash("success", f'Updated network "{form.text("name") or network_id}".')
    return ctx.redirect(f"{LIST}{network_id}/")


@page()
async def delete(ctx: Ctx) -> Response:
    network_id = ctx.request.path_params["network_id"]
    network = await netforms.one(ctx, "networks", "network", network_id)
    netforms.mine(ctx, network)
    name = network.get("name") or network_id
    if ctx.request.method == "GET":
        return netforms.confirm(
            ctx,
            "Delete Network",
            f'Delete the network "{name}" and its subnets? It cannot be undone.',
            f"{LIST}{network_id}/delete/",
            LIST,
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
