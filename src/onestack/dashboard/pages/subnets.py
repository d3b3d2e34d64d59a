"""A network's subnets and ports (create, edit, delete under ``/project/networks/{id}/``)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from onestack.dashboard.client import APIError
from onestack.dashboard.forms import Field, Form, confirm, security_groups
from onestack.dashboard.pages.networks import LIST, SUBNET_FIELDS, subnet_body, subnet_values
from onestack.dashboard.pages.neutron import mine, one
from onestack.dashboard.web import Ctx, NotFound, page

PORT_FIELDS = [
    Field("name"),
    Field("subnet_id", words=("subnet",)),
    Field("ip_address", words=("ip address", "fixed ip", "fixed_ips", "ip_address")),
    Field("admin_state_up", type="checkbox"),
    Field("port_security_enabled", type="checkbox", words=("port security", "port_security")),
    Field("security_groups", multiple=True, words=("security group", "security groups")),
]


async def _network(ctx: Ctx) -> dict[str, Any]:
    network = await one(ctx, "networks", "network", ctx.request.path_params["network_id"])
    mine(ctx, network)
    return network


async def _subnet(ctx: Ctx, network: dict[str, Any]) -> dict[str, Any]:
    subnet = await one(ctx, "subnets", "subnet", ctx.request.path_params["subnet_id"])
    if subnet["network_id"] != network["id"]:
        raise NotFound("The subnet was not found.")
    return subnet


def _subnet_form(values: dict[str, Any] | None = None) -> Form:
    return Form(fields=SUBNET_FIELDS, template="project/subnet_form.html", values=values or {})


@page()
async def subnet_create(ctx: Ctx) -> Response:
    network = await _network(ctx)
    if ctx.request.method == "GET":
        return _subnet_form(subnet_values()).render(ctx, network=network, subnet=None)
    form = _subnet_form()
    form.fill(await ctx.form())
    if not form.require("cidr"):
        return form.render(ctx, network=network, subnet=None)
    body = subnet_body(form) | {"network_id": network["id"], "cidr": form.text("cidr")}
    body["ip_version"] = int(form.text("ip_version") or 4)
    try:
        await ctx.api.post("network", "/v2.0/subnets", {"subnet": body})
    except APIError as exc:
        form.refused(exc)
        return form.render(ctx, network=network, subnet=None)
    ctx.flash("success", f'Created subnet "{form.text("subnet_name") or form.text("cidr")}".')
    return ctx.redirect(f"{LIST}{network['id']}/")


@page()
async def subnet_update(ctx: Ctx) -> Response:
    network = await _network(ctx)
    subnet = await _subnet(ctx, network)
    if ctx.request.method == "GET":
        return _subnet_form(subnet_values(subnet)).render(ctx, network=network, subnet=subnet)
    form = _subnet_form()
    form.fill(await ctx.form())
    form.values |= {"cidr": subnet["cidr"], "ip_version": str(subnet["ip_version"])}
    try:
        await ctx.api.put("network", f"/v2.0/subnets/{subnet['id']}", {"subnet": subnet_body(form)})
    except APIError as exc:
        form.refused(exc)
        return form.render(ctx, network=network, subnet=subnet)
    ctx.flash("success", f'Updated subnet "{form.text("subnet_name") or subnet["cidr"]}".')
    return ctx.redirect(f"{LIST}{network['id']}/")


@page()
async def subnet_delete(ctx: Ctx) -> Response:
    network = await _network(ctx)
    subnet = await _subnet(ctx, network)
    name = subnet.get("name") or subnet["cidr"]
    here = f"{LIST}{network['id']}/"
    if ctx.request.method == "GET":
        return confirm(
            ctx,
            "Delete Subnet",
            f'Delete the subnet "{name}" ({subnet["cidr"]})? It cannot be undone.',
            here,
            action=f"{here}subnets/{subnet['id']}/delete/",
        )
    try:
        await ctx.api.delete("network", f"/v2.0/subnets/{subnet['id']}")
    except APIError as exc:
        ctx.flash("error", f'Unable to delete subnet "{name}": {exc.message}')
        return ctx.redirect(here)
    ctx.flash("success", f'Deleted subnet "{name}".')
    return ctx.redirect(here)


async def _port_choices(ctx: Ctx, network: dict[str, Any]) -> dict[str, Any]:
    subnets = await ctx.api.get(
        "network", "/v2.0/subnets", network_id=network["id"], fields=["id", "name", "cidr"]
    )
    return {
        "subnets": [("", "Any subnet")]
        + [(s["id"], f"{s.get('name') or s['id']} ({s['cidr']})") for s in subnets["subnets"]],
        "groups": await security_groups(ctx),
    }


async def _port_page(
    ctx: Ctx, network: dict[str, Any], form: Form, port: dict[str, Any] | None
) -> Response:
    choices = await _port_choices(ctx, network)
    return form.render(ctx, network=network, port=port, **choices)


def _port_form(values: dict[str, Any] | None = None) -> Form:
    return Form(fields=PORT_FIELDS, template="project/port_form.html", values=values or {})


def _port_body(form: Form) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": form.text("name"),
        "admin_state_up": form.flag("admin_state_up"),
        "port_security_enabled": form.flag("port_security_enabled"),
    }
    # Without port security a port can have no security groups (Neutron refuses both).
    if form.flag("port_security_enabled") or form.values["security_groups"]:
        body["security_groups"] = form.values["security_groups"]
    return body


@page()
async def port_create(ctx: Ctx) -> Response:
    network = await _network(ctx)
    if ctx.request.method == "GET":
        values = {"name": "", "subnet_id": "", "ip_address": "", "admin_state_up": True}
        values |= {"port_security_enabled": True, "security_groups": []}
        return await _port_page(ctx, network, _port_form(values), None)
    form = _port_form()
    form.fill(await ctx.form())
    body = _port_body(form) | {"network_id": network["id"]}
    fixed: dict[str, str] = {}
    if form.text("subnet_id"):
        fixed["subnet_id"] = form.text("subnet_id")
    if form.text("ip_address"):
        fixed["ip_address"] = form.text("ip_address")
    if fixed:
        body["fixed_ips"] = [fixed]
    if not body.get("security_groups") and form.flag("port_security_enabled"):
        body.pop("security_groups", None)  # Neutron's default group
    try:
        port = (await ctx.api.post("network", "/v2.0/ports", {"port": body}))["port"]
    except APIError as exc:
        form.refused(exc)
        return await _port_page(ctx, network, form, None)
    ctx.flash("success", f'Created port "{port.get("name") or port["id"]}".')
    return ctx.redirect(f"{LIST}{network['id']}/")


async def _port(ctx: Ctx, network: dict[str, Any]) -> dict[str, Any]:
    port = await one(ctx, "ports", "port", ctx.request.path_params["port_id"])
    if port["network_id"] != network["id"]:
        raise NotFound("The port was not found.")
    return port


@page()
async def port_update(ctx: Ctx) -> Response:
    network = await _network(ctx)
    port = await _port(ctx, network)
    if ctx.request.method == "GET":
        values = {k: port.get(k) for k in ("admin_state_up", "port_security_enabled")}
        values |= {"name": port.get("name") or "", "subnet_id": "", "ip_address": ""}
        values["security_groups"] = list(port.get("security_groups") or [])
        return await _port_page(ctx, network, _port_form(values), port)
    form = _port_form()
    form.fill(await ctx.form())
    try:
        await ctx.api.put("network", f"/v2.0/ports/{port['id']}", {"port": _port_body(form)})
    except APIError as exc:
        form.refused(exc)
        return await _port_page(ctx, network, form, port)
    ctx.flash("success", f'Updated port "{form.text("name") or port["id"]}".')
    return ctx.redirect(f"{LIST}{network['id']}/")


@page()
async def port_delete(ctx: Ctx) -> Response:
    network = await _network(ctx)
    port = await _port(ctx, network)
    name = port.get("name") or port["id"]
    here = f"{LIST}{network['id']}/"
    if ctx.request.method == "GET":
        return confirm(
            ctx,
            "Delete Port",
            f'Delete the port "{name}"? It cannot be undone.',
            here,
            action=f"{here}ports/{port['id']}/delete/",
        )
    try:
        await ctx.api.delete("network", f"/v2.0/ports/{port['id']}")
    except APIError as exc:
        ctx.flash("error", f'Unable to delete port "{name}": {exc.message}')
        return ctx.redirect(here)
    ctx.flash("success", f'Deleted port "{name}".')
    return ctx.redirect(here)


NET = LIST + "{network_id}/"
ROUTES = [
    Route(NET + "subnets/create/", subnet_create, methods=["GET", "POST"]),
    Route(NET + "subnets/{subnet_id}/update/", subnet_update, methods=["GET", "POST"]),
    Route(NET + "subnets/{subnet_id}/delete/", subnet_delete, methods=["GET", "POST"]),
    Route(NET + "ports/create/", port_create, methods=["GET", "POST"]),
    Route(NET + "ports/{port_id}/update/", port_update, methods=["GET", "POST"]),
    Route(NET + "ports/{port_id}/delete/", port_delete, methods=["GET", "POST"]),
]
