"""Admin → Flavors: list, create, edit (Nova's flavors are immutable: as Horizon, the old
one is deleted and a new one made with the same id, its extra specs and access copied),
extra specs, which projects may use a private flavor, delete."""

from __future__ import annotations

import asyncio
from dataclasses import replace
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
from onestack.dashboard.tables import action, cell, row
from onestack.dashboard.web import Ctx, page

BASE = "/admin/flavors/"


def _row(ctx: Ctx, f: dict[str, Any]) -> dict[str, Any]:
    here = f"{BASE}{f['id']}/"
    return row(
        f["id"],
        [
            cell(f["name"]),
            cell(f["vcpus"]),
            cell(f"{f['ram']} MB"),
            cell(f"{f['disk']} GB"),
            cell(f"{f.get('OS-FLV-EXT-DATA:ephemeral', 0)} GB"),
            cell(f"{f.get('swap') or 0} MB"),
            cell(f.get("rxtx_factor", 1.0)),
            cell(f["id"]),
            cell("Yes" if f.get("os-flavor-access:is_public", True) else "No"),
            cell(", ".join(f"{k}={v}" for k, v in sorted((f.get("extra_specs") or {}).items()))),
        ],
        [
            action("Edit Flavor", ctx.url(f"{here}update/")),
            action("Extra Specs", ctx.url(f"{here}extras/")),
            action("Flavor Access", ctx.url(f"{here}access/")),
            action("Delete Flavor", ctx.url(f"{here}delete/"), danger=True),
        ],
    )


@page(admin=True)
async def index(ctx: Ctx) -> Response:
    marker = ctx.request.query_params.get("marker", "")
    found = await ctx.api.get(
        "compute", "/flavors/detail", is_public="None", limit=ctx.page_size, marker=marker
    )
    flavors = found["flavors"]
    nxt = next_marker(flavors, found.get("flavors_links", []), ctx.page_size)
    return ctx.render(
        "admin/list.html",
        title="Flavors",
        buttons=[("Create Flavor", ctx.url(f"{BASE}create/"))],
        filters=[],
        columns=[
            "Flavor Name",
            "VCPUs",
            "RAM",
            "Root Disk",
            "Ephemeral Disk",
            "Swap Disk",
            "RX/TX factor",
            "ID",
            "Public",
            "Metadata",
            "Actions",
        ],
        rows=[_row(ctx, f) for f in flavors],
        next_url=ctx.url(BASE, marker=nxt) if nxt else "",
        paged=bool(marker),
        first_url=ctx.url(BASE),
    )


def _form(ctx: Ctx, title: str, button: str, flavor: dict[str, Any] | None = None) -> Form:
    f = flavor or {}
    fields = [
        Field("name", "Name", value=f.get("name", ""), required=True),
        Field(
            "flavor_id",
            "ID",
            value=f.get("id", "auto"),
            help='"auto" lets the cloud choose a UUID.',
        ),
        Field("vcpus", "VCPUs", "number", str(f.get("vcpus", "")), required=True),
        Field("ram", "RAM (MB)", "number", str(f.get("ram", "")), required=True),
        Field("disk", "Root Disk (GB)", "number", str(f.get("disk", "")), required=True),
        Field(
            "ephemeral", "Ephemeral Disk (GB)", "number", str(f.get("OS-FLV-EXT-DATA:ephemeral", 0))
        ),
        Field("swap", "Swap Disk (MB)", "number", str(f.get("swap") or 0)),
        Field("rxtx_factor", "RX/TX Factor", "text", str(f.get("rxtx_factor", 1))),
        Field(
            "is_public",
            "Public",
            "checkbox",
            "on" if f.get("os-flavor-access:is_public", True) else "",
        ),
    ]
    if flavor is not None:
        # The id stays: the flavor is made again under it.
        fields[1] = replace(fields[1], type="hidden")
    return Form(title=title, fields=fields, button=button, cancel=ctx.url(BASE), template=PANEL)


def _number(value: str) -> Any:
    """An integer when it is one; else the text as typed, for the API to judge in its words."""
    try:
        return int(value)
    except ValueError:
        try:
            return float(value)
        except ValueError:
            return value


