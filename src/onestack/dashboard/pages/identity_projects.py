"""Identity → Projects: list, create, edit, enable/disable, delete, members (users and
their roles on the project) and the project's quotas (compute, volume, network)."""

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
    refusal,
    whole,
)
from onestack.dashboard.pages.admin import COMPUTE_QUOTAS, NETWORK_QUOTAS, VOLUME_QUOTAS
from onestack.dashboard.paging import by_name
from onestack.dashboard.tables import action, cell, row
from onestack.dashboard.web import Ctx, page

BASE = "/identity/"


def _row(ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
    here = f"{BASE}{p['id']}/"
    enabled = bool(p.get("enabled", True))
    return row(
        p["id"],
        [
            cell(p["name"]),
            cell(p.get("description") or ""),
            cell(p["id"]),
            cell(p.get("domain_id", "")),
            cell("Yes" if enabled else "No"),
        ],
        [
            action("Manage Members", ctx.url(f"{here}members/")),
            action("Modify Quotas", ctx.url(f"{here}update_quotas/")),
            action("Edit Project", ctx.url(f"{here}update/")),
            action(
                "Disable Project" if enabled else "Enable Project",
                ctx.url(f"{here}toggle/"),
                post=True,
            ),
            action("Delete Project", ctx.url(f"{here}delete/"), danger=True),
        ],
    )


@page(admin=True)
async def index(ctx: Ctx) -> Response:
    name = ctx.request.query_params.get("name", "")
    found = await ctx.api.get("identity", "/projects", name=name)
    projects, pager = by_name(ctx, found, "projects", BASE, name=name)
    return ctx.render(
        "admin/list.html",
        title="Projects",
        buttons=[("Create Project", ctx.url(f"{BASE}create_project/"))],
        filters=[("name", "Project Name", name)],
        columns=["Name", "Description", "Project ID", "Domain", "Enabled", "Actions"],
        rows=[_row(ctx, p) for p in projects],
        **pager,
    )


def _form(ctx: Ctx, title: str, button: str, p: dict[str, Any] | None = None) -> Form:
    p = p or {}
    return Form(
        title=title,
        fields=[
            Field("name", "Name", value=p.get("name", ""), required=True),
            Field("description", "Description", "textarea", p.get("description") or ""),
            Field("enabled", "Enabled", "checkbox", "on" if p.get("enabled", True) else ""),
        ],
        button=button,
        cancel=ctx.url(BASE),
        template=PANEL,
    )


def _body(values: dict[str, str]) -> dict[str, Any]:
    return {
        "name": values["name"],
        "description": values.get("description", ""),
        "enabled": checkbox(values, "enabled"),
    }


@page(admin=True)
async def create(ctx: Ctx) -> Response:
    form = _form(ctx, "Create Project", "Create Project")
    if ctx.request.method == "GET":
        return form.render(ctx)
    values = await form.read(ctx)
    if form.errors:
        return form.render(ctx)
    try:
        await ctx.api.post("identity", "/projects", {"project": _body(values)})
    except (FormError, APIError) as exc:
        form.refused(exc)
        return form.render(ctx)
    ctx.flash("success", f'Created project "{values["name"]}".')
    return ctx.redirect(BASE)


async def _project(ctx: Ctx) -> tuple[str, dict[str, Any]]:
    pid = ctx.request.path_params["project_id"]
    return pid, (await ctx.api.get("identity", f"/projects/{pid}"))["project"]


@page(admin=True)
async def update(ctx: Ctx) -> Response:
    pid, project = await _project(ctx)
    form = _form(ctx, f"Edit Project: {project['name']}", "Save", project)
    if ctx.request.method == "GET":
        return form.render(ctx)
    values = await form.read(ctx)
    if form.errors:
        return form.render(ctx)
    try:
        body = {"project": _body(values)}
        await ctx.api.patch("identity", f"/projects/{pid}", body)
    except (FormError, APIError) as exc:
        form.refused(exc)
        return form.render(ctx)
    ctx.flash("success", f'Updated project "{values["name"]}".')
    return ctx.redirect(BASE)


@page(admin=True)
async def toggle(ctx: Ctx) -> Response:
    pid, project = await _project(ctx)
    enabled = not project.get("enabled", True)
    try:
        body = {"project": {"enabled": enabled}}
        await ctx.api.patch("identity", f"/projects/{pid}", body)
    except APIError as exc:
        ctx.flash("error", refusal(exc))
        return ctx.redirect(BASE)
    done = "Enabled" if enabled else "Disabled"
    ctx.flash("success", f'{done} project "{project["name"]}".')
    return ctx.redirect(BASE)


@page(admin=True)
async def delete(ctx: Ctx) -> Response:
    pid, project = await _project(ctx)
    if ctx.request.method == "GET":
        question = f'Delete the project "{project["name"]}"? It cannot be undone.'
        return confirm(ctx, "Delete Project", question, BASE, "Delete Project")
    await ctx.api.delete("identity", f"/projects/{pid}")
    ctx.flash("success", f'Deleted project "{project["name"]}".')
    return ctx.redirect(BASE)


async def _names(ctx: Ctx, kind: str) -> list[tuple[str, str]]:
    found = await ctx.api.get("identity", f"/{kind}")
    return sorted((str(x["id"]), str(x["name"])) for x in found[kind])


@page(admin=True)
async def members(ctx: Ctx) -> Response:
    """Who holds which role on the project; POST grants a user a role."""
    pid, project = await _project(ctx)
    error = ""
    if ctx.request.method == "POST":
        data = await ctx.form()
        user, role = str(data.get("user", "")), str(data.get("role", ""))
        try:
            await ctx.api.put("identity", f"/projects/{pid}/users/{user}/roles/{role}")
        except APIError as exc:
            error = refusal(exc)
        if not error:
            ctx.flash("success", f'Updated the members of project "{project["name"]}".')
            return ctx.redirect(f"{BASE}{pid}/members/")
    found, users, roles = await asyncio.gather(
        ctx.api.get("identity", "/role_assignments", **{"scope.project.id": pid,
                                                         "include_names": "true"}),
        _names(ctx, "users"),
        _names(ctx, "roles"),
    )  # fmt: skip
    assignments = [a for a in found["role_assignments"] if "user" in a]
    return ctx.render(
        "identity/members.html",
        status=400 if error else 200,
        title=f"Project Members: {project['name']}",
        project=project,
        assignments=sorted(assignments, key=lambda a: (a["user"]["name"], a["role"]["name"])),
        users=users,
        roles=roles,
        error=error,
    )


@page(admin=True)
async def member_remove(ctx: Ctx) -> Response:
    pid, project = await _project(ctx)
    user, role = ctx.request.path_params["user_id"], ctx.request.path_params["role_id"]
    back = f"{BASE}{pid}/members/"
    path = f"/projects/{pid}/users/{user}/roles/{role}"
    if ctx.request.method == "GET":
        u = (await ctx.api.get("identity", f"/users/{user}"))["user"]
        r = (await ctx.api.get("identity", f"/roles/{role}"))["role"]
        question = f'Remove the role "{r["name"]}" of user "{u["name"]}" on "{project["name"]}"?'
        return confirm(ctx, "Remove Member", question, back, "Remove Role")
    await ctx.api.delete("identity", path)
    ctx.flash("success", "Removed the role from the user.")
    return ctx.redirect(back)


QUOTA_SETS = (
    ("compute", COMPUTE_QUOTAS),
    ("volumev3", VOLUME_QUOTAS),
    ("network", NETWORK_QUOTAS),
)


async def _quotas(ctx: Ctx, pid: str) -> list[dict[str, Any]]:
    compute, volume, network = await asyncio.gather(
        ctx.api.get("compute", f"/os-quota-sets/{pid}"),
        ctx.api.get("volumev3", f"/os-quota-sets/{pid}"),
        ctx.api.get("network", f"/v2.0/quotas/{pid}"),
    )
    return [compute["quota_set"], volume["quota_set"], network["quota"]]


@page(admin=True)
async def quotas(ctx: Ctx) -> Response:
    pid, project = await _project(ctx)
    current = await _quotas(ctx, pid)
    fields = [
        Field(f"{service}__{key}", label, "number", str(values[key]))
        for (service, names), values in zip(QUOTA_SETS, current, strict=True)
        for key, label in names
        if key in values
    ]
    title = f"Modify Quotas: {project['name']}"
    form = Form(title=title, fields=fields, button="Save", cancel=ctx.url(BASE), template=PANEL)
    if ctx.request.method == "GET":
        return form.render(ctx)
    values = form.fill(await ctx.form())
    try:
        wanted = {f.name: whole(values, f.name, -1) for f in fields}
        await _save_quotas(ctx, pid, wanted, current)
    except (FormError, APIError) as exc:
        form.refused(exc)
        return form.render(ctx)
    ctx.flash("success", f'Modified the quotas of project "{project["name"]}".')
    return ctx.redirect(BASE)


async def _save_quotas(
    ctx: Ctx, pid: str, wanted: dict[str, int], current: list[dict[str, Any]]
) -> None:
    """Each service's changed values in one call to it (an unchanged service: no call)."""
    for (service, _), values in zip(QUOTA_SETS, current, strict=True):
        changed = {
            name.split("__", 1)[1]: value
            for name, value in wanted.items()
            if name.startswith(f"{service}__") and values.get(name.split("__", 1)[1]) != value
        }
        if not changed:
            continue
        if service == "network":
            await ctx.api.put("network", f"/v2.0/quotas/{pid}", {"quota": changed})
        else:
            await ctx.api.put(service, f"/os-quota-sets/{pid}", {"quota_set": changed})


ROUTES = [
    Route(BASE, index, methods=["GET"]),
    Route(f"{BASE}create_project/", create, methods=["GET", "POST"]),
    Route(BASE + "{project_id}/update/", update, methods=["GET", "POST"]),
    Route(BASE + "{project_id}/toggle/", toggle, methods=["POST"]),
    Route(BASE + "{project_id}/delete/", delete, methods=["GET", "POST"]),
    Route(BASE + "{project_id}/members/", members, methods=["GET", "POST"]),
    Route(
        BASE + "{project_id}/members/{user_id}/{role_id}/remove/",
        member_remove,
        methods=["GET", "POST"],
    ),
    Route(BASE + "{project_id}/update_quotas/", quotas, methods=["GET", "POST"]),
]
