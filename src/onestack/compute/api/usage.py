"""Simple tenant usage (``os-simple-tenant-usage``): server-hours over a period."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common import errors
from onestack.common.auth import get_context
from onestack.common.db import utcnow
from onestack.common.http import json_response
from onestack.common.pagination import next_link
from onestack.compute.api import checks
from onestack.compute.api.helpers import at_least, authorize, href, param, service
from onestack.compute.service.usage import TenantUsage

FORMATS = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%d %H:%M:%S.%f")


def _when(value: str | None, default: datetime) -> datetime:
    if value is None:
        return default
    for fmt in FORMATS:
        try:
            # Naive UTC, as the rows' timestamps are.
            return datetime.strptime(value, fmt)
        except ValueError:
            continue
    raise errors.BadRequest("Datetime is in invalid format")


def _period(request: Request) -> tuple[datetime, datetime]:
    now = utcnow()
    start = _when(request.query_params.get("start"), now)
    stop = _when(request.query_params.get("end"), now + timedelta(microseconds=1))
    if not start < stop:
        raise errors.BadRequest(
            "Invalid start time. The start time cannot occur after the end time."
        )
    return start, stop


def _view(u: TenantUsage, detailed: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "tenant_id": u.tenant_id,
        "start": checks.nova_time(u.start),
        "stop": checks.nova_time(u.stop),
        "total_hours": u.total_hours,
        "total_local_gb_usage": u.total_local_gb_usage,
        "total_memory_mb_usage": u.total_memory_mb_usage,
        "total_vcpus_usage": u.total_vcpus_usage,
    }
    if detailed:
        out["server_usages"] = [
            {
                **s,
                "started_at": checks.nova_time(s["started_at"]),
                "ended_at": checks.nova_time(s["ended_at"]),
            }
            for s in u.server_usages
        ]
    return out


def _paging(request: Request) -> tuple[int | None, str | None]:
    if not at_least(request, 40):
        return None, None
    q = request.query_params
    limit = checks.query_int(q["limit"], "limit", 0) if "limit" in q else None
    return limit, q.get("marker")


async def list_usage(request: Request) -> Response:
    authorize(request, "os-simple-tenant-usage:list", {})
    start, stop = _period(request)
    detailed = checks.query_bool(request.query_params.get("detailed", "0"), "detailed")
    limit, marker = _paging(request)
    usages, last = await service(request).usage.report(start, stop, None, limit, marker)
    body: dict[str, Any] = {"tenant_usages": [_view(u, detailed) for u in usages]}
    if last is not None:
        q = request.query_params
        body["tenant_usages_links"] = [
            {"rel": "next", "href": next_link(href(request, "os-simple-tenant-usage"), q, last)}
        ]
    return json_response(body)


async def show_usage(request: Request) -> Response:
    project_id = param(request, "project_id")
    get_context(request)
    authorize(request, "os-simple-tenant-usage:show", {"project_id": project_id})
    start, stop = _period(request)
    limit, marker = _paging(request)
    usages, last = await service(request).usage.report(start, stop, project_id, limit, marker)
    body: dict[str, Any] = {"tenant_usage": _view(usages[0], True) if usages else {}}
    if last is not None:
        q = request.query_params
        path = f"os-simple-tenant-usage/{project_id}"
        body["tenant_usage_links"] = [
            {"rel": "next", "href": next_link(href(request, path), q, last)}
        ]
    return json_response(body)


routes: list[Route] = [
    Route("/os-simple-tenant-usage", list_usage, methods=["GET"]),
    Route("/os-simple-tenant-usage/{project_id}", show_usage, methods=["GET"]),
]
