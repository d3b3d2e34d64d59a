"""Identity → Users: list, create (with a primary project and a role on it), edit, change
password, enable/disable, delete."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from onestack.dashboard.client import APIError
from onestack.dashboard.forms import PANEL, Field, Form, FormError, checkbox, confirm, refusal
from onestack.dashboard.paging import by_name
from onestack.dashboard.tables import action, cell, row
from onestack.dashboard.web import Ctx, page

BASE = "/identity/users/"


def _row(ctx: Ctx, u: dict[str, Any], projects: dict[str, str]) -> dict[str, Any]:
    here = f"{BASE}{u['id']}/"
    enabled = bool(u.get("enabled", True))
    primary = str(u.get("default_project_id") or "")
    return row(
        u["id"],
        [
            cell(u["name"]),
            cell(u.get("email") or ""),
            cell(u["id"]),
            cell(projects.get(primary, primary)),
            cell("Yes" if enabled else "No"),
        ],
        [
            action("Edit", ctx.url(f"{here}update/")),
            action("Change Password", ctx.url(f"{here}change_password/")),
            action(
                "Disable User" if enabled else "Enable User",
                ctx.url(f"{here}toggle/"),
                post=True,
            ),
            action("Delete User", ctx.url(f"{here}delete/"), danger=True),
        ],
    )


async def _names(ctx: Ctx, kind: str) -> dict[str, str]:
    found = await ctx.api.get("identity", f"/{kind}")
    return {str(x["id"]): str(x["name"]) for x in found[kind]}


@page(admin=True)
async def index(ctx: Ctx) -> Response:
    name = ctx.request.query_params.get("name", "")
    found, projects = await asyncio.gather(
        ctx.api.get("identity", "/users", name=name), _names(ctx, "projects")
    )
    users, pager = by_name(ctx, found, "users", BASE, name=name)
    return ctx.render(
        "admin/list.html",
        title="Users",
        buttons=[("Create User", ctx.url(f"{BASE}create/"))],
        filters=[("name", "User Name", name)],
        columns=["User Name", "Email", "User ID", "Primary Project", "Enabled", "Actions"],
        rows=[_row(ctx, u, projects) for u in users],
        **pager,
    )


def _options(names: dict[str, str], blank: str = "") -> list[tuple[str, str]]:
    options = sorted(((i, n) for i, n in names.items()), key=lambda o: o[1])
    return [("", blank), *options] if blank else options


def _password_fields() -> list[Field]:
    return [
        Field("password", "Password", "password", required=True),
        Field("confirm_password", "Confirm Password", "password", required=True),
    ]


def _check_passwords(values: dict[str, str]) -> None:
    if values.get("password") != values.get("confirm_password"):
        raise FormError("Passwords do not match.", "confirm_password")


@page(admin=True)
async def create(ctx: Ctx) -> Response:
    projects, roles = await asyncio.gather(_names(ctx, "projects"), _names(ctx, "roles"))
    member = next((i for i, n in roles.items() if n == "member"), "")
    form = Form(
        title="Create User",
        fields=[
            Field("name", "User Name", required=True),
            Field("description", "Description", "textarea"),
            Field("email", "Email", "email"),
            *_password_fields(),
            Field("project", "Primary Project", "select", options=_options(projects, "-")),
            Field("role", "Role", "select", member, options=_options(roles)),
            Field("enabled", "Enabled", "checkbox", "on"),
        ],
        button="Create User",
        cancel=ctx.url(BASE),
        template=PANEL,
    )
    if ctx.request.method == "GET":
        return form.render(ctx)
    values = await form.read(ctx)
    if form.errors:
        return form.render(ctx)
    try:
        _check_passwords(values)
        user = await _create(ctx, values)
    except (FormError, APIError) as exc:
        form.refused(exc)
        return form.render(ctx)
    ctx.flash("success", f'Created user "{user["name"]}".')
    return ctx.redirect(BASE)


async def _create(ctx: Ctx, values: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": values["name"],
        "password": values["password"],
        "enabled": checkbox(values, "enabled"),
    }
    for key in ("email", "description"):
        if values.get(key):
            body[key] = values[key]
    if values.get("project"):
        body["default_project_id"] = values["project"]
    user: dict[str, Any] = (await ctx.api.post("identity", "/users", {"user": body}))["user"]
    if values.get("project") and values.get("role"):
        path = f"/projects/{values['project']}/users/{user['id']}/roles/{values['role']}"
        try:
            await ctx.api.put("identity", path)
        except APIError as exc:
            ctx.flash("error", f"The user was made, but not given the role: {exc.message}")
    return user


async def _user(ctx: Ctx) -> tuple[str, dict[str, Any]]:
    uid = ctx.request.path_params["user_id"]
    return uid, (await ctx.api.get("identity", f"/users/{uid}"))["user"]


@page(admin=True)
async def update(ctx: Ctx) -> Response:
    uid, user = await _user(ctx)
    projects = await _names(ctx, "projects")
    form = Form(
        title=f"Edit User: {user['name']}",
        fields=[
            Field("name", "User Name", value=user["name"], required=True),
            Field("description", "Description", "textarea", user.get("description") or ""),
            Field("email", "Email", "email", user.get("email") or ""),
            Field("project", "Primary Project", "select", user.get("default_project_id") or "",
                  options=_options(projects, "-")),
        ],
        button="Save",
        cancel=ctx.url(BASE),
        template=PANEL,
    )  # fmt: skip
    if ctx.request.method == "GET":
        return form.render(ctx)
    values = await form.read(ctx)
    if form.errors:
        return form.render(ctx)
    try:
        body = {
            "name": values["name"],
            "description": values["description"],
            "email": values["email"],
            "default_project_id": values["project"] or None,
        }
        await ctx.api.patch("identity", f"/users/{uid}", {"user": body})
    except (FormError, APIError) as exc:
        form.refused(exc)
        return form.render(ctx)
    ctx.flash("success", f'Updated user "{values["name"]}".')
    return ctx.redirect(BASE)


@page(admin=True)
async def change_password(ctx: Ctx) -> Response:
    uid, user = await _user(ctx)
    form = Form(
        title=f"Change Password: {user['name']}",
        fields=_password_fields(),
        button="Save",
        cancel=ctx.url(BASE),
        template=PANEL,
    )
    if ctx.request.method == "GET":
        return form.render(ctx)
    values = await form.read(ctx)
    if form.errors:
        return form.render(ctx)
    try:
        _check_passwords(values)
        body = {"user": {"password": values["password"]}}
        await ctx.api.patch("identity", f"/users/{uid}", body)
    except (FormError, APIError) as exc:
        form.refused(exc)
        return form.render(ctx)
    ctx.flash("success", f'Changed the password of user "{user["name"]}".')
    return ctx.redirect(BASE)


@page(admin=True)
async def toggle(ctx: Ctx) -> Response:
    uid, user = await _user(ctx)
    enabled = not user.get("enabled", True)
    if uid == ctx.user.user_id and not enabled:
        ctx.flash("error", "You cannot disable the user you are signed in as.")
        return ctx.redirect(BASE)
    try:
        await ctx.api.patch("identity", f"/users/{uid}", {"user": {"enabled": enabled}})
    except APIError as exc:
        ctx.flash("error", refusal(exc))
        return ctx.redirect(BASE)
    done = "Enabled" if enabled else "Disabled"
    ctx.flash("success", f'{done} user "{user["name"]}".')
    return ctx.redirect(BASE)


@page(admin=True)
async def delete(ctx: Ctx) -> Response:
    uid, user = await _user(ctx)
    if ctx.request.method == "GET":
        question = f'Delete the user "{user["name"]}"? It cannot be undone.'
        return confirm(ctx, "Delete User", question, BASE, "Delete User")
    await ctx.api.delete("identity", f"/users/{uid}")
    ctx.flash("success", f'Deleted user "{user["name"]}".')
    return ctx.redirect(BASE)


ROUTES = [
    Route(BASE, index, methods=["GET"]),
    Route(f"{BASE}create/", create, methods=["GET", "POST"]),
    Route(BASE + "{user_id}/update/", update, methods=["GET", "POST"]),
    Route(BASE + "{user_id}/change_password/", change_password, methods=["GET", "POST"]),
    Route(BASE + "{user_id}/toggle/", toggle, methods=["POST"]),
    Route(BASE + "{user_id}/delete/", delete, methods=["GET", "POST"]),
]
