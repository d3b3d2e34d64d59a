"""``os-hosts`` (removed in 2.43): every service's host, a compute host's usage, enabling or
disabling its compute service. Host maintenance mode and power actions are the hypervisor
driver's in Nova and none of Nova's usual drivers does them: 501 here too."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common import api, errors
from onestack.common.http import json_response
from onestack.compute.api import hosts as hosts_api
from onestack.compute.api.helpers import at_least, authorize, param, service
from onestack.compute.server_schemas import HostUpdate
from onestack.compute.service.hosts import COMPUTE_BINARY

LAST = 42  # the last microversion with os-hosts


class NotImplementedByDriver(errors.OneStackError):
    code = 501
    title = "Not Implemented"


def _gone(request: Request) -> None:
    if at_least(request, LAST + 1):
        raise errors.NotFound("The resource could not be found.")


async def list_hosts(request: Request) -> Response:
    _gone(request)
    authorize(request, "os-hosts:list", {})
    await hosts_api.touch(request)
    zone = request.query_params.get("zone")
    hosts: list[dict[str, Any]] = [
        {"host_name": v.row.host, "service": v.row.binary.removeprefix("nova-"), "zone": v.zone}
        for v in await service(request).hosts.services()
    ]
    if zone:
        hosts = [h for h in hosts if h["zone"] == zone]
    return json_response({"hosts": hosts})


async def show_host(request: Request) -> Response:
    _gone(request)
    authorize(request, "os-hosts:show", {})
    rows = await service(request).hosts.host_resources(param(request, "host_name"))
    return json_response({"host": rows})


async def _compute_host(request: Request, host: str) -> None:
    if not await service(request).hosts.services(host, COMPUTE_BINARY):
        raise errors.NotFound(f"Compute host {host} could not be found.")


async def update_host(request: Request) -> Response:
    _gone(request)
    authorize(request, "os-hosts:update", {})
    host = param(request, "host_name")
    body = await api.body(request, HostUpdate)
    await _compute_host(request, host)
    if body.maintenance_mode is not None or body.status is None:
        raise NotImplementedByDriver("Virt driver does not implement host maintenance mode.")
    status = body.status + "d"
    await service(request).hosts.update_by_host(host, COMPUTE_BINARY, status=status)
    return json_response({"host": host, "status": status})


def _power(action: str) -> Any:
    async def handler(request: Request) -> Response:
        _gone(request)
        authorize(request, f"os-hosts:{action}", {})
        await _compute_host(request, param(request, "host_name"))
        raise NotImplementedByDriver("Virt driver does not implement host power management.")

    return handler


routes = [
    Route("/os-hosts", list_hosts, methods=["GET"]),
    Route("/os-hosts/{host_name}", show_host, methods=["GET"]),
    Route("/os-hosts/{host_name}", update_host, methods=["PUT"]),
    Route("/os-hosts/{host_name}/startup", _power("start"), methods=["GET"]),
    Route("/os-hosts/{host_name}/shutdown", _power("shutdown"), methods=["GET"]),
    Route("/os-hosts/{host_name}/reboot", _power("reboot"), methods=["GET"]),
]
