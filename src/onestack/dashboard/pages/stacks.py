"""The project's stacks (Heat): the list with live status, a stack's detail in tabs
(topology drawn from the resources' ``required_by``, outputs, resources, live events, the
template), its deletion and the check, suspend and resume actions. Launching and updating
live in ``stack_launch.py``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import yaml
from starlette.responses import Response
from starlette.routing import Route

from onestack.dashboard.client import APIError
from onestack.dashboard.web import Ctx, NotFound, page

SERVICE = "orchestration"
TABS = (
    ("topology", "Topology"),
    ("overview", "Overview"),
    ("resources", "Resources"),
    ("events", "Events"),
    ("template", "Template"),
)
ACTIONS = {"check": "Check Stack", "suspend": "Suspend Stack", "resume": "Resume Stack"}


def busy(status: str) -> bool:
    return status.endswith("_IN_PROGRESS")


def tone(status: str) -> str:
    """The colour class of a status: done, working, failed or other."""
    if status.endswith("_COMPLETE"):
        return "done"
    if busy(status):
        return "working"
    if status.endswith("_FAILED"):
        return "failed"
    return "other"


async def stack_path(ctx: Ctx, stack_id: str) -> str:
    """``/stacks/{name}/{id}`` of a stack of the project (Heat's lookup answers a 302 there);
    the 404 page for another project's or a missing one."""
    resp = await ctx.api.request("GET", SERVICE, f"/stacks/{quote(stack_id, safe='')}")
    location = resp.headers.get("location", "")
    parts = urlsplit(location).path.rstrip("/").split("/")
    if resp.status_code != 302 or len(parts) < 2 or parts[-1] != stack_id:
        raise NotFound(f"Stack {stack_id} was not found.")
    return f"/stacks/{parts[-2]}/{parts[-1]}"


async def template_text(ctx: Ctx, path: str) -> str:
    """The stack's template as YAML (Heat answers it as JSON), its keys in their order."""
    resp = await ctx.api.request("GET", SERVICE, f"{path}/template")
    try:
        return yaml.safe_dump(resp.json(), sort_keys=False, allow_unicode=True, width=100)
    except ValueError:
        return resp.text


def row(stack: dict[str, Any]) -> dict[str, Any]:
    status = str(stack.get("stack_status", ""))
    return {
        "id": stack["id"],
        "name": stack.get("stack_name", ""),
        "created": stack.get("creation_time") or "",
        "updated": stack.get("updated_time") or "",
        "status": status,
        "reason": stack.get("stack_status_reason") or "",
        "busy": busy(status),
        "tone": tone(status),
    }


@page()
async def index(ctx: Ctx) -> Response:
    query = ctx.request.query_params
    found = await ctx.api.get(
        SERVICE,
        "/stacks",
        limit=ctx.page_size + 1,
        marker=query.get("marker"),
        name=query.get("name"),
        sort_keys="creation_time",
        sort_dir="desc",
    )
    stacks = found["stacks"]
    more = len(stacks) > ctx.page_size
    rows = [row(s) for s in stacks[: ctx.page_size]]
    marker = rows[-1]["id"] if more and rows else ""
    template = (
        "project/stack_rows.html" if query.get("fragment") == "rows" else "project/stacks.html"
    )
    return ctx.render(
        template,
        rows=rows,
        next_url=ctx.url("/project/stacks/", marker=marker, name=query.get("name", ""))
        if marker
        else "",
        paged=bool(query.get("marker")),
        name=query.get("name", ""),
    )


@dataclass(frozen=True)
class Node:
    name: str
    type: str
    status: str
    x: int
    y: int

    @property
    def tone(self) -> str:
        return tone(self.status)


@dataclass(frozen=True)
class Edge:
    x1: int
    y1: int
    x2: int
    y2: int


def layers(resources: list[dict[str, Any]]) -> dict[str, int]:
    """Each resource's column: one past the deepest resource it depends on."""
    names = {str(r["resource_name"]) for r in resources}
    needs: dict[str, set[str]] = {n: set() for n in names}
    for r in resources:
        for dependent in r.get("required_by") or []:
            if dependent in needs:
                needs[dependent].add(str(r["resource_name"]))
    depth: dict[str, int] = {}

    def walk(name: str, seen: frozenset[str]) -> int:
        if name not in depth:
            inner = [walk(n, seen | {name}) + 1 for n in needs[name] if n not in seen]
            depth[name] = max(inner, default=0)
        return depth[name]

    for name in sorted(names):
        walk(name, frozenset())
    return depth


GAP_X, GAP_Y, MARGIN_X, MARGIN_Y = 200, 80, 100, 30


def topology(resources: list[dict[str, Any]]) -> dict[str, Any]:
    """The resources as a graph: nodes in columns by dependency depth, edges to dependents."""
    depth = layers(resources)
    columns: dict[int, list[dict[str, Any]]] = {}
    for r in sorted(resources, key=lambda r: str(r["resource_name"])):
        columns.setdefault(depth[str(r["resource_name"])], []).append(r)
    nodes: dict[str, Node] = {}
    for col, members in columns.items():
        for i, r in enumerate(members):
            nodes[str(r["resource_name"])] = Node(
                name=str(r["resource_name"]),
                type=str(r.get("resource_type", "")),
                status=str(r.get("resource_status", "")),
                x=MARGIN_X + col * GAP_X,
                y=MARGIN_Y + i * GAP_Y,
            )
    edges = [
        Edge(nodes[str(r["resource_name"])].x, nodes[str(r["resource_name"])].y, d.x, d.y)
        for r in resources
        for d in (nodes.get(n) for n in r.get("required_by") or [])
        if d is not None
    ]
    width = MARGIN_X * 2 + max(columns, default=0) * GAP_X
    height = MARGIN_Y + (max((len(m) for m in columns.values()), default=1) - 1) * GAP_Y + 60
    return {"nodes": list(nodes.values()), "edges": edges, "width": width, "height": height}


async def _tab_values(ctx: Ctx, path: str, tab: str, stack: dict[str, Any]) -> dict[str, Any]:
    if tab in ("topology", "resources"):
        resources = (await ctx.api.get(SERVICE, f"{path}/resources"))["resources"]
        return {"resources": resources, "graph": topology(resources)}
    if tab == "events":
        query = ctx.request.query_params
        found = await ctx.api.get(
            SERVICE,
            f"{path}/events",
            limit=ctx.page_size + 1,
            marker=query.get("marker"),
            sort_dir="desc",
        )
        events = found["events"]
        more = len(events) > ctx.page_size
        events = events[: ctx.page_size]
        marker = events[-1]["id"] if more and events else ""
        here = f"/project/stacks/stack/{stack['id']}/"
        return {
            "events": events,
            "next_url": ctx.url(here, tab="events", marker=marker) if marker else "",
            "paged": bool(query.get("marker")),
        }
    if tab == "template":
        return {"template_text": await template_text(ctx, path)}
    return {}


@page()
async def detail(ctx: Ctx) -> Response:
    stack_id = ctx.request.path_params["stack_id"]
    path = await stack_path(ctx, stack_id)
    stack = (await ctx.api.get(SERVICE, path))["stack"]
    if ctx.request.query_params.get("fragment") == "status":  # the live parts' refresh
        return ctx.render("project/stack_status.html", stack=stack, info=row(stack))
    tab = ctx.request.query_params.get("tab", "topology")
    if tab not in dict(TABS):
        tab = "topology"
    values = await _tab_values(ctx, path, tab, stack)
    fragment = ctx.request.query_params.get("fragment")
    if fragment in ("events", "topology"):
        return ctx.render(f"project/stack_{fragment}.html", info=row(stack), **values)
    return ctx.render(
        "project/stack_detail.html",
        stack=stack,
        info=row(stack),
        tab=tab,
        tabs=TABS,
        actions=ACTIONS,
        **values,
    )


@page()
async def delete(ctx: Ctx) -> Response:
    stack_id = ctx.request.path_params["stack_id"]
    path = await stack_path(ctx, stack_id)
    name = path.split("/")[2]
    if ctx.request.method == "GET":
        return ctx.render(
            "confirm.html",
            title="Delete Stack",
            question=f'Delete the stack "{name}" and every resource it made? It cannot be undone.',
            action=ctx.url(f"/project/stacks/stack/{stack_id}/delete/"),
            cancel=ctx.url(f"/project/stacks/stack/{stack_id}/"),
            button="Delete Stack",
        )
    await ctx.api.delete(SERVICE, path)
    ctx.flash("success", f'Deletion of stack "{name}" started.')
    return ctx.redirect("/project/stacks/")


@page()
async def action(ctx: Ctx) -> Response:
    """POST: check, suspend or resume the stack (Heat works on it; the page shows it live)."""
    stack_id = ctx.request.path_params["stack_id"]
    name = str((await ctx.form()).get("action", ""))
    if name not in ACTIONS:
        raise NotFound("No such stack action.")
    path = await stack_path(ctx, stack_id)
    try:
        await ctx.api.post(SERVICE, f"{path}/actions", {name: None})
    except APIError as exc:
        if exc.status in (403, 404):
            raise
        ctx.flash("error", f"Unable to {name} the stack: {exc.message}")
    else:
        ctx.flash("success", f'{ACTIONS[name]}: started on "{path.split("/")[2]}".')
    return ctx.redirect(f"/project/stacks/stack/{stack_id}/", tab="events")


ROUTES = [
    Route("/project/stacks/", index, methods=["GET"]),
    Route("/project/stacks/stack/{stack_id}/", detail, methods=["GET"]),
    Route("/project/stacks/stack/{stack_id}/delete/", delete, methods=["GET", "POST"]),
    Route("/project/stacks/stack/{stack_id}/action/", action, methods=["POST"]),
]
