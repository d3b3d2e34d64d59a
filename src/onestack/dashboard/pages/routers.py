"""The project's routers (Horizon's ``/project/routers/``): list, create with an external
gateway, set and clear the gateway, interfaces (a subnet, or a fixed IP on it), static
routes, delete."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from onestack.dashboard.client import APIError
from onestack.dashboard.forms import Field, Form, confirm, external_networks, next_marker
from onestack.dashboard.pages.neutron import mine, names, one
from onestack.dashboard.web import Ctx, NotFound, page

LIST = "/project/routers/"
NAME = Field("name")
GATEWAY = Field("network_id", words=("network",))
INTERFACE = [
    Field("subnet_id", words=("subnet",)),
    Field("ip_address", words=("ip address", "fixed ip", "ip_address")),
]
ROUTE = [Field("destination"), Field("nexthop", words=("next hop",))]


async def _external(ctx: Ctx) -> list[tuple[str, str]]:
    return await external_networks(ctx)


async def _router(ctx: Ctx) -> dict[str, Any]:
    router = await one(ctx, "routers", "router", ctx.request.path_params["router_id"])
    mine(ctx, router)
    return router


def _gateway(router: dict[str, Any]) -> str:
    return str((router.get("external_gateway_info") or {}).get("network_id") or "")


@page()
async def index(ctx: Ctx) -> Response:
    marker = ctx.request.query_params.get("marker")
    found = await ctx.api.get("network", "/v2.0/routers", limit=ctx.page_size, marker=marker)
    routers = found["routers"]
    external = await names(ctx, "networks", (_gateway(r) for r in routers))
    return ctx.render(
        "project/routers.html",
        rows=[{**r, "gateway": external.get(_gateway(r), _gateway(r))} for r in routers],
        next_marker=next_marker(found["routers"], found.get("routers_links")),
        paged=bool(marker),
    )


async def _create_page(ctx: Ctx, form: Form) -> Response:
    networks = [("", "No external network"), *await _external(ctx)]
    return form.render(ctx, networks=networks)


@page()
async def create(ctx: Ctx) -> Response:
    fields = [NAME, GATEWAY, Field("admin_state_up", type="checkbox", value="on")]
    form = Form(fields=fields, template="project/router_create.html")
    if ctx.request.method == "GET":
        return await _create_page(ctx, form)
    form.fill(await ctx.form())
    body: dict[str, Any] = {
        "name": form.text("name"),
        "admin_state_up": form.flag("admin_state_up"),
    }
    if form.text("network_id"):
        body["external_gateway_info"] = {"network_id": form.text("network_id")}
    try:
        router = (await ctx.api.post("network", "/v2.0/routers", {"router": body}))["router"]
    except APIError as exc:
        form.refused(exc, among=("name", "network_id"))
        return await _create_page(ctx, form)
    ctx.flash("success", f'Created router "{router.get("name") or router["id"]}".')
    return ctx.redirect(f"{LIST}{router['id']}/")


@page()
async def detail(ctx: Ctx) -> Response:
    router = await one(ctx, "routers", "router", ctx.request.path_params["router_id"])
    ports = await ctx.api.get("network", "/v2.0/ports", device_id=router["id"], limit=ctx.page_size)
    interfaces = [p for p in ports["ports"] if p.get("device_owner") != "network:router_gateway"]
    subnet_ids = [ip["subnet_id"] for p in interfaces for ip in p.get("fixed_ips") or []]
    gateway = _gateway(router)
    return ctx.render(
        "project/router_detail.html",
        router=router,
        interfaces=interfaces,
        subnet_names=await names(ctx, "subnets", subnet_ids),
        gateway_name=(await names(ctx, "networks", [gateway])).get(gateway, ""),
        own=router.get("project_id") == ctx.user.project_id or ctx.user.is_admin,
    )


async def _update(ctx: Ctx, router: dict[str, Any], body: dict[str, Any]) -> None:
    await ctx.api.put("network", f"/v2.0/routers/{router['id']}", {"router": body})


@page()
async def set_gateway(ctx: Ctx) -> Response:
    router = await _router(ctx)
    networks = await _external(ctx)
    form = Form(fields=[GATEWAY], template="project/router_gateway.html")
    if ctx.request.method == "GET":
        form.values["network_id"] = _gateway(router)
        return form.render(ctx, router=router, networks=networks)
    form.fill(await ctx.form())
    if form.require("network_id"):
        try:
            await _update(
                ctx, router, {"external_gateway_info": {"network_id": form.text("network_id")}}
            )
        except APIError as exc:
            form.refused(exc)
    if form.errors or form.error:
        return form.render(ctx, router=router, networks=networks)
    ctx.flash("success", f'Set the gateway of router "{router.get("name") or router["id"]}".')
    return ctx.redirect(f"{LIST}{router['id']}/")


@page()
async def clear_gateway(ctx: Ctx) -> Response:
    router = await _router(ctx)
    name = router.get("name") or router["id"]
    here = f"{LIST}{router['id']}/"
    if ctx.request.method == "GET":
        return confirm(
            ctx,
            "Clear Gateway",
            f'Clear the gateway of router "{name}"?',
            here,
            action=f"{here}cleargateway/",
        )
    try:
        await _update(ctx, router, {"external_gateway_info": {}})
    except APIError as exc:
        ctx.flash("error", f'Unable to clear the gateway of router "{name}": {exc.message}')
        return ctx.redirect(here)
    ctx.flash("success", f'Cleared the gateway of router "{name}".')
    return ctx.redirect(here)


async def _subnets(ctx: Ctx) -> list[tuple[str, str]]:
    found = await ctx.api.get(
        "network",
        "/v2.0/subnets",
        project_id=ctx.user.project_id,
        fields=["id", "name", "cidr", "network_id"],
        limit=200,
    )
    return [(s["id"], f"{s.get('name') or s['id']} ({s['cidr']})") for s in found["subnets"]]


async def _interface_page(ctx: Ctx, router: dict[str, Any], form: Form) -> Response:
    subnets = [("", "Choose a subnet"), *await _subnets(ctx)]
    return form.render(ctx, router=router, subnets=subnets)


async def _attach(ctx: Ctx, router: dict[str, Any], form: Form) -> None:
    """A subnet at its gateway address, or a port made with the asked address on it."""
    body: dict[str, str] = {"subnet_id": form.text("subnet_id")}
    if form.text("ip_address"):
        subnet = await one(ctx, "subnets", "subnet", form.text("subnet_id"))
        fixed = [{"subnet_id": subnet["id"], "ip_address": form.text("ip_address")}]
        port_body = {"network_id": subnet["network_id"], "fixed_ips": fixed}
        port = (await ctx.api.post("network", "/v2.0/ports", {"port": port_body}))["port"]
        body = {"port_id": port["id"]}
    path = f"/v2.0/routers/{router['id']}/add_router_interface"
    try:
        await ctx.api.put("network", path, body)
    except APIError:
        if "port_id" in body:
            await ctx.api.delete("network", f"/v2.0/ports/{body['port_id']}")
        raise


@page()
async def add_interface(ctx: Ctx) -> Response:
    router = await _router(ctx)
    form = Form(fields=INTERFACE, template="project/router_interface.html")
    if ctx.request.method == "GET":
        return await _interface_page(ctx, router, form)
    form.fill(await ctx.form())
    if not form.require("subnet_id"):
        return await _interface_page(ctx, router, form)
    try:
        await _attach(ctx, router, form)
    except APIError as exc:
        form.refused(exc)
        return await _interface_page(ctx, router, form)
    ctx.flash("success", "Added the interface.")
    return ctx.redirect(f"{LIST}{router['id']}/")


@page()
async def remove_interface(ctx: Ctx) -> Response:
    router = await _router(ctx)
    port = await one(ctx, "ports", "port", ctx.request.path_params["port_id"])
    if port.get("device_id") != router["id"]:
        raise NotFound("The interface was not found.")
    here = f"{LIST}{router['id']}/"
    addresses = ", ".join(ip["ip_address"] for ip in port.get("fixed_ips") or [])
    if ctx.request.method == "GET":
        return confirm(
            ctx,
            "Delete Interface",
            f'Delete the interface {addresses} from router "{router.get("name")}"?',
            here,
            action=f"{here}interfaces/{port['id']}/delete/",
        )
    path = f"/v2.0/routers/{router['id']}/remove_router_interface"
    try:
        await ctx.api.put("network", path, {"port_id": port["id"]})
    except APIError as exc:
        ctx.flash("error", f"Unable to delete the interface: {exc.message}")
        return ctx.redirect(here)
    ctx.flash("success", f"Deleted the interface {addresses}.")
    return ctx.redirect(here)


@page()
async def add_route(ctx: Ctx) -> Response:
    router = await _router(ctx)
    form = Form(fields=ROUTE, template="project/router_route.html")
    if ctx.request.method == "GET":
        return form.render(ctx, router=router)
    form.fill(await ctx.form())
    if form.require("destination", "nexthop"):
        route = {"destination": form.text("destination"), "nexthop": form.text("nexthop")}
        path = f"/v2.0/routers/{router['id']}/add_extraroutes"
        try:
            await ctx.api.put("network", path, {"router": {"routes": [route]}})
        except APIError as exc:
            form.refused(exc)
    if form.errors or form.error:
        return form.render(ctx, router=router)
    ctx.flash("success", f"Added the route to {form.text('destination')}.")
    return ctx.redirect(f"{LIST}{router['id']}/")


@page()
async def remove_route(ctx: Ctx) -> Response:
    router = await _router(ctx)
    query = ctx.request.query_params
    route = {"destination": query.get("destination", ""), "nexthop": query.get("nexthop", "")}
    if route not in (router.get("routes") or []):
        raise NotFound("The route was not found.")
    here = f"{LIST}{router['id']}/"
    if ctx.request.method == "GET":
        return ctx.render(
            "confirm.html",
            title="Delete Static Route",
            question=f"Delete the route to {route['destination']} via {route['nexthop']}?",
            action=ctx.url(f"{here}routes/delete/", **route),
            cancel=ctx.url(here),
            button="Delete Static Route",
        )
    path = f"/v2.0/routers/{router['id']}/remove_extraroutes"
    try:
        await ctx.api.put("network", path, {"router": {"routes": [route]}})
    except APIError as exc:
        ctx.flash("error", f"Unable to delete the route: {exc.message}")
        return ctx.redirect(here)
    ctx.flash("success", f"Deleted the route to {route['destination']}.")
    return ctx.redirect(here)


@page()
async def delete(ctx: Ctx) -> Response:
    router = await _router(ctx)
    name = router.get("name") or router["id"]
    if ctx.request.method == "GET":
        return confirm(
            ctx,
            "Delete Router",
            f'Delete the router "{name}"? It cannot be undone.',
            LIST,
            action=f"{LIST}{router['id']}/delete/",
        )
    try:
        await ctx.api.delete("network", f"/v2.0/routers/{router['id']}")
    except APIError as exc:
        ctx.flash("error", f'Unable to delete router "{name}": {exc.message}')
        return ctx.redirect(f"{LIST}{router['id']}/")
    ctx.flash("success", f'Deleted router "{name}".')
    return ctx.redirect(LIST)


ROUTER = LIST + "{router_id}/"
ROUTES = [
    Route(LIST, index, methods=["GET"]),
    Route(f"{LIST}create/", create, methods=["GET", "POST"]),
    Route(ROUTER, detail, methods=["GET"]),
    Route(ROUTER + "setgateway/", set_gateway, methods=["GET", "POST"]),
    Route(ROUTER + "cleargateway/", clear_gateway, methods=["GET", "POST"]),
    Route(ROUTER + "addinterface/", add_interface, methods=["GET", "POST"]),
    Route(ROUTER + "interfaces/{port_id}/delete/", remove_interface, methods=["GET", "POST"]),
    Route(ROUTER + "addrouterroute/", add_route, methods=["GET", "POST"]),
    Route(ROUTER + "routes/delete/", remove_route, methods=["GET", "POST"]),
    Route(ROUTER + "delete/", delete, methods=["GET", "POST"]),
]