def _body(values: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": values["name"],
        "vcpus": _number(values["vcpus"]),
        "ram": _number(values["ram"]),
        "disk": _number(values["disk"]),
        "OS-FLV-EXT-DATA:ephemeral": _number(values.get("ephemeral") or "0"),
        "swap": _number(values.get("swap") or "0"),
        "rxtx_factor": _number(values.get("rxtx_factor") or "1"),
        "os-flavor-access:is_public": checkbox(values, "is_public"),
    }
    if values.get("flavor_id") and values["flavor_id"] != "auto":
        body["id"] = values["flavor_id"]
    return body


@page(admin=True)
async def create(ctx: Ctx) -> Response:
    form = _form(ctx, "Create Flavor", "Create Flavor")
    if ctx.request.method == "GET":
        return form.render(ctx)
    values = await form.read(ctx)
    if form.errors:
        return form.render(ctx)
    try:
        made = await ctx.api.post("compute", "/flavors", {"flavor": _body(values)})
    except (FormError, APIError) as exc:
        form.refused(exc)
        return form.render(ctx)
    ctx.flash("success", f'Created flavor "{made["flavor"]["name"]}".')
    return ctx.redirect(BASE)


async def _flavor(ctx: Ctx) -> tuple[str, dict[str, Any]]:
    flavor_id = ctx.request.path_params["flavor_id"]
    return flavor_id, (await ctx.api.get("compute", f"/flavors/{flavor_id}"))["flavor"]


async def _access(ctx: Ctx, flavor: dict[str, Any]) -> list[str]:
    if flavor.get("os-flavor-access:is_public", True):
        return []
    found = await ctx.api.get("compute", f"/flavors/{flavor['id']}/os-flavor-access")
    return [str(a["tenant_id"]) for a in found["flavor_access"]]


async def _remake(ctx: Ctx, body: dict[str, Any], specs: dict[str, Any], access: list[str]) -> Any:
    made = await ctx.api.post("compute", "/flavors", {"flavor": body})
    path = f"/flavors/{body['id']}"
    if specs:
        await ctx.api.post("compute", f"{path}/os-extra_specs", {"extra_specs": specs})
    if not body["os-flavor-access:is_public"]:
        for project in access:
            grant = {"addTenantAccess": {"tenant": project}}
            await ctx.api.post("compute", f"{path}/action", grant)
    return made


@page(admin=True)
async def update(ctx: Ctx) -> Response:
    flavor_id, flavor = await _flavor(ctx)
    form = _form(ctx, f"Edit Flavor: {flavor['name']}", "Save", flavor)
    if ctx.request.method == "GET":
        return form.render(ctx)
    values = await form.read(ctx)
    if form.errors:
        return form.render(ctx)
    values["flavor_id"] = flavor_id
    specs = flavor.get("extra_specs") or {}
    access = await _access(ctx, flavor)
    try:
        body = _body(values)
        await ctx.api.delete("compute", f"/flavors/{flavor_id}")
        try:
            await _remake(ctx, body, specs, access)
        except APIError:
            # The new values were refused: the flavor as it was comes back.
            await _remake(ctx, _body(_values_of(flavor)), specs, access)
            raise
    except (FormError, APIError) as exc:
        form.refused(exc)
        return form.render(ctx)
    ctx.flash("success", f'Updated flavor "{values["name"]}".')
    return ctx.redirect(BASE)


def _values_of(f: dict[str, Any]) -> dict[str, str]:
    return {
        "name": f["name"],
        "flavor_id": f["id"],
        "vcpus": str(f["vcpus"]),
        "ram": str(f["ram"]),
        "disk": str(f["disk"]),
        "ephemeral": str(f.get("OS-FLV-EXT-DATA:ephemeral", 0)),
        "swap": str(f.get("swap") or 0),
        "rxtx_factor": str(f.get("rxtx_factor", 1)),
        "is_public": "on" if f.get("os-flavor-access:is_public", True) else "",
    }


@page(admin=True)
async def delete(ctx: Ctx) -> Response:
    flavor_id, flavor = await _flavor(ctx)
    if ctx.request.method == "GET":
        question = f'Delete the flavor "{flavor["name"]}"? It cannot be undone.'
        return confirm(ctx, "Delete Flavor", question, BASE, "Delete Flavor")
    await ctx.api.delete("compute", f"/flavors/{flavor_id}")
    ctx.flash("success", f'Deleted flavor "{flavor["name"]}".')
    return ctx.redirect(BASE)


