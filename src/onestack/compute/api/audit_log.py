"""``os-instance_usage_audit_log``: the state of the instance usage audit for a period (Nova's
monthly period ending before the time given). OneStack's compute hosts run no usage audit
(Nova's ``instance_usage_audit`` option, off by default there too), so every compute host is
reported as not run, as Nova reports it then."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common import errors
from onestack.common.http import json_response
from onestack.compute.api.helpers import authorize, param, service
from onestack.compute.service.hosts import COMPUTE_BINARY


def _period(before: datetime) -> tuple[datetime, datetime]:
    """The last whole month ending at or before ``before`` (Nova's default audit period)."""
    end = before.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    start = (
        end.replace(year=end.year - 1, month=12)
        if end.month == 1
        else end.replace(month=end.month - 1)
    )
    return start, end


async def _report(request: Request, before: datetime) -> dict[str, Any]:
    authorize(request, "os-instance-usage-audit-log:list")
    hosts = sorted(
        {v.row.host for v in await service(request).hosts.services(binary=COMPUTE_BINARY)}
    )
    start, end = _period(before)
    return {
        "hosts_not_run": hosts,
        "log": {},
        "num_hosts": len(hosts),
        "num_hosts_done": 0,
        "num_hosts_not_run": len(hosts),
        "num_hosts_running": 0,
        "overall_status": f"0 of {len(hosts)} hosts done. 0 errors.",
        "period_beginning": str(start),
        "period_ending": str(end),
        "total_errors": 0,
        "total_instances": 0,
    }


async def list_logs(request: Request) -> Response:
    now = datetime.now(UTC).replace(tzinfo=None)
    return json_response({"instance_usage_audit_logs": await _report(request, now)})


async def show_log(request: Request) -> Response:
    raw = param(request, "before_timestamp")
    for fmt in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S"):
        try:
            before = datetime.strptime(raw, fmt)
            break
        except ValueError:
            continue
    else:
        raise errors.BadRequest(f"Invalid timestamp for date {raw}")
    return json_response({"instance_usage_audit_log": await _report(request, before)})


routes = [
    Route("/os-instance_usage_audit_log", list_logs, methods=["GET"]),
    Route("/os-instance_usage_audit_log/{before_timestamp}", show_log, methods=["GET"]),
]
