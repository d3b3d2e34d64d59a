"""The project's security groups (Horizon's ``/project/security_groups/``): list, create,
edit, delete, and their rules (add with Neutron's refusals shown, delete)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from onestack.dashboard.client import APIError
from onestack.dashboard.pages import netforms
from onestack.dashboard.pages.netforms import Form
from onestack.dashboard.web import Ctx, page

LIST = "/project/security_groups/"
GROUP_ALIASES: dict[str, tuple[str, ...]] = {"name": (), "description": ()}
RULE_TEXTS = (
    "direction",
    "ethertype",
    "protocol",
    "port_range_min",
    "port_range_max",
    "remote",
    "remote_ip_prefix",
    "remote_group_id",
    "description",
)
RULE_ALIASES: dict[str, tuple[str, ...]] = {
    "port_range_min": ("port range", "port_range", "port"),
    "port_range_max": (),
    "remote_ip_prefix": ("cidr", "ip prefix", "remote_ip_prefix"),
    "remote_group_id": ("remote group", "remote_group_id"),
    "protocol": (),
    "ethertype": ("ethertype", "ether type"),
    "direction": (),
}
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
    return found["security_groups"], netforms.next_marker(found, "security_groups")


@page()
async def index(ctx: Ctx) -> Response:
    rows, marker = await _rows(ctx)
    return ctx.render(
        "project/security_groups.html",
        rows=rows,
        next_marker=marker,
        paged=bool(ctx.request.query_params.get("marker")),
    )


def _group_page(ctx: Ctx, form: Form, group: dict[str, Any] | None, status: int = 200) -> Response:
    return ctx.render("project/security_group_form.html", status=status, form=form, group=group)


@page()
async def create(ctx: Ctx) -> Response:
    if ctx.request.method == "GET":
        return _group_page(ctx, Form({"name": "", "description": ""}), None)
    form = netforms.read(await ctx.form(), ("name", "description"))
    if not form.require("name"):
        return _group_page(ctx, form, None, 400)
    body = {"name": form.text("name"), "description": form.text("description")}
    try:
        made = await ctx.api.post("network", "/v2.0/security-groups", {"security_group": body})
    except APIError as exc:
        form.refused(exc, GROUP_ALIASES)
        return _group_page(ctx, form, None, 400)
    ctx.flash("success", f'Created security group "{body["name"]}".')
    return ctx.redirect(f"{LIST}{made['security_group']['id']}/")


async def _group(ctx: Ctx) -> dict[str, Any]:
    group = await netforms.one(
        ctx, "security-groups", "security_group", ctx.request.path_params["group_id"]
    )
    netforms.mine(ctx, group)
    return group


@page()
async def update(ctx: Ctx) -> Response:
    group = await _group(ctx)
    if ctx.request.method == "GET":
        values = {"name": group.get("name") or "", "description": group.get("description") or ""}
        return _group_page(ctx, Form(values), group)
    form = netforms.read(await ctx.form(), ("name", "description"))
    if not form.require("name"):
        return _group_page(ctx, form, group, 400)
    body = {"name": form.text("name"), "description": form.text("description")}
    try:
        await ctx.api.put(
            "network", f"/v2.0/security-groups/{group['id']}", {"security_group": body}
        )
    except APIError as exc:
        form.refused(exc, GROUP_ALIASES)
        return _group_page(ctx, form, group, 400)
    ctx.flash("success", f'Updated security group "{body["name"]}".')
    return ctx.redirect(LIST)


@page()
async def delete(ctx: Ctx) -> Response:
    group = await _group(ctx)
    name = group.get("name") or group["id"]
    if ctx.request.method == "GET":
        return netforms.confirm(
            ctx,
            "Delete Security Group",
            f'Delete the security group "{name}" and its rules? It cannot be undone.',
            f"{LIST}{group['id']}/delete/",
            LIST,
        )
    try:
        await ctx.api.delete("network", f"/v2.0/security-groups/{group['id']}")
    except APIError as exc:
        ctx.flash("error", f'Unable to delete security group "{name}": {exc.message}')
        return ctx.redirect(LIST)
    ctx.flash("success", f'Deleted security group "{name}".')
    return ctx.redirect(LIST)


async def _group_names(ctx: Ctx, rules: list[dict[str, Any]]) -> dict[str, str]:
    return await netforms.names(
        ctx, "security-groups", (r.get("remote_group_id") or "" for r in rules)
    )


@page()
async def detail(ctx: Ctx) -> Response:
    """Manage rules: the group's rules (embedded in the group: one call)."""
    group = await netforms.one(
        ctx, "security-groups", "security_group", ctx.request.path_params["group_id"]
    )
    rules = group.get("security_group_rules") or []
    return ctx.render(
        "project/security_group_detail.html",
        group=group,
        rules=rules,
        remote_names=await _group_names(ctx, rules),
        own=group.get("project_id") == ctx.user.project_id or ctx.user.is_admin,
    )


async def _rule_page(ctx: Ctx, group: dict[str, Any], form: Form, status: int = 200) -> Response:
    groups = await ctx.api.get(
        "network",
        "/v2.0/security-groups",
        project_id=ctx.user.project_id,
        fields=["id", "name"],
        limit=100,
    )
    choices = [(g["id"], g.get("name") or g["id"]) for g in groups["security_groups"]]
    return ctx.render(
        "project/security_group_rule.html",
        status=status,
        group=group,
        form=form,
        protocols=PROTOCOLS,
        groups=choices,
    )


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
    if ctx.request.method == "GET":
        values = dict.fromkeys(RULE_TEXTS, "")
        values |= {"direction": "ingress", "ethertype": "IPv4", "remote": "cidr"}
        values["remote_ip_prefix"] = "0.0.0.0/0"
        return await _rule_page(ctx, group, Form(values))
    form = netforms.read(await ctx.form(), RULE_TEXTS)
    body = _rule_body(form, group["id"])
    if form.errors:
        return await _rule_page(ctx, group, form, 400)
    try:
        await ctx.api.post("network", "/v2.0/security-group-rules", {"security_group_rule": body})
    except APIError as exc:
        form.refused(exc, RULE_ALIASES)
        return await _rule_page(ctx, group, form, exc.status if exc.status < 500 else 400)
    ctx.flash("success", "Added the rule.")
    return ctx.redirect(f"{LIST}{group['id']}/")


@page()
async def delete_rule(ctx: Ctx) -> Response:
    group = await _group(ctx)
    rule_id = ctx.request.path_params["rule_id"]
    here = f"{LIST}{group['id']}/"
    if ctx.request.method == "GET":
        return netforms.confirm(
            ctx,
            "Delete Rule",
            f'Delete this rule of the security group "{group.get("name")}"?',
            f"{here}rules/{rule_id}/delete/",
            here,
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
