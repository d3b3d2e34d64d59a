"""The project's floating IPs (Horizon's ``/project/floating_ips/``): allocate from an
external pool, associate with an instance's port, disassociate, release."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from onestack.dashboard.client import APIError
from onestack.dashboard.forms import Field, Form, confirm, external_networks, next_marker
from onestack.dashboard.pages.neutron import names, one
from onestack.dashboard.web import Ctx, page

LIST = "/project/floating_ips/"
POOL = Field("pool", words=("network", "floating network", "floating_network_id"))
DESCRIPTION = Field("description")
PORT = Field("port", words=("port", "fixed ip", "fixed_ip_address", "subnet"))


@page()
async def index(ctx: Ctx) -> Response:
    marker = ctx.request.query_params.get("marker")
    found = await ctx.api.get("network", "/v2.0/floatingips", limit=ctx.page_size, marker=marker)
    ips = found["floatingips"]
    pools = await names(ctx, "networks", (f["floating_network_id"] for f in ips))
    ports: dict[str, str] = {}
    port_ids = [f["port_id"] for f in ips if f.get("port_id")]
    if port_ids:
        listed = await ctx.api.get(
            "network", "/v2.0/ports", id=port_ids, fields=["id", "device_id", "device_owner"]
        )
        ports = {
            p["id"]: p["device_id"]
            for p in listed["ports"]
            if str(p.get("device_owner", "")).startswith("compute:")
        }
    rows = [
        {
            **f,
            "pool": pools.get(f["floating_network_id"], ""),
            "server": ports.get(f["port_id"] or ""),
        }
        for f in ips
    ]
    return ctx.render(
        "project/floating_ips.html",
        rows=rows,
        next_marker=next_marker(found["floatingips"], found.get("floatingips_links")),
        paged=bool(marker),
    )


async def _allocate_page(ctx: Ctx, form: Form) -> Response:
    return form.render(ctx, pools=await external_networks(ctx))


@page()
async def allocate(ctx: Ctx) -> Response:
    form = Form(fields=[POOL, DESCRIPTION], template="project/floating_ip_allocate.html")
    if ctx.request.method == "GET":
        return await _allocate_page(ctx, form)
    form.fill(await ctx.form())
    if not form.require("pool"):
        return await _allocate_page(ctx, form)
    body = {"floating_network_id": form.text("pool"), "description": form.text("description")}
    try:
        made = await ctx.api.post("network", "/v2.0/floatingips", {"floatingip": body})
    except APIError as exc:
        form.refused(exc)
        return await _allocate_page(ctx, form)
    ctx.flash("success", f"Allocated floating IP {made['floatingip']['floating_ip_address']}.")
    return ctx.redirect(LIST)


async def _targets(ctx: Ctx) -> list[tuple[str, str]]:
    """The project's instances' ports and addresses (``port_id:ip``), named by instance."""
    servers = await ctx.api.get("compute", "/servers", limit=200)
    names = {s["id"]: s["name"] for s in servers["servers"]}
    if not names:
        return []
    ports = await ctx.api.get(
        "network", "/v2.0/ports", device_id=sorted(names), fields=["id", "device_id", "fixed_ips"]
    )
    out = []
    for port in ports["ports"]:
        for ip in port.get("fixed_ips") or []:
            if ":" in ip["ip_address"]:
                continue  # floating IPs are IPv4
            label = f"{names.get(port['device_id'], port['device_id'])}: {ip['ip_address']}"
            out.append((f"{port['id']}:{ip['ip_address']}", label))
    return sorted(out, key=lambda o: o[1])


async def _associate_page(ctx: Ctx, fip: dict[str, Any], form: Form) -> Response:
    targets = [("", "Select a port"), *await _targets(ctx)]
    return form.render(ctx, fip=fip, targets=targets)


@page()
async def associate(ctx: Ctx) -> Response:
    fip = await one(ctx, "floatingips", "floatingip", ctx.request.query_params.get("ip_id", "-"))
    form = Form(fields=[PORT], template="project/floating_ip_associate.html")
    if ctx.request.method == "GET":
        return await _associate_page(ctx, fip, form)
    form.fill(await ctx.form())
    if not form.require("port"):
        return await _associate_page(ctx, fip, form)
    port_id, _, address = form.text("port").partition(":")
    body = {"port_id": port_id, "fixed_ip_address": address or None}
    try:
        await ctx.api.put("network", f"/v2.0/floatingips/{fip['id']}", {"floatingip": body})
    except APIError as exc:
        form.refused(exc)
        return await _associate_page(ctx, fip, form)
    ctx.flash("success", f"Associated floating IP {fip['floating_ip_address']} with {address}.")
    return ctx.redirect(LIST)


@page()
async def disassociate(ctx: Ctx) -> Response:
    fip = await one(ctx, "floatingips", "floatingip", ctx.request.path_params["fip_id"])
    address = fip["floating_ip_address"]
    if ctx.request.method == "GET":
        return confirm(
            ctx,
            "Disassociate Floating IP",
            f"Disassociate the floating IP {address} from {fip.get('fixed_ip_address')}?",
            LIST,
            action=f"{LIST}{fip['id']}/disassociate/",
        )
    try:
        body = {"floatingip": {"port_id": None}}
        await ctx.api.put("network", f"/v2.0/floatingips/{fip['id']}", body)
    except APIError as exc:
        ctx.flash("error", f"Unable to disassociate floating IP {address}: {exc.message}")
        return ctx.redirect(LIST)
    ctx.flash("success", f"Disassociated floating IP {address}.")
    return ctx.redirect(LIST)


@page()
async def release(ctx: Ctx) -> Response:
    fip = await one(ctx, "floatingips", "floatingip", ctx.request.path_params["fip_id"])
    address = fip["floating_ip_address"]
    if ctx.request.method == "GET":
        return confirm(
            ctx,
            "Release Floating IP",
            f"Release the floating IP {address} back to its pool? It cannot be undone.",
            LIST,
            action=f"{LIST}{fip['id']}/release/",
        )
    try:
        await ctx.api.delete("network", f"/v2.0/floatingips/{fip['id']}")
    except APIError as exc:
        ctx.flash("error", f"Unable to release floating IP {address}: {exc.message}")
        return ctx.redirect(LIST)
    ctx.flash("success", f"Released floating IP {address}.")
    return ctx.redirect(LIST)


ROUTES = [
    Route(LIST, index, methods=["GET"]),
    Route(f"{LIST}allocate/", allocate, methods=["GET", "POST"]),
    Route(f"{LIST}associate/", associate, methods=["GET", "POST"]),
    Route(LIST + "{fip_id}/disassociate/", disassociate, methods=["GET", "POST"]),
    Route(LIST + "{fip_id}/release/", release, methods=["GET", "POST"]),
]
