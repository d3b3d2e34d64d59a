"""The project's overview: quota use as charts, and usage over a chosen period."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from onestack.dashboard.client import APIError
from onestack.dashboard.web import Ctx, page


@dataclass(frozen=True)
class Gauge:
    label: str
    used: float
    limit: float  # -1: unlimited
    unit: str = ""

    @property
    def fraction(self) -> float:
        if self.limit <= 0:
            return 0.0 if self.limit < 0 or not self.used else 1.0
        return min(1.0, self.used / self.limit)

    @property
    def limit_text(self) -> str:
        return "No limit" if self.limit < 0 else f"{_num(self.limit)}{self.unit}"

    @property
    def used_text(self) -> str:
        return f"{_num(self.used)}{self.unit}"


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


async def _compute(ctx: Ctx) -> list[Gauge]:
    absolute = (await ctx.api.get("compute", "/limits"))["limits"]["absolute"]
    return [
        Gauge("Instances", absolute["totalInstancesUsed"], absolute["maxTotalInstances"]),
        Gauge("VCPUs", absolute["totalCoresUsed"], absolute["maxTotalCores"]),
        Gauge("RAM", absolute["totalRAMUsed"], absolute["maxTotalRAMSize"], " MB"),
    ]


async def _volume(ctx: Ctx) -> list[Gauge]:
    absolute = (await ctx.api.get("volumev3", "/limits"))["limits"]["absolute"]
    return [
        Gauge("Volumes", absolute["totalVolumesUsed"], absolute["maxTotalVolumes"]),
        Gauge("Volume Snapshots", absolute["totalSnapshotsUsed"], absolute["maxTotalSnapshots"]),
        Gauge(
            "Volume Storage",
            absolute["totalGigabytesUsed"],
            absolute["maxTotalVolumeGigabytes"],
            " GB",
        ),
    ]


async def _network(ctx: Ctx) -> list[Gauge]:
    quota = (await ctx.api.get("network", f"/v2.0/quotas/{ctx.user.project_id}/details"))["quota"]
    names = [
        ("floatingip", "Floating IPs"),
        ("security_group", "Security Groups"),
        ("security_group_rule", "Security Group Rules"),
        ("network", "Networks"),
        ("port", "Ports"),
        ("router", "Routers"),
    ]
    return [Gauge(label, quota[key]["used"], quota[key]["limit"]) for key, label in names]


async def _gauges(ctx: Ctx) -> tuple[list[Gauge], list[str]]:
    """Every service's gauges; a service that does not answer is named, not fatal."""
    results = await asyncio.gather(
        _compute(ctx), _volume(ctx), _network(ctx), return_exceptions=True
    )
    gauges: list[Gauge] = []
    missing: list[str] = []
    for name, result in zip(("Compute", "Volume", "Network"), results, strict=True):
        if isinstance(result, APIError):
            missing.append(f"{name}: {result.message}")
        elif isinstance(result, BaseException):
            raise result
        else:
            gauges += result
    return gauges, missing


def _period(ctx: Ctx) -> tuple[date, date]:
    today = datetime.now(UTC).date()
    try:
        start = date.fromisoformat(ctx.request.query_params.get("start", ""))
    except ValueError:
        start = today.replace(day=1)
    try:
        end = date.fromisoformat(ctx.request.query_params.get("end", ""))
    except ValueError:
        end = today
    return (start, end) if start <= end else (end, start)


async def _usage(ctx: Ctx, start: date, end: date, **paging: Any) -> dict[str, Any]:
    until = end + timedelta(days=1)
    found = await ctx.api.get(
        "compute",
        f"/os-simple-tenant-usage/{ctx.user.project_id}",
        start=f"{start.isoformat()}T00:00:00",
        end=f"{until.isoformat()}T00:00:00",
        **paging,
    )
    usage: dict[str, Any] = found.get("tenant_usage") or {}
    if any(link.get("rel") == "next" for link in found.get("tenant_usage_links", [])):
        usage["next_marker"] = usage["server_usages"][-1]["instance_id"]
    return usage


@page()
async def overview(ctx: Ctx) -> Response:
    start, end = _period(ctx)
    marker = ctx.request.query_params.get("marker")
    # The totals are the period's; the table is one page of its instances (rendering 1,000
    # rows was half the page's time), paged through the API.
    (gauges, missing), usage, shown = await asyncio.gather(
        _gauges(ctx),
        _usage(ctx, start, end),
        _usage(ctx, start, end, limit=ctx.page_size, marker=marker),
    )
    period = {"start": start.isoformat(), "end": end.isoformat()}
    nxt = shown.get("next_marker")
    return ctx.render(
        "project/overview.html",
        gauges=gauges,
        missing=missing,
        usage=usage,
        active=sum(1 for s in usage.get("server_usages", []) if s.get("state") == "active"),
        servers=shown.get("server_usages", []),
        next_url=ctx.url("/project/", marker=nxt, **period) if nxt else "",
        first_url=ctx.url("/project/", **period),
        paged=bool(marker),
        start=period["start"],
        end=period["end"],
    )


ROUTES = [Route("/project/", overview, methods=["GET"])]
