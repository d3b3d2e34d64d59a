"""The project's network topology (Horizon's ``/project/network_topology/``): networks as
vertical bars, routers and instances as boxes, a line for each port joining them; drawn on
the server as SVG, refreshed by ``static/topology.js`` from ``?fragment=svg``."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from onestack.dashboard.web import Ctx, page

# A picture, not a list: past this many of a kind the page names what it left out.
MOST = 200
BAR_GAP, BAR_WIDTH, TOP = 70, 30, 30
BOX_WIDTH, BOX_HEIGHT, ROW = 190, 44, 70


@dataclass
class Node:
    id: str
    name: str
    kind: str  # network, external, router, instance
    href: str
    x: float = 0
    y: float = 0

    @property
    def short(self) -> str:
        return self.name if len(self.name) <= 24 else self.name[:23] + "…"


@dataclass
class Link:
    device: Node
    network: Node
    address: str

    @property
    def x1(self) -> float:
        return self.device.x

    @property
    def y1(self) -> float:
        return self.device.y + BOX_HEIGHT / 2

    @property
    def x2(self) -> float:
        return self.network.x + BAR_WIDTH / 2


@dataclass
class Picture:
    networks: list[Node] = field(default_factory=list)
    devices: list[Node] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    width: float = 0
    height: float = 0
    # The kinds ("networks", "routers", "instances") the project has more than MOST of: the
    # page says so, with a link to each full list.
    capped: list[str] = field(default_factory=list)

    @property
    def unconnected(self) -> list[Node]:
        """The networks and devices no link touches (the list names them; found here in one
        pass, where the template's filter per node compared every link: 200 x 200)."""
        touched = {id(n) for link in self.links for n in (link.device, link.network)}
        return [n for n in (*self.networks, *self.devices) if id(n) not in touched]


Fetched = tuple[list[Any], list[Any], list[Any], list[Any], list[str]]


def _first(found: list[Any], kind: str, capped: list[str]) -> list[Any]:
    """The first MOST of ``found`` (asked for one more: one more tells there are more)."""
    if len(found) > MOST:
        capped.append(kind)
    return found[:MOST]


async def _fetch(ctx: Ctx) -> Fetched:
    api = ctx.api
    fields = ["id", "name", "router:external", "project_id"]
    found = await asyncio.gather(
        api.get("network", "/v2.0/networks", limit=MOST + 1, fields=fields),
        api.get("network", "/v2.0/routers", limit=MOST + 1, project_id=ctx.user.project_id),
        api.get("compute", "/servers", limit=MOST + 1),
    )
    capped: list[str] = []
    networks = _first(found[0]["networks"], "networks", capped)
    routers = _first(found[1]["routers"], "routers", capped)
    servers = _first(found[2]["servers"], "instances", capped)
    # Only the ports of the devices drawn: the picture's cost follows what it shows.
    devices = [r["id"] for r in routers] + [s["id"] for s in servers]
    ports: dict[str, Any] = {"ports": []}
    if devices:
        ports = await api.get(
            "network",
            "/v2.0/ports",
            device_id=devices,
            fields=["id", "network_id", "device_id", "device_owner", "fixed_ips"],
        )
    return networks, routers, ports["ports"], servers, capped


def _address(port: dict[str, Any]) -> str:
    return ", ".join(ip["ip_address"] for ip in port.get("fixed_ips") or [])


def build(
    ctx: Ctx,
    networks: list[dict[str, Any]],
    routers: list[dict[str, Any]],
    ports: list[dict[str, Any]],
    servers: list[dict[str, Any]],
    capped: list[str] | None = None,
) -> Picture:
    """Who joins whom, laid out: bars left to right, boxes in a column to their right."""
    nets = {
        n["id"]: Node(
            n["id"],
            n.get("name") or n["id"],
            "external" if n.get("router:external") else "network",
            ctx.url(f"/project/networks/{n['id']}/"),
        )
        for n in networks
    }
    devices: dict[str, Node] = {}
    for r in routers:
        devices[r["id"]] = Node(
            r["id"], r.get("name") or r["id"], "router", ctx.url(f"/project/routers/{r['id']}/")
        )
    for s in servers:
        devices[s["id"]] = Node(
            s["id"], s.get("name") or s["id"], "instance", ctx.url(f"/project/instances/{s['id']}/")
        )
    links: list[Link] = []
    for r in routers:
        gateway = r.get("external_gateway_info") or {}
        if gateway.get("network_id") in nets:
            addresses = ", ".join(
                ip["ip_address"] for ip in gateway.get("external_fixed_ips") or []
            )
            links.append(Link(devices[r["id"]], nets[gateway["network_id"]], addresses))
    for p in ports:
        owner = str(p.get("device_owner") or "")
        device = devices.get(p.get("device_id") or "")
        if device is None or p["network_id"] not in nets:
            continue
        if owner.startswith("network:router_interface") or owner.startswith("compute:"):
            links.append(Link(device, nets[p["network_id"]], _address(p)))
    # The project's own networks, and the others only where something of it joins them.
    joined = {link.network.id for link in links}
    shown = [
        nets[n["id"]]
        for n in networks
        if n.get("project_id") == ctx.user.project_id or n["id"] in joined
    ]
    boxes = [d for d in devices.values() if d.kind == "router"]
    boxes += [d for d in devices.values() if d.kind == "instance"]
    return _layout(Picture(shown, boxes, links, capped=capped or []))


def _layout(picture: Picture) -> Picture:
    for i, net in enumerate(picture.networks):
        net.x, net.y = 20 + i * BAR_GAP, TOP
    left = 20 + len(picture.networks) * BAR_GAP + 40
    for j, box in enumerate(picture.devices):
        box.x, box.y = left, TOP + 20 + j * ROW
    picture.width = left + BOX_WIDTH + 20
    picture.height = max(TOP + 40 + len(picture.devices) * ROW, 240)
    return picture


@page()
async def index(ctx: Ctx) -> Response:
    picture = build(ctx, *await _fetch(ctx))
    fragment = ctx.request.query_params.get("fragment") == "svg"
    template = "project/topology_svg.html" if fragment else "project/topology.html"
    return ctx.render(
        template,
        picture=picture,
        most=MOST,
        bar_width=BAR_WIDTH,
        box_width=BOX_WIDTH,
        box_height=BOX_HEIGHT,
    )


ROUTES = [Route("/project/network_topology/", index, methods=["GET"])]
