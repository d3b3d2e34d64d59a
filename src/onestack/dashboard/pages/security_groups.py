"""The project's security groups (Horizon's ``/project/security_groups/``): list, create,
edit, delete, and their rules (add with Neutron's refusals shown, delete)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from onestack.dashboard.client import APIError
from onestack.dashboard.forms import Field, Form, confirm, next_marker, security_groups
from onestack.dashboard.pages.neutron import mine, names, one
from onestack.dashboard.web import Ctx, page

LIST = "/project/security_groups/"
GROUP_FIELDS = [Field("name"), Field("description")]
RULE_FIELDS = [
    Field("direction", value="ingress"),
    Field("ethertype", value="IPv4", words=("ether type",)),
    Field("protocol"),
    Field("port_range_min", words=("port range", "port_range", "port")),
    Field("port_range_max"),
    Field("remote", value="cidr"),
    Field("remote_ip_prefix", value="0.0.0.0/0", words=("cidr", "ip prefix")),
    Field("remote_group_id", words=("remote group",)),
    Field("description"),
]
# The rule's fields Neutron's refusals speak of (not the choice of remote, nor the description).
RULE_NAMED = [f.name for f in RULE_FIELDS if f.name not in ("remote", "description")]
PROTOCOLS = [("", "Any"), ("tcp", "TCP"), ("udp", "UDP"), ("icmp", "ICMP")]


async def _rows(ctx: Ctx) -> tuple[list[dict[str, Any]], str]:
    found = await ctx.api.get(
        "network",
        "/v2.0/security-groups",
        project_id=ctx.user.project_id,
        limit=ctx.page_size,
        marker=ctx.request.query_params.get("marker"),
        fields=["id", "name", "description", "project_id"],
    )
    return found["security_groups"], next_marker(
        found["security_groups"], found.get("security_groups_links")
    )


@page()
async def index(ctx: Ctx) -> Response:
    rows, marker = await _rows(ctx)
    return ctx.render(
        "project/security_groups.html",
        rows=rows,
        next_marker=marker,
        paged=bool(ctx.request.query_params.get("marker")),
    )


def _group_form(values: dict[str, Any] | None = None) -> Form:
    return Form(
        fields=GROUP_FIELDS, template="project/security_group_form.html", values=values or {}
    )


@page()
async def create(ctx: Ctx) -> Response:
    form = _group_form()
    if ctx.request.method == "GET":
        return form.render(ctx, group=None)
    form.fill(await ctx.form())
    if not form.require("name"):
        return form.render(ctx, group=None)
    body = {"name": form.text("name"), "description": form.text("description")}
    try:
        made = await ctx.api.post("network", "/v2.0/security-groups", {"security_group": body})
    except APIError as exc:
        form.refused(exc)
        return form.render(ctx, group=None)
    ctx.flash("success", f'Created security group "{body["name"]}".')
    return ctx.redirect(f"{LIST}{made['security_group']['id']}/")


async def _group(ctx: Ctx) -> dict[str, Any]:
    group = await one(ctx, "security-groups", "security_group", ctx.request.path_params["group_id"])
    mine(ctx, group)
    return group


@page()
async def update(ctx: Ctx) -> Response:
    group = await _group(ctx)
    if ctx.request.method == "GET":
        values = {"name": group.get("name") or "", "description": group.get("description") or ""}
        return _group_form(values).render(ctx, group=group)
    form = _group_form()
    form.fill(await ctx.form())
    if not form.require("name"):
        return form.render(ctx, group=group)
    body = {"name": form.text("name"), "description": form.text("description")}
    try:
        await ctx.api.put(
            "network", f"/v2.0/security-groups/{group['id']}", {"security_group": body}
        )
    except APIError as exc:
        form.refused(exc)
        return form.render(ctx, group=group)
    ctx.flash("success", f'Updated security group "{body["name"]}".')
    return ctx.redirect(LIST)


@page()
async def delete(ctx: Ctx) -> Response:
    group = await _group(ctx)
    name = group.get("name") or group["id"]
    if ctx.request.method == "GET":
        return confirm(
            ctx,
            "Delete Security Group",
            f'Delete the security group "{name}" and its rules? It cannot be undone.',
            LIST,
            action=f"{LIST}{group['id']}/delete/",
        )
    try:
        await ctx.api.delete("network", f"/v2.0/security-groups/{group['id']}")
    except APIError as exc:
        ctx.flash("error", f'Unable to delete security group "{name}": {exc.message}')
        return ctx.redirect(LIST)
    ctx.flash("success", f'Deleted security group "{name}".')
    return ctx.redirect(LIST)


async def _group_names(ctx: Ctx, rules: list[dict[str, Any]]) -> dict[str, str]:
    return await names(ctx, "security-groups", (r.get("remote_group_id") or "" for r in rules))


@page()
async def detail(ctx: Ctx) -> Response:
    """Manage rules: the group's rules (embedded in the group: one call)."""
    group = await one(ctx, "security-groups", "security_group", ctx.request.path_params["group_id"])
    rules = group.get("security_group_rules") or []
    return ctx.render(
        "project/security_group_detail.html",
        group=group,
        rules=rules,
        remote_names=await _group_names(ctx, rules),
        own=group.get("project_id") == ctx.user.project_id or ctx.user.is_admin,
    )


