"""The hosts: ``os-availability-zone``, ``os-hypervisors``, ``os-services`` (and
``os-aggregates``, in its own module)."""

from __future__ import annotations

import socket
import time
import uuid as uuidlib
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common import api, errors
from onestack.common.http import empty, json_response
from onestack.common.pagination import next_link
from onestack.compute.api import aggregates, checks
from onestack.compute.api.helpers import at_least, authorize, href, param, service, valid_member
from onestack.compute.bootstrap import local_agent
from onestack.compute.server_schemas import (
    Members,
    ServiceDisableLogReason,
    ServiceEnable,
    ServiceForceDown,
    ServiceUpdate,
)
from onestack.compute.service.hosts import (
    HYPERVISOR_FIGURES,
    HypervisorView,
    ServiceView,
)

NOT_FOUND = "The resource could not be found."


def _this_host(request: Request) -> str:
    return request.app.state.runtime.settings.compute.host or socket.gethostname()


async def touch(request: Request) -> None:
    """Record this API host's control services (Nova's conductor and scheduler) as up."""
    await service(request).hosts.touch_control(_this_host(request))


# -- os-availability-zone ---------------------------------------------------------------


async def list_zones(request: Request) -> Response:
    authorize(request, "os-availability-zone:list", {})
    zones = await service(request).hosts.zones()
    info = [
        {"zoneName": z, "zoneState": {"available": ok}, "hosts": None}
        for z, ok in sorted(zones.items(), key=lambda kv: (not kv[1], kv[0]))
    ]
    return json_response({"availabilityZoneInfo": info})


async def list_zones_detail(request: Request) -> Response:
    authorize(request, "os-availability-zone:detail", {})
    await touch(request)
    info = []
    for zone, ok, hosts in sorted(
        await service(request).hosts.zones_detail(), key=lambda z: (not z[1], z[0])
    ):
        shown: dict[str, Any] | None = None
        if ok:
            shown = {
                host: {
                    binary: {**state, "updated_at": checks.nova_time(state["updated_at"])}
                    for binary, state in binaries.items()
                }
                for host, binaries in hosts.items()
            }
        info.append({"zoneName": zone, "zoneState": {"available": ok}, "hosts": shown})
    return json_response({"availabilityZoneInfo": info})


# -- os-services ------------------------------------------------------------------------


def service_view(request: Request, v: ServiceView) -> dict[str, Any]:
    r = v.row
    out: dict[str, Any] = {
        "id": r.uuid if at_least(request, 53) else r.id,
        "binary": r.binary,
        "host": r.host,
        "zone": v.zone,
        "status": "disabled" if r.disabled else "enabled",
        "state": "up" if v.up else "down",
        "updated_at": checks.nova_time(r.updated_at),
        "disabled_reason": r.disabled_reason,
    }
    if at_least(request, 11):
        out["forced_down"] = r.forced_down
    return out


async def list_services(request: Request) -> Response:
    authorize(request, "os-services:list", {})
    await touch(request)
    q = request.query_params
    views = await service(request).hosts.services(q.get("host"), q.get("binary"))
    return json_response({"services": [service_view(request, v) for v in views]})


async def update_service(request: Request) -> Response:
    """PUT /os-services/{id}: from 2.53 the service's uuid with a status/forced_down body;
    before, the legacy actions enable, disable, disable-log-reason and force-down (2.11)."""
    authorize(request, "os-services:update", {})
    action = param(request, "service_id")
    body = (await api.body(request, Members)).members
    hosts = service(request).hosts
    if at_least(request, 53):
        try:
            uuidlib.UUID(action)
        except ValueError:
            raise errors.BadRequest(f"Invalid uuid {action}") from None
        upd = valid_member(request, ServiceUpdate, body)
        v = await hosts.update_service(
            action,
            status=upd.status,
            disabled_reason=upd.disabled_reason,
            forced_down=upd.forced_down,
        )
        return json_response({"service": service_view(request, v)})
    legacy = ("enable", "disable", "disable-log-reason")
    if action not in legacy and not (action == "force-down" and at_least(request, 11)):
        raise errors.NotFound(f"Unknown action {action}")
    if action == "force-down":
        down = valid_member(request, ServiceForceDown, body)
        await hosts.update_by_host(down.host, down.binary, forced_down=down.forced_down)
        out: dict[str, Any] = {"host": down.host, "binary": down.binary}
        return json_response({"service": {**out, "forced_down": down.forced_down}})
    logged = action == "disable-log-reason"
    args = valid_member(request, ServiceDisableLogReason if logged else ServiceEnable, body)
    host, binary = args.host, args.binary
    if action == "enable":
        await hosts.update_by_host(host, binary, status="enabled")
        return json_response({"service": {"host": host, "binary": binary, "status": "enabled"}})
    reason = args.disabled_reason if isinstance(args, ServiceDisableLogReason) else None
    await hosts.update_by_host(host, binary, status="disabled", disabled_reason=reason)
    out = {"host": host, "binary": binary, "status": "disabled"}
    if reason is not None:
        out["disabled_reason"] = reason
    return json_response({"service": out})


