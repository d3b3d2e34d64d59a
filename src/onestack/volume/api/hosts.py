"""The deployment as Cinder shows it: availability zones, services, hosts, backend
capabilities and scheduler pools."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from onestack.common import api, errors
from onestack.common.api import authorize, param, runtime_of
from onestack.common.http import json_response, query_bool
from onestack.volume.api.helpers import both, context, svc, version, views
from onestack.volume.microversions import at_least
from onestack.volume.schemas import ServiceUpdate
from onestack.volume.service.base import now
from onestack.volume.views import iso


async def zones(request: Request) -> Response:
    context(request)
    authorize(request, "volume_extension:availability_zone_list")
    items = [
        {"zoneName": z, "zoneState": {"available": up}}
        for z, up in await svc(request).pools.zones()
    ]
    return json_response({"availabilityZoneInfo": items})


async def services(request: Request) -> Response:
    context(request)
    authorize(request, "volume_extension:services:index")
    st = runtime_of(request).settings
    v = version(request)
    pools = await svc(request).pools.listing()
    down_before = svc(request).pools.down_before()
    q = request.query_params
    out: list[dict[str, Any]] = [
        _service(
            "cinder-scheduler",
            st.volume.host or _hostname(),
            st.volume.availability_zone,
            True,
            iso(now()),
            v,
        )
    ]
    seen: set[str] = set()
    for p in pools:
        host = f"{p.host}@{p.backend}"
        if host in seen:
            continue
        seen.add(host)
        up = p.updated_at >= down_before  # type: ignore[operator]
        item = _service("cinder-volume", host, p.availability_zone, up, iso(p.updated_at), v)
        if p.disabled:
            item.update(status="disabled", disabled_reason=p.disabled_reason)
        out.append(item)
    out = [s for s in out if q.get("binary", s["binary"]) == s["binary"]]
    if "host" in q:  # Cinder's filter: the host itself, or any backend of it (host@backend)
        out = [s for s in out if q["host"] in (s["host"], s["host"].split("@", 1)[0])]
    return json_response({"services": out})


def _hostname() -> str:
    import socket

    return socket.gethostname()


def _service(
    binary: str, host: str, zone: str, up: bool, updated: str | None, v: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "binary": binary, "host": host, "zone": zone, "status": "enabled",
        "state": "up" if up else "down", "updated_at": updated, "disabled_reason": None,
    }  # fmt: skip
    if binary == "cinder-volume":
        body.update(frozen=False, replication_status="disabled", active_backend_id=None)
        if at_least(v, "3.49"):
            body["backend_state"] = "up" if up else "down"
    if at_least(v, "3.7"):
        body["cluster"] = None
    return body


async def service_update(request: Request) -> Response:
    """``PUT /os-services/{enable|disable|disable-log-reason}`` of a cinder-volume host."""
    context(request)
    authorize(request, "volume_extension:services:update")
    action = param(request, "action")
    req = await api.body(request, ServiceUpdate)
    host, binary = req.host, req.binary
    if action in ("freeze", "thaw"):  # replication failover: nothing to freeze, hosts known
        known = {f"{p.host}@{p.backend}" for p in await svc(request).pools.listing()}
        if not isinstance(host, str) or host not in known | {h.split("@")[0] for h in known}:
            raise errors.BadRequest(f"Invalid input received: Host {host!r} is not valid.")
        return Response(status_code=200)
    if action not in ("enable", "disable", "disable-log-reason"):
        raise errors.NotFound(f"Unknown action {action}.")
    if not isinstance(host, str) or not isinstance(binary, str):
        raise errors.BadRequest("Missing or invalid host or binary.")
    reason = req.disabled_reason if action == "disable-log-reason" else None
    if action == "disable-log-reason" and not isinstance(reason, str):
        raise errors.BadRequest("Disabled reason contains invalid characters or is too long")
    if binary != "cinder-volume":  # Cinder: no such service, 404
        raise errors.NotFound(f"Service {binary} on host {host} could not be found.")
    disabled = action != "enable"
    rows = await svc(request).pools.set_disabled(host, disabled, reason)
    if not rows:
        raise errors.NotFound(f"Host {host} could not be found.")
    status = "disabled" if disabled else "enabled"
    body: dict[str, Any] = {"host": host, "service": binary, "binary": binary,
                            "disabled": disabled, "status": status}  # fmt: skip
    if action != "disable":
        body["disabled_reason"] = reason
    return json_response(body)


async def hosts(request: Request) -> Response:
    """``os-hosts``: the volume hosts (each backend of each host) and their state."""
    context(request)
    authorize(request, "volume_extension:hosts")
    down_before = svc(request).pools.down_before()
    st = runtime_of(request).settings
    scheduler = st.volume.host or _hostname()
    out: dict[str, dict[str, Any]] = {
        scheduler: {
            "service-status": "available", "service": "cinder-scheduler",
            "zone": st.volume.availability_zone, "service-state": "enabled",
            "host_name": scheduler, "last-update": iso(now()),
        }
    }  # fmt: skip
    for p in await svc(request).pools.listing():
        up = p.updated_at >= down_before  # type: ignore[operator]
        out[f"{p.host}@{p.backend}"] = {
            "service-status": "available" if up else "unavailable",
            "service": "cinder-volume", "zone": p.availability_zone,
            "service-state": "enabled", "host_name": f"{p.host}@{p.backend}",
            "last-update": iso(p.updated_at),
        }  # fmt: skip
    return json_response({"hosts": list(out.values())})


async def host(request: Request) -> Response:
    context(request)
    authorize(request, "volume_extension:hosts")
    name = param(request, "host")
    usage = await svc(request).pools.host_usage(name)
    if usage is None:
        raise errors.NotFound(f"Host {name} could not be found.")
    # Cinder answers the figures as strings.
    rows = [{"resource": {"project": project, "volume_count": str(count),
                          "total_volume_gb": str(size), "snapshot_count": "0",
                          "total_snapshot_gb": "0", "host": name}}
            for project, (count, size) in usage.items()]  # fmt: skip
    return json_response({"host": rows})


async def capabilities(request: Request) -> Response:
    """``/capabilities/{host@backend}`` (admins): what the backend's driver offers."""
    context(request)
    authorize(request, "volume_extension:capabilities")
    name = param(request, "hostname")
    found = [p for p in await svc(request).pools.listing() if f"{p.host}@{p.backend}" == name]
    if not found:
        raise errors.NotFound(f"Host {name} could not be found.")
    pool = found[0]
    thin = {"type": "boolean", "title": "Thin Provisioning",
            "description": "Sets thin provisioning."}  # fmt: skip
    body: dict[str, Any] = {
        "namespace": f"OS::Storage::Capabilities::{name}", "vendor_name": "OneStack",
        "volume_backend_name": pool.backend, "pool_name": None, "driver_version": "1.0",
        "storage_protocol": "file" if pool.driver != "fake" else "fake",
        "display_name": f"OneStack {pool.driver} driver", "description": None,
        "visibility": None, "replication_targets": [],
        "properties": {"thin_provisioning": thin},
    }  # fmt: skip
    return json_response(body)


async def pools(request: Request) -> Response:
    ctx = context(request)
    authorize(request, "scheduler_extension:scheduler_stats:get_pools")
    detail = bool(query_bool(request.query_params.get("detail", "false")))
    rows = await svc(request).pools.listing()
    v = views(request, ctx)
    return json_response({"pools": [v.pool(p, detail) for p in rows]})


routes = both(
    [
        ("/os-availability-zone", zones, ["GET"]),
        ("/os-services", services, ["GET"]),
        ("/os-services/{action}", service_update, ["PUT"]),
        ("/scheduler-stats/get_pools", pools, ["GET"]),
        ("/os-hosts", hosts, ["GET"]),
        ("/capabilities/{hostname}", capabilities, ["GET"]),
        ("/os-hosts/{host}", host, ["GET"]),
    ]
)