async def _rule_page(ctx: Ctx, group: dict[str, Any], form: Form, status: int = 200) -> Response:
    choices = await security_groups(ctx)
    return form.render(ctx, status, group=group, protocols=PROTOCOLS, groups=choices)


def _port(form: Form, name: str) -> int | None:
    text = form.text(name)
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        form.errors[name] = "Enter a whole number."
        return None


def _rule_body(form: Form, group_id: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "security_group_id": group_id,
        "direction": form.text("direction") or "ingress",
        "ethertype": form.text("ethertype") or "IPv4",
        "protocol": form.text("protocol") or None,
        "description": form.text("description"),
    }
    low, high = _port(form, "port_range_min"), _port(form, "port_range_max")
    if low is not None:
        body["port_range_min"] = low
        body["port_range_max"] = high if high is not None else low
    elif high is not None:
        form.errors["port_range_min"] = "Enter the first port of the range."
    if form.text("remote") == "sg":
        if not form.require("remote_group_id"):
            return body
        body["remote_group_id"] = form.text("remote_group_id")
    elif form.text("remote_ip_prefix"):
        body["remote_ip_prefix"] = form.text("remote_ip_prefix")
    return body


@page()
async def add_rule(ctx: Ctx) -> Response:
    group = await _group(ctx)
    form = Form(fields=RULE_FIELDS, template="project/security_group_rule.html")
    if ctx.request.method == "GET":
        return await _rule_page(ctx, group, form)
    form.fill(await ctx.form())
    body = _rule_body(form, group["id"])
    if form.errors:
        return await _rule_page(ctx, group, form)
    try:
        await ctx.api.post("network", "/v2.0/security-group-rules", {"security_group_rule": body})
    except APIError as exc:
        form.refused(exc, among=RULE_NAMED)
        return await _rule_page(ctx, group, form, exc.status if exc.status < 500 else 400)
    ctx.flash("success", "Added the rule.")
    return ctx.redirect(f"{LIST}{group['id']}/")


@page()
async def delete_rule(ctx: Ctx) -> Response:
    group = await _group(ctx)
    rule_id = ctx.request.path_params["rule_id"]
    here = f"{LIST}{group['id']}/"
    if ctx.request.method == "GET":
        return confirm(
            ctx,
            "Delete Rule",
            f'Delete this rule of the security group "{group.get("name")}"?',
            here,
            action=f"{here}rules/{rule_id}/delete/",
        )
    try:
        await ctx.api.delete("network", f"/v2.0/security-group-rules/{rule_id}")
    except APIError as exc:
        ctx.flash("error", f"Unable to delete the rule: {exc.message}")
        return ctx.redirect(here)
    ctx.flash("success", "Deleted the rule.")
    return ctx.redirect(here)


GROUP = LIST + "{group_id}/"
ROUTES = [
    Route(LIST, index, methods=["GET"]),
    Route(f"{LIST}create/", create, methods=["GET", "POST"]),
    Route(GROUP, detail, methods=["GET"]),
    Route(GROUP + "update/", update, methods=["GET", "POST"]),
    Route(GROUP + "delete/", delete, methods=["GET", "POST"]),
    Route(GROUP + "add_rule/", add_rule, methods=["GET", "POST"]),
    Route(GROUP + "rules/{rule_id}/delete/", delete_rule, methods=["GET", "POST"]),
]
