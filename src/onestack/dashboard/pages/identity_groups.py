"""Identity → Groups (create, delete, members) and Roles (create, delete)."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from onestack.dashboard.client import APIError
from onestack.dashboard.forms import PANEL, Field, Form, FormError, confirm, refusal
from onestack.dashboard.paging import by_name
from onestack.dashboard.tables import action, cell, row
from onestack.dashboard.web import Ctx, page

GROUPS = "/identity/groups/"
ROLES = "/identity/roles/"


@page(admin=True)
async def groups(ctx: Ctx) -> Response:
    shown, pager = by_name(ctx, await ctx.api.get("identity", "/groups"), "groups", GROUPS)
    rows = [
        row(
            g["id"],
            [cell(g["name"]), cell(g.get("description") or ""), cell(g["id"])],
            [
                action("Manage Members", ctx.url(f"{GROUPS}{g['id']}/members/")),
                action("Delete Group", ctx.url(f"{GROUPS}{g['id']}/delete/"), danger=True),
            ],
        )
        for g in shown
    ]
    return ctx.render(
        "admin/list.html",
        title="Groups",
        buttons=[("Create Group", ctx.url(f"{GROUPS}create/"))],
        filters=[],
        columns=["Name", "Description", "Group ID", "Actions"],
        rows=rows,
        **pager,
    )


async def _create(ctx: Ctx, kind: str, base: str, fields: list[Field]) -> Response:
    """The create form of a group or a role (same shape: a name, maybe a description)."""
    title = f"Create {kind.title()}"
    form = Form(title=title, fields=fields, button=title, cancel=ctx.url(base), template=PANEL)
    if ctx.request.method == "GET":
        return form.render(ctx)
    values = await form.read(ctx)
    if form.errors:
        return form.render(ctx)
    try:
        body = {k: v for k, v in values.items() if v}
        await ctx.api.post("identity", f"/{kind}s", {kind: body})
    except (FormError, APIError) as exc:
        form.refused(exc)
        return form.render(ctx)
    ctx.flash("success", f'Created {kind} "{values["name"]}".')
    return ctx.redirect(base)


@page(admin=True)
async def group_create(ctx: Ctx) -> Response:
    fields = [Field("name", "Name", required=True), Field("description", "Description", "textarea")]
    return await _create(ctx, "group", GROUPS, fields)


async def _delete(ctx: Ctx, kind: str, base: str, key: str) -> Response:
    ident = ctx.request.path_params[key]
    found = (await ctx.api.get("identity", f"/{kind}s/{ident}"))[kind]
    label = kind.title()
    if ctx.request.method == "GET":
        question = f'Delete the {kind} "{found["name"]}"? It cannot be undone.'
        return confirm(ctx, f"Delete {label}", question, base, f"Delete {label}")
    await ctx.api.delete("identity", f"/{kind}s/{ident}")
    ctx.flash("success", f'Deleted {kind} "{found["name"]}".')
    return ctx.redirect(base)


@page(admin=True)
async def group_delete(ctx: Ctx) -> Response:
    return await _delete(ctx, "group", GROUPS, "group_id")


@page(admin=True)
async def group_members(ctx: Ctx) -> Response:
    """The group's users; POST adds one."""
    gid = ctx.request.path_params["group_id"]
    group = (await ctx.api.get("identity", f"/groups/{gid}"))["group"]
    error = ""
    if ctx.request.method == "POST":
        user = str((await ctx.form()).get("user", ""))
        try:
            await ctx.api.put("identity", f"/groups/{gid}/users/{user}")
        except APIError as exc:
            error = refusal(exc)
        if not error:
            ctx.flash("success", f'Added the user to group "{group["name"]}".')
            return ctx.redirect(f"{GROUPS}{gid}/members/")
    members, users = await asyncio.gather(
        ctx.api.get("identity", f"/groups/{gid}/users"), ctx.api.get("identity", "/users")
    )
    inside = {str(u["id"]) for u in members["users"]}
    return ctx.render(
        "identity/group_members.html",
        status=400 if error else 200,
        title=f"Group Members: {group['name']}",
        group=group,
        members=sorted(members["users"], key=lambda u: str(u["name"])),
        others=sorted(
            (str(u["name"]), str(u["id"])) for u in users["users"] if u["id"] not in inside
        ),
        error=error,
    )


@page(admin=True)
async def group_member_remove(ctx: Ctx) -> Response:
    gid, uid = ctx.request.path_params["group_id"], ctx.request.path_params["user_id"]
    back = f"{GROUPS}{gid}/members/"
    if ctx.request.method == "GET":
        group = (await ctx.api.get("identity", f"/groups/{gid}"))["group"]
        user = (await ctx.api.get("identity", f"/users/{uid}"))["user"]
        question = f'Remove user "{user["name"]}" from group "{group["name"]}"?'
        return confirm(ctx, "Remove User", question, back, "Remove User")
    await ctx.api.delete("identity", f"/groups/{gid}/users/{uid}")
    ctx.flash("success", "Removed the user from the group.")
    return ctx.redirect(back)


@page(admin=True)
async def roles(ctx: Ctx) -> Response:
    shown, pager = by_name(ctx, await ctx.api.get("identity", "/roles"), "roles", ROLES)
    rows: list[dict[str, Any]] = [
        row(
            r["id"],
            [cell(r["name"]), cell(r["id"])],
            [action("Delete Role", ctx.url(f"{ROLES}{r['id']}/delete/"), danger=True)],
        )
        for r in shown
    ]
    return ctx.render(
        "admin/list.html",
        title="Roles",
        buttons=[("Create Role", ctx.url(f"{ROLES}create/"))],
        filters=[],
        columns=["Role Name", "ID", "Actions"],
        rows=rows,
        **pager,
    )


@page(admin=True)
async def role_create(ctx: Ctx) -> Response:
    return await _create(ctx, "role", ROLES, [Field("name", "Role Name", required=True)])


@page(admin=True)
async def role_delete(ctx: Ctx) -> Response:
    return await _delete(ctx, "role", ROLES, "role_id")


ROUTES = [
    Route(GROUPS, groups, methods=["GET"]),
    Route(f"{GROUPS}create/", group_create, methods=["GET", "POST"]),
    Route(GROUPS + "{group_id}/delete/", group_delete, methods=["GET", "POST"]),
    Route(GROUPS + "{group_id}/members/", group_members, methods=["GET", "POST"]),
    Route(
        GROUPS + "{group_id}/members/{user_id}/remove/",
        group_member_remove,
        methods=["GET", "POST"],
    ),
    Route(ROLES, roles, methods=["GET"]),
    Route(f"{ROLES}create/", role_create, methods=["GET", "POST"]),
    Route(ROLES + "{role_id}/delete/", role_delete, methods=["GET", "POST"]),
]