@page(admin=True)
async def extras(ctx: Ctx) -> Response:
    """The flavor's extra specs, and a form adding one (POST)."""
    flavor_id, flavor = await _flavor(ctx)
    path = f"/flavors/{flavor_id}/os-extra_specs"
    error, key, value = "", "", ""
    if ctx.request.method == "POST":
        data = await ctx.form()
        key, value = str(data.get("key", "")).strip(), str(data.get("value", "")).strip()
        try:
            if not key:
                raise FormError("This field is required.", "key")
            await ctx.api.post("compute", path, {"extra_specs": {key: value}})
        except FormError as exc:
            error = exc.message
        except APIError as exc:
            error = refusal(exc)
        if not error:
            ctx.flash("success", f'Set "{key}" on flavor "{flavor["name"]}".')
            return ctx.redirect(f"{BASE}{flavor_id}/extras/")
    specs = (await ctx.api.get("compute", path))["extra_specs"]
    return ctx.render(
        "admin/flavor_extras.html",
        status=400 if error else 200,
        title=f"Flavor Extra Specs: {flavor['name']}",
        flavor=flavor,
        specs=sorted(specs.items()),
        error=error,
        key=key,
        value=value,
    )


@page(admin=True)
async def extra_delete(ctx: Ctx) -> Response:
    flavor_id, flavor = await _flavor(ctx)
    key = ctx.request.path_params["key"]
    back = f"{BASE}{flavor_id}/extras/"
    if ctx.request.method == "GET":
        question = f'Delete the extra spec "{key}" of flavor "{flavor["name"]}"?'
        return confirm(ctx, "Delete Extra Spec", question, back, "Delete Extra Spec")
    await ctx.api.delete("compute", f"/flavors/{flavor_id}/os-extra_specs/{key}")
    ctx.flash("success", f'Deleted extra spec "{key}".')
    return ctx.redirect(back)


async def _projects(ctx: Ctx) -> dict[str, str]:
    found = await ctx.api.get("identity", "/projects")
    return {str(p["id"]): str(p["name"]) for p in found["projects"]}


@page(admin=True)
async def access(ctx: Ctx) -> Response:
    """The projects that may use a private flavor; POST adds or removes one."""
    flavor_id, flavor = await _flavor(ctx)
    error = ""
    if ctx.request.method == "POST":
        data = await ctx.form()
        project = str(data.get("project", ""))
        verb = "removeTenantAccess" if data.get("remove") else "addTenantAccess"
        try:
            body = {verb: {"tenant": project}}
            await ctx.api.post("compute", f"/flavors/{flavor_id}/action", body)
        except APIError as exc:
            error = refusal(exc)
        if not error:
            done = "Removed" if data.get("remove") else "Granted"
            ctx.flash("success", f'{done} access to flavor "{flavor["name"]}".')
            return ctx.redirect(f"{BASE}{flavor_id}/access/")
    granted, projects = await asyncio.gather(_access(ctx, flavor), _projects(ctx))
    return ctx.render(
        "admin/flavor_access.html",
        status=400 if error else 200,
        title=f"Flavor Access: {flavor['name']}",
        flavor=flavor,
        granted=[(p, projects.get(p, p)) for p in granted],
        others=sorted(((n, p) for p, n in projects.items() if p not in granted)),
        error=error,
    )


ROUTES = [
    Route(BASE, index, methods=["GET"]),
    Route(f"{BASE}create/", create, methods=["GET", "POST"]),
    Route(BASE + "{flavor_id}/update/", update, methods=["GET", "POST"]),
    Route(BASE + "{flavor_id}/delete/", delete, methods=["GET", "POST"]),
    Route(BASE + "{flavor_id}/extras/", extras, methods=["GET", "POST"]),
    Route(BASE + "{flavor_id}/extras/{key}/delete/", extra_delete, methods=["GET", "POST"]),
    Route(BASE + "{flavor_id}/access/", access, methods=["GET", "POST"]),
]