async def delete_service(request: Request) -> Response:
    authorize(request, "os-services:delete", {})
    service_id = param(request, "service_id")
    by_uuid = at_least(request, 53)
    if by_uuid:
        try:
            uuidlib.UUID(service_id)
        except ValueError:
            raise errors.BadRequest(f"Invalid uuid {service_id}") from None
    elif not service_id.isdigit():
        raise errors.BadRequest(f"Invalid ID {service_id}")
    await service(request).hosts.delete_service(service_id, by_uuid=by_uuid)
    return empty(204)


# -- os-hypervisors ---------------------------------------------------------------------


def _uptime(request: Request, host: str) -> str | None:
    """``uptime``'s line for this process's own compute host (others are not asked)."""
    agent = local_agent(api.runtime_of(request))
    if agent is None or agent.host != host:
        return None
    try:
        with open("/proc/uptime") as f:
            seconds = float(f.read().split()[0])
        with open("/proc/loadavg") as f:
            load = f.read().split()[:3]
    except OSError:
        return None
    days, rest = divmod(int(seconds), 86400)
    hours, minutes = divmod(rest // 60, 60)
    now = time.strftime("%H:%M:%S", time.gmtime())
    return (
        f" {now} up {days} days, {hours:2d}:{minutes:02d},  load average: "
        f"{load[0]}, {load[1]}, {load[2]}"
    )


def hypervisor_view(
    request: Request,
    v: HypervisorView,
    full: bool,
    servers: list[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    uuids = at_least(request, 53)
    n, svc = v.node, v.service
    out: dict[str, Any] = {
        "id": n.uuid if uuids else n.id,
        "hypervisor_hostname": n.hypervisor_hostname,
        "state": "up" if v.up else "down",
        "status": "disabled" if svc.disabled else "enabled",
    }
    if full:
        if not at_least(request, 88):
            for key in HYPERVISOR_FIGURES:
                out[key] = getattr(v, key)
            if at_least(request, 28):
                out["cpu_info"] = dict(n.cpu_info or {})
            else:
                out["cpu_info"] = orjson.dumps(n.cpu_info or {}).decode()
        out["hypervisor_type"] = n.hypervisor_type
        out["hypervisor_version"] = n.hypervisor_version
        out["host_ip"] = n.host_ip or "127.0.0.1"
        out["service"] = {
            "id": svc.uuid if uuids else svc.id,
            "host": n.host,
            "disabled_reason": svc.disabled_reason,
        }
        if at_least(request, 88):
            out["uptime"] = _uptime(request, n.host)
    if servers is not None:
        out["servers"] = [{"name": name, "uuid": u} for u, name in servers]
    return out


async def _hypervisor_list(request: Request, full: bool) -> Response:
    authorize(request, "os-hypervisors:list-detail" if full else "os-hypervisors:list", {})
    q = request.query_params
    hosts = service(request).hosts
    limit = marker = pattern = None
    with_servers = False
    if at_least(request, 33):
        limit = checks.query_int(q["limit"], "limit") if "limit" in q else None
        marker = q.get("marker")
    if at_least(request, 53):
        pattern = q.get("hypervisor_hostname_pattern")
        with_servers = (
            checks.query_bool(q["with_servers"], "with_servers") if ("with_servers" in q) else False
        )
        if pattern is not None and ("limit" in q or marker):
            raise errors.BadRequest(
                "Paging over hypervisors with the hypervisor_hostname_pattern query parameter "
                "is not supported."
            )
    views = await hosts.hypervisors(
        limit=limit, marker=marker, by_uuid=at_least(request, 53), pattern=pattern
    )
    if pattern is not None and not views:
        raise errors.NotFound(f"No hypervisor matching '{pattern}' could be found.")
    out = []
    for v in views:
        servers = await hosts.servers_on(v.node.host) if with_servers else None
        if servers is not None and not servers and not at_least(request, 75):
            servers = None
        out.append(hypervisor_view(request, v, full, servers))
    body: dict[str, Any] = {"hypervisors": out}
    if limit is not None and views and len(views) == limit:
        last = views[-1].node
        path = "os-hypervisors/detail" if full else "os-hypervisors"
        mark = last.uuid if at_least(request, 53) else str(last.id)
        body["hypervisors_links"] = [
            {"rel": "next", "href": next_link(href(request, path), q, mark)}
        ]
    return json_response(body)


async def list_hypervisors(request: Request) -> Response:
    return await _hypervisor_list(request, full=False)


async def list_hypervisors_detail(request: Request) -> Response:
    return await _hypervisor_list(request, full=True)


def _check_id(request: Request, node_id: str) -> None:
    if at_least(request, 53):
        try:
            uuidlib.UUID(node_id)
        except ValueError:
            raise errors.BadRequest(f"Invalid uuid {node_id}") from None
    elif not node_id.isdigit():
        raise errors.NotFound(f"Hypervisor with ID '{node_id}' could not be found.")


async def show_hypervisor(request: Request) -> Response:
    authorize(request, "os-hypervisors:show", {})
    node_id = param(request, "hypervisor_id")
    _check_id(request, node_id)
    hosts = service(request).hosts
    v = await hosts.hypervisor(node_id, by_uuid=at_least(request, 53))
    servers = None
    q = request.query_params
    wanted = at_least(request, 53) and "with_servers" in q
    if wanted and checks.query_bool(q["with_servers"], "with_servers"):
        servers = await hosts.servers_on(v.node.host)
        if not servers and not at_least(request, 75):
            servers = None
    return json_response({"hypervisor": hypervisor_view(request, v, True, servers)})


async def hypervisor_uptime(request: Request) -> Response:
    if at_least(request, 88):
        raise errors.NotFound(NOT_FOUND)
    authorize(request, "os-hypervisors:uptime", {})
    node_id = param(request, "hypervisor_id")
    _check_id(request, node_id)
    v = await service(request).hosts.hypervisor(node_id, by_uuid=at_least(request, 53))
    uptime = _uptime(request, v.node.host)
    if uptime is None:
        raise errors.BadRequest(f"Compute service of {v.node.host} is unavailable at this time.")
    out = hypervisor_view(request, v, False)
    out["uptime"] = uptime
    return json_response({"hypervisor": out})


async def hypervisor_statistics(request: Request) -> Response:
    if at_least(request, 88):
        raise errors.NotFound(NOT_FOUND)
    authorize(request, "os-hypervisors:statistics", {})
    return json_response({"hypervisor_statistics": await service(request).hosts.statistics()})


async def _search(request: Request, with_servers: bool) -> Response:
    if at_least(request, 53):
        raise errors.NotFound(NOT_FOUND)
    authorize(request, "os-hypervisors:servers" if with_servers else "os-hypervisors:search", {})
    pattern = param(request, "pattern")
    hosts = service(request).hosts
    views = await hosts.hypervisors(pattern=pattern)
    if not views:
        raise errors.NotFound(f"No hypervisor matching '{pattern}' could be found.")
    out = []
    for v in views:
        servers = await hosts.servers_on(v.node.host) if with_servers else None
        out.append(hypervisor_view(request, v, False, servers or None))
    return json_response({"hypervisors": out})


async def search_hypervisors(request: Request) -> Response:
    return await _search(request, with_servers=False)


async def hypervisor_servers(request: Request) -> Response:
    return await _search(request, with_servers=True)


routes: list[Route] = [
    Route("/os-availability-zone", list_zones, methods=["GET"]),
    Route("/os-availability-zone/detail", list_zones_detail, methods=["GET"]),
    Route("/os-services", list_services, methods=["GET"]),
    Route("/os-services/{service_id}", update_service, methods=["PUT"]),
    Route("/os-services/{service_id}", delete_service, methods=["DELETE"]),
    Route("/os-hypervisors", list_hypervisors, methods=["GET"]),
    Route("/os-hypervisors/detail", list_hypervisors_detail, methods=["GET"]),
    Route("/os-hypervisors/statistics", hypervisor_statistics, methods=["GET"]),
    Route("/os-hypervisors/{hypervisor_id}", show_hypervisor, methods=["GET"]),
    Route("/os-hypervisors/{hypervisor_id}/uptime", hypervisor_uptime, methods=["GET"]),
    Route("/os-hypervisors/{pattern}/search", search_hypervisors, methods=["GET"]),
    Route("/os-hypervisors/{pattern}/servers", hypervisor_servers, methods=["GET"]),
    *aggregates.routes,
]
