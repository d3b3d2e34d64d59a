"""Admin → Overview (every project's usage over a period), Hypervisors (capacity used as
charts, and the compute hosts), System Information (the catalog and every service's
agents), Defaults (the default quotas, compute's and volume's editable)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from onestack.dashboard.client import APIError
from onestack.dashboard.forms import PANEL, Field, Form, FormError, whole
from onestack.dashboard.pages.overview import Gauge, _period
from onestack.dashboard.web import Ctx, page

# Before 2.88 a hypervisor reports its capacity (later Nova sends it to Placement only).
HYPERVISOR_STATS = {"openstack-api-version": "compute 2.87"}


async def _project_names(ctx: Ctx) -> dict[str, str]:
    found = await ctx.api.get("identity", "/projects")
    return {str(p["id"]): str(p["name"]) for p in found["projects"]}


@page(admin=True)
async def overview(ctx: Ctx) -> Response:
    start, end = _period(ctx)
    until = end + timedelta(days=1)
    found, names = await asyncio.gather(
        ctx.api.get(
            "compute",
            "/os-simple-tenant-usage",
            start=f"{start.isoformat()}T00:00:00",
            end=f"{until.isoformat()}T00:00:00",
            detailed="1",
        ),
        _project_names(ctx),
    )
    usages = [
        {
            "project": names.get(u["tenant_id"], u["tenant_id"]),
            "project_id": u["tenant_id"],
            "vcpus": u.get("total_vcpus_usage", 0.0),
            "ram": u.get("total_memory_mb_usage", 0.0),
            "disk": u.get("total_local_gb_usage", 0.0),
            "hours": u.get("total_hours", 0.0),
            "active": sum(1 for s in u.get("server_usages", []) if s.get("state") == "active"),
        }
        for u in found["tenant_usages"]
    ]
    return ctx.render(
        "admin/overview.html",
        usages=sorted(usages, key=lambda u: str(u["project"])),
        start=start.isoformat(),
        end=end.isoformat(),
    )


def _gauges(h: dict[str, Any]) -> list[Gauge]:
    return [
        Gauge("VCPUs", h.get("vcpus_used", 0), h.get("vcpus", 0)),
        Gauge("RAM", h.get("memory_mb_used", 0), h.get("memory_mb", 0), " MB"),
        Gauge("Local Disk", h.get("local_gb_used", 0), h.get("local_gb", 0), " GB"),
    ]


@page(admin=True)
async def hypervisors(ctx: Ctx) -> Response:
    found, services = await asyncio.gather(
        ctx.api.request("GET", "compute", "/os-hypervisors/detail", headers=HYPERVISOR_STATS),
        ctx.api.get("compute", "/os-services"),
    )
    hosts = found.json()["hypervisors"]
    totals = {
        key: sum(h.get(key) or 0 for h in hosts)
        for key in (
            "vcpus",
            "vcpus_used",
            "memory_mb",
            "memory_mb_used",
            "local_gb",
            "local_gb_used",
        )
    }
    return ctx.render(
        "admin/hypervisors.html",
        summary=_gauges(totals),
        hypervisors=[{"h": h, "gauges": _gauges(h)} for h in hosts],
        services=services["services"],
    )


async def _optional(call: Any) -> tuple[list[Any], str]:
    """A list from a service, or what it said when it refused (the page shows the rest)."""
    try:
        return list(await call), ""
    except APIError as exc:
        return [], exc.message


async def _items(ctx: Ctx, service: str, path: str, key: str) -> list[Any]:
    return list((await ctx.api.get(service, path))[key])


@page(admin=True)
async def info(ctx: Ctx) -> Response:
    catalog = await ctx.dashboard.cloud.catalog(ctx.user.token)
    (compute, compute_err), (agents, agents_err), (volume, volume_err) = await asyncio.gather(
        _optional(_items(ctx, "compute", "/os-services", "services")),
        _optional(_items(ctx, "network", "/v2.0/agents", "agents")),
        _optional(_items(ctx, "volumev3", "/os-services", "services")),
    )
    return ctx.render(
        "admin/info.html",
        catalog=sorted(catalog, key=lambda e: str(e.get("type"))),
        compute=compute,
        agents=agents,
        volume=volume,
        problems=[p for p in (compute_err, agents_err, volume_err) if p],
    )


COMPUTE_QUOTAS = [
    ("instances", "Instances"),
    ("cores", "VCPUs"),
    ("ram", "RAM (MB)"),
    ("metadata_items", "Metadata Items"),
    ("key_pairs", "Key Pairs"),
    ("server_groups", "Server Groups"),
    ("server_group_members", "Server Group Members"),
]
VOLUME_QUOTAS = [
    ("volumes", "Volumes"),
    ("snapshots", "Volume Snapshots"),
    ("gigabytes", "Total Size of Volumes and Snapshots (GiB)"),
    ("backups", "Volume Backups"),
    ("backup_gigabytes", "Total Size of Backups (GiB)"),
    ("per_volume_gigabytes", "Per Volume Size (GiB)"),
]
NETWORK_QUOTAS = [
    ("network", "Networks"),
    ("subnet", "Subnets"),
    ("port", "Ports"),
    ("router", "Routers"),
    ("floatingip", "Floating IPs"),
    ("security_group", "Security Groups"),
    ("security_group_rule", "Security Group Rules"),
]


async def _defaults(ctx: Ctx) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    compute, volume, network = await asyncio.gather(
        ctx.api.get("compute", "/os-quota-class-sets/default"),
        ctx.api.get("volumev3", "/os-quota-class-sets/default"),
        ctx.api.get("network", f"/v2.0/quotas/{ctx.user.project_id}/default"),
    )
    return compute["quota_class_set"], volume["quota_class_set"], network["quota"]


@page(admin=True)
async def defaults(ctx: Ctx) -> Response:
    compute, volume, network = await _defaults(ctx)

    def rows(names: list[tuple[str, str]], values: dict[str, Any]) -> list[tuple[str, Any]]:
        return [(label, values[key]) for key, label in names if key in values]

    return ctx.render(
        "admin/defaults.html",
        quota_sections=[
            ("Compute Quotas", rows(COMPUTE_QUOTAS, compute)),
            ("Volume Quotas", rows(VOLUME_QUOTAS, volume)),
            ("Network Quotas", rows(NETWORK_QUOTAS, network)),
        ],
    )


@page(admin=True)
async def defaults_update(ctx: Ctx) -> Response:
    """Compute's and volume's default quota classes (Neutron's defaults are its
    configuration's: no API changes them, so neither does this page)."""
    compute, volume, _ = await _defaults(ctx)
    fields = [
        Field(f"compute_{k}", label, "number", str(compute.get(k, "")))
        for k, label in COMPUTE_QUOTAS
        if k in compute
    ] + [
        Field(f"volume_{k}", label, "number", str(volume.get(k, "")))
        for k, label in VOLUME_QUOTAS
        if k in volume
    ]
    form = Form(
        title="Update Default Quotas",
        fields=fields,
        button="Update Defaults",
        cancel=ctx.url("/admin/defaults/"),
        template=PANEL,
    )
    if ctx.request.method == "GET":
        return form.render(ctx)
    values = form.fill(await ctx.form())
    try:
        body = {f.name: whole(values, f.name, -1) for f in fields}
        new_compute = {k[8:]: v for k, v in body.items() if k.startswith("compute_")}
        new_volume = {k[7:]: v for k, v in body.items() if k.startswith("volume_")}
        await ctx.api.put(
            "compute", "/os-quota-class-sets/default", {"quota_class_set": new_compute}
        )
        await ctx.api.put(
            "volumev3", "/os-quota-class-sets/default", {"quota_class_set": new_volume}
        )
    except (FormError, APIError) as exc:
        form.refused(exc)
        return form.render(ctx)
    ctx.flash("success", "Updated the default quotas.")
    return ctx.redirect("/admin/defaults/")


ROUTES = [
    Route("/admin/", overview, methods=["GET"]),
    Route("/admin/hypervisors/", hypervisors, methods=["GET"]),
    Route("/admin/info/", info, methods=["GET"]),
    Route("/admin/defaults/", defaults, methods=["GET"]),
    Route("/admin/defaults/update_defaults/", defaults_update, methods=["GET", "POST"]),
]
