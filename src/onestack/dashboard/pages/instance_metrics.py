"""An instance's metrics as charts (CPU, memory, disks, network) from the metric API
(Gnocchi), drawn on the server as SVG: no chart library, no script."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from onestack.dashboard.client import APIError
from onestack.dashboard.pages.instances import row
from onestack.dashboard.web import Ctx, page

PERIODS = {"1h": ("Last hour", 3600), "6h": ("Last 6 hours", 6 * 3600),
           "1d": ("Last day", 86400), "7d": ("Last week", 7 * 86400)}  # fmt: skip
WIDTH, HEIGHT = 640, 160


@dataclass(frozen=True)
class Chart:
    title: str
    unit: str
    points: str  # SVG polyline points
    last: float | None
    peak: float
    count: int

    @property
    def dot(self) -> tuple[str, str] | None:
        """A lone point's place: a one-point polyline draws nothing, so it is drawn as a dot."""
        if self.count != 1:
            return None
        x, y = self.points.split(",")
        return x, y


def _rates(measures: list[list[Any]], scale: float) -> list[tuple[float, float]]:
    """Per-second change of a cumulative counter between its points, times ``scale``."""
    out = []
    for (t0, _, v0), (t1, _, v1) in itertools.pairwise(measures):
        seconds = (_when(t1) - _when(t0)) or 1.0
        if v1 >= v0:  # a counter that went back (a reboot) starts again: no point
            out.append((_when(t1), (v1 - v0) / seconds * scale))
    return out


def _when(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def chart(title: str, unit: str, series: list[tuple[float, float]], start: float,
          end: float) -> Chart:  # fmt: skip
    peak = max((v for _, v in series), default=0.0)
    top = peak * 1.1 or 1.0
    span = (end - start) or 1.0
    points = " ".join(
        f"{(t - start) / span * WIDTH:.1f},{HEIGHT - v / top * HEIGHT:.1f}" for t, v in series
    )
    last = series[-1][1] if series else None
    return Chart(title, unit, points, last, peak, len(series))


async def _measures(ctx: Ctx, metric_id: str, start: str) -> list[list[Any]]:
    try:
        found = await ctx.api.get(
            "metric", f"/v1/metric/{metric_id}/measures", start=start, refresh="true"
        )
    except APIError:
        return []
    # Every granularity of the metric's archive policy comes back: the finest draws the line.
    finest = min((m[1] for m in found), default=0)
    return sorted((m for m in found if m[1] == finest), key=lambda m: _when(m[0]))


async def _resources(ctx: Ctx, kind: str, server_id: str) -> list[dict[str, Any]]:
    try:
        found = await ctx.api.request(
            "POST", "metric", f"/v1/search/resource/{kind}",
            json={"=": {"instance_id": server_id}},
        )  # fmt: skip
    except APIError:
        return []
    return list(found.json())


async def charts(ctx: Ctx, server: dict[str, Any], seconds: int) -> list[Chart]:
    now = datetime.now(UTC)
    start_dt = now - timedelta(seconds=seconds)
    start, t0, t1 = start_dt.isoformat(), start_dt.timestamp(), now.timestamp()
    try:
        instance = await ctx.api.get("metric", f"/v1/resource/instance/{server['id']}")
    except APIError as exc:
        if exc.status == 404:
            return []
        raise
    metrics: dict[str, str] = instance.get("metrics", {})
    vcpus = max(1, int((server.get("flavor") or {}).get("vcpus", 1)))
    wanted: list[tuple[str, str, str, float, bool]] = [
        (metrics.get("cpu", ""), "CPU", "%", 100 / 1e9 / vcpus, True),
        (metrics.get("memory.usage", ""), "Memory used", "MB", 1.0, False),
    ]
    disks, nics = await asyncio.gather(
        _resources(ctx, "instance_disk", server["id"]),
        _resources(ctx, "instance_network_interface", server["id"]),
    )
    for disk in sorted(disks, key=lambda d: str(d.get("name"))):
        m, name = disk.get("metrics", {}), disk.get("name", "disk")
        wanted.append((m.get("disk.device.read.bytes", ""), f"Disk {name} read", "B/s", 1, True))
        wanted.append((m.get("disk.device.write.bytes", ""), f"Disk {name} write", "B/s", 1, True))
    for nic in sorted(nics, key=lambda n: str(n.get("name"))):
        m, name = nic.get("metrics", {}), nic.get("name", "nic")
        wanted.append((m.get("network.incoming.bytes", ""), f"{name} in", "B/s", 1, True))
        wanted.append((m.get("network.outgoing.bytes", ""), f"{name} out", "B/s", 1, True))
    wanted = [w for w in wanted if w[0]]
    if not wanted:
        return []  # nothing measured yet: the page says so once, not chart by chart
    found = await asyncio.gather(*(_measures(ctx, w[0], start) for w in wanted))
    # A device kind no sample has named yet (no disk read, a server without ports) still gets
    # its place, empty, so its absence reads as "no data" rather than as a missing chart.
    missing = [kind for kind, seen in (("Disks", disks), ("Network", nics)) if not seen]
    out = []
    for (_, title, unit, scale, cumulative), measures in zip(wanted, found, strict=True):
        series = (
            _rates(measures, scale)
            if cumulative
            else [(_when(t), float(v) * scale) for t, _, v in measures]
        )
        out.append(chart(title, unit, series, t0, t1))
    return out + [chart(kind, "B/s", [], t0, t1) for kind in missing]


@page()
async def metrics(ctx: Ctx) -> Response:
    server_id = ctx.request.path_params["server_id"]
    server = (await ctx.api.get("compute", f"/servers/{server_id}"))["server"]
    period = ctx.request.query_params.get("period", "1h")
    label, seconds = PERIODS.get(period, PERIODS["1h"])
    found = await charts(ctx, server, seconds)
    return ctx.render(
        "project/instance_metrics.html",
        server=server,
        row=row(server, is_admin=ctx.user.is_admin),
        tab="metrics",
        charts=found,
        periods=PERIODS,
        period=period if period in PERIODS else "1h",
        period_label=label,
        width=WIDTH,
        height=HEIGHT,
    )


ROUTES = [Route("/project/instances/{server_id}/metrics/", metrics, methods=["GET"])]
