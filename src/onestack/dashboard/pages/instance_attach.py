"""What is plugged into an instance: volumes (attach, detach), interfaces (a network or a
port; detach) and floating IPs (one of the project's, or a new one from a pool; take one
off). Each a form page (``instance_actions.run``); a detach's form is its confirmation."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from onestack.dashboard.forms import Field, FormError
from onestack.dashboard.pages.instance_actions import form_of, label_of, run, server_of
from onestack.dashboard.web import Ctx, page

_CHOICES = 200


def _name(item: dict[str, Any]) -> str:
    return str(item.get("name") or item["id"])


@page()
async def attach_volume(ctx: Ctx) -> Response:
    server = await server_of(ctx)
    found = await ctx.api.get(
        "volumev3", "/volumes/detail", limit=_CHOICES, status="available", sort="name:asc"
    )
    options = [(str(v["id"]), f"{_name(v)} ({v['size']} GB)") for v in found["volumes"]]
    form = form_of(
        ctx,
        server,
        "attach_volume",
        [
            Field(
                "volume",
                "Volume ID",
                "select",
                required=True,
                options=options,
                empty="Select a volume",
            )
        ],
        "Attach Volume",
    )

    async def do(values: dict[str, str]) -> str:
        body = {"volumeAttachment": {"volumeId": values["volume"]}}
        await ctx.api.post("compute", f"/servers/{server['id']}/os-volume_attachments", body)
        return f'Attaching volume to instance "{label_of(server)}".'

    return await run(ctx, server, form, do)


@page()
async def detach_volume(ctx: Ctx) -> Response:
    server = await server_of(ctx)
    found = await ctx.api.get("compute", f"/servers/{server['id']}/os-volume_attachments")
    attached = found.get("volumeAttachments", [])
    names = await asyncio.gather(*(_volume_name(ctx, a["volumeId"]) for a in attached[:20]))
    options = [
        (str(a["volumeId"]), f"{n} on {a.get('device') or '-'}")
        for a, n in zip(attached, names, strict=False)
    ]
    form = form_of(
        ctx,
        server,
        "detach_volume",
        [
            Field(
                "volume",
                "Attached Volume",
                "select",
                required=True,
                options=options,
                empty="Select a volume",
            )
        ],
        "Detach Volume",
        intro="The guest loses the disk at once: unmount it first.",
        danger=True,
    )

    async def do(values: dict[str, str]) -> str:
        path = f"/servers/{server['id']}/os-volume_attachments/{values['volume']}"
        await ctx.api.delete("compute", path)
        return f'Detaching volume from instance "{label_of(server)}".'

    return await run(ctx, server, form, do)


async def _volume_name(ctx: Ctx, volume_id: str) -> str:
    try:
        return _name((await ctx.api.get("volumev3", f"/volumes/{volume_id}"))["volume"])
    except Exception:  # a name is a nicety: the id does
        return volume_id


@page()
async def attach_interface(ctx: Ctx) -> Response:
    server = await server_of(ctx)
    project = ctx.user.project_id
    networks, ports = await asyncio.gather(
        ctx.api.get("network", "/v2.0/networks", limit=_CHOICES),
        ctx.api.get("network", "/v2.0/ports", project_id=project, limit=_CHOICES),
    )
    nets = [(str(n["id"]), _name(n)) for n in networks["networks"] if not n.get("router:external")]
    free = [
        (str(p["id"]), f"{_name(p)} ({_ips(p)})") for p in ports["ports"] if not p.get("device_id")
    ]
    form = form_of(
        ctx,
        server,
        "attach_interface",
        [
            Field("network", "Network", "select", options=nets, empty="Select a network"),
            Field(
                "port", "Or Port", "select", options=free, empty="No port: a new one on the network"
            ),
        ],
        "Attach Interface",
    )

    async def do(values: dict[str, str]) -> str:
        if not values["network"] and not values["port"]:
            raise FormError("Choose a network or a port.", "network")
        wanted = {"port_id": values["port"]} if values["port"] else {"net_id": values["network"]}
        body = {"interfaceAttachment": wanted}
        await ctx.api.post("compute", f"/servers/{server['id']}/os-interface", body)
        return f'Attached an interface to instance "{label_of(server)}".'

    return await run(ctx, server, form, do)


def _ips(port: dict[str, Any]) -> str:
    return ", ".join(str(ip.get("ip_address", "")) for ip in port.get("fixed_ips") or []) or "-"


async def _ports(ctx: Ctx, server: dict[str, Any]) -> list[dict[str, Any]]:
    found = await ctx.api.get("network", "/v2.0/ports", device_id=server["id"])
    return list(found.get("ports", []))


@page()
async def detach_interface(ctx: Ctx) -> Response:
    server = await server_of(ctx)
    options = [(str(p["id"]), f"{_ips(p)} ({p['id']})") for p in await _ports(ctx, server)]
    form = form_of(
        ctx,
        server,
        "detach_interface",
        [Field("port", "Port", "select", required=True, options=options, empty="Select a port")],
        "Detach Interface",
        intro="The guest loses the network interface and its addresses.",
        danger=True,
    )

    async def do(values: dict[str, str]) -> str:
        await ctx.api.delete("compute", f"/servers/{server['id']}/os-interface/{values['port']}")
        return f'Detached interface from instance "{label_of(server)}".'

    return await run(ctx, server, form, do)


async def _floating(ctx: Ctx) -> list[dict[str, Any]]:
    found = await ctx.api.get(
        "network", "/v2.0/floatingips", project_id=ctx.user.project_id, limit=_CHOICES
    )
    return list(found.get("floatingips", []))


@page()
async def associate(ctx: Ctx) -> Response:
    server = await server_of(ctx)
    ips, ports, pools = await asyncio.gather(
        _floating(ctx),
        _ports(ctx, server),
        ctx.api.get("network", "/v2.0/networks", **{"router:external": "true"}),
    )
    choices = [
        (f"ip:{f['id']}", str(f["floating_ip_address"])) for f in ips if not f.get("port_id")
    ]
    choices += [
        (f"pool:{n['id']}", f"Allocate a new IP from {_name(n)}") for n in pools["networks"]
    ]
    targets = [(str(p["id"]), f"{label_of(server)}: {_ips(p)}") for p in ports]
    form = form_of(
        ctx,
        server,
        "associate",
        [
            Field(
                "ip",
                "IP Address",
                "select",
                required=True,
                options=choices,
                empty="Select an IP address",
            ),
            Field(
                "port",
                "Port to be associated",
                "select",
                required=True,
                options=targets,
                empty="Select a port",
            ),
        ],
        "Associate",
    )

    async def do(values: dict[str, str]) -> str:
        kind, _, ident = values["ip"].partition(":")
        if kind == "pool":
            body = {"floatingip": {"floating_network_id": ident, "port_id": values["port"]}}
            made = await ctx.api.post("network", "/v2.0/floatingips", body)
            address = made["floatingip"]["floating_ip_address"]
        else:
            body = {"floatingip": {"port_id": values["port"]}}
            made = await ctx.api.put("network", f"/v2.0/floatingips/{ident}", body)
            address = made["floatingip"]["floating_ip_address"]
        return f'Associated floating IP {address} with instance "{label_of(server)}".'

    return await run(ctx, server, form, do)


@page()
async def disassociate(ctx: Ctx) -> Response:
    server = await server_of(ctx)
    ips, ports = await asyncio.gather(_floating(ctx), _ports(ctx, server))
    mine = {p["id"] for p in ports}
    options = [
        (str(f["id"]), str(f["floating_ip_address"])) for f in ips if f.get("port_id") in mine
    ]
    form = form_of(
        ctx,
        server,
        "disassociate",
        [
            Field(
                "ip",
                "Floating IP",
                "select",
                required=True,
                options=options,
                empty="Select a floating IP",
            )
        ],
        "Disassociate",
        intro="The address stays allocated to the project, free for another instance.",
        danger=True,
    )

    async def do(values: dict[str, str]) -> str:
        body = {"floatingip": {"port_id": None}}
        made = await ctx.api.put("network", f"/v2.0/floatingips/{values['ip']}", body)
        address = made["floatingip"]["floating_ip_address"]
        return f'Disassociated floating IP {address} from instance "{label_of(server)}".'

    return await run(ctx, server, form, do)


ROUTES = [
    Route(f"/project/instances/{{server_id}}/{name}/", handler, methods=["GET", "POST"])
    for name, handler in (
        ("attach_volume", attach_volume),
        ("detach_volume", detach_volume),
        ("attach_interface", attach_interface),
        ("detach_interface", detach_interface),
        ("associate", associate),
        ("disassociate", disassociate),
    )
]
