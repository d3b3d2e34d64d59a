"""Per-server sub-resources: the small ones here (security groups, diagnostics, password),
and the routes of the modules that hold the others (metadata and tags, interfaces, volume
attachments, consoles)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.http import empty, json_response
from onestack.compute.api import consoles, interfaces, server_metadata, volume_attachments
from onestack.compute.api.helpers import at_least, service
from onestack.compute.api.server_lookup import server_row

DIAGNOSTIC_STATES = ("pending", "running", "paused", "shutdown", "crashed", "suspended")


def _rule(rule: dict[str, Any], names: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A Neutron ingress rule as Nova shows it (``os-security-groups``)."""
    protocol = rule.get("protocol")
    low, high = rule.get("port_range_min"), rule.get("port_range_max")
    if protocol and low is None and high is None:
        low, high = (1, 65535) if str(protocol).upper() in ("TCP", "UDP") else (-1, -1)
    out: dict[str, Any] = {
        "id": rule["id"],
        "parent_group_id": rule["security_group_id"],
        "ip_protocol": protocol,
        "from_port": low,
        "to_port": high,
        "group": {},
        "ip_range": {},
    }
    remote = rule.get("remote_group_id")
    if remote:
        group = names.get(remote, {})
        out["group"] = {"name": group.get("name", ""), "tenant_id": group.get("project_id", "")}
    else:
        out["ip_range"] = {"cidr": rule.get("remote_ip_prefix") or "0.0.0.0/0"}
    return out


def nova_groups(
    groups: list[dict[str, Any]], names: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """Neutron's groups as Nova shows them: ingress rules only, a remote group by the name
    and project ``names`` (group id -> group) give it."""
    return [
        {
            "id": g["id"],
            "name": g["name"],
            "description": g.get("description") or "",
            "tenant_id": g.get("project_id", ""),
            "rules": [
                _rule(r, names)
                for r in g.get("security_group_rules") or []
                if r.get("direction") == "ingress"
            ],
        }
        for g in groups
    ]


async def security_groups(request: Request) -> Response:
    _ctx, row = await server_row(request, "os-security-groups:list")
    net = service(request).networking
    ports = (await net.ports_of([row.uuid])).get(row.uuid, [])
    ids = list(dict.fromkeys(g for p in ports for g in p.get("security_groups") or []))
    groups = await net.security_groups(ids)
    remote_ids = [
        r["remote_group_id"]
        for g in groups
        for r in g.get("security_group_rules") or []
        if r.get("remote_group_id")
    ]
    names = {g["id"]: g for g in groups}
    names.update(
        {g["id"]: g for g in await net.security_groups(list(set(remote_ids) - set(names)))}
    )
    return json_response({"security_groups": nova_groups(groups, names)})


def _diagnostics_248(raw: dict[str, Any], row_config_drive: bool) -> dict[str, Any]:
    """The 2.48 shape from what the driver said; what it did not say is null or empty. Our
    drivers run QEMU as Nova's libvirt driver does, which is what ``driver`` names."""
    state = raw.get("state")
    memory = raw.get("memory_details") or {}
    return {
        "state": state if state in DIAGNOSTIC_STATES else "pending",
        "driver": "libvirt",
        "hypervisor": raw.get("hypervisor"),
        "hypervisor_os": raw.get("hypervisor_os"),
        "uptime": raw.get("uptime"),
        "config_drive": bool(raw.get("config_drive", row_config_drive)),
        "num_cpus": int(raw.get("num_cpus") or len(raw.get("cpu_details") or [])),
        "num_nics": int(raw.get("num_nics") or len(raw.get("nic_details") or [])),
        "num_disks": int(raw.get("num_disks") or len(raw.get("disk_details") or [])),
        "memory_details": {"maximum": memory.get("maximum"), "used": memory.get("used")},
        "cpu_details": [
            {"id": c.get("id"), "time": c.get("time"), "utilisation": c.get("utilisation")}
            for c in raw.get("cpu_details") or []
        ],
        "nic_details": [
            {
                key: n.get(key)
                for key in (
                    "mac_address",
                    "rx_octets",
                    "rx_errors",
                    "rx_drop",
                    "rx_packets",
                    "rx_rate",
                    "tx_octets",
                    "tx_errors",
                    "tx_drop",
                    "tx_packets",
                    "tx_rate",
                )
            }
            for n in raw.get("nic_details") or []
        ],
        "disk_details": [
            {
                key: d.get(key)
                for key in (
                    "read_bytes",
                    "read_requests",
                    "write_bytes",
                    "write_requests",
                    "errors_count",
                )
            }
            for d in raw.get("disk_details") or []
        ],
    }


def _diagnostics_legacy(diag: dict[str, Any]) -> dict[str, Any]:
    """Before 2.48 each driver had its own keys; these are the libvirt driver's."""
    out: dict[str, Any] = {}
    for cpu in diag["cpu_details"]:
        out[f"cpu{cpu['id']}_time"] = cpu["time"]
    for index, nic in enumerate(diag["nic_details"]):
        for way in ("rx", "tx"):
            out[f"vnet{index}_{way}"] = nic[f"{way}_octets"]
            for key in ("drop", "errors", "packets"):
                out[f"vnet{index}_{way}_{key}"] = nic[f"{way}_{key}"]
    for index, disk in enumerate(diag["disk_details"]):
        dev = f"vd{chr(ord('a') + index)}"
        out[f"{dev}_read"] = disk["read_bytes"]
        out[f"{dev}_read_req"] = disk["read_requests"]
        out[f"{dev}_write"] = disk["write_bytes"]
        out[f"{dev}_write_req"] = disk["write_requests"]
        out[f"{dev}_errors"] = disk["errors_count"]
    if diag["memory_details"]["maximum"] is not None:
        out["memory"] = diag["memory_details"]["maximum"]
    return out


async def diagnostics(request: Request) -> Response:
    ctx, row = await server_row(request, "os-server-diagnostics")
    raw = await service(request).actions.ask(ctx, row.uuid, "diagnostics")
    diag = _diagnostics_248(raw, row.config_drive)
    return json_response(diag if at_least(request, 48) else _diagnostics_legacy(diag))


async def password_show(request: Request) -> Response:
    """What the guest posted to the metadata service (encrypted with its key), "" if nothing."""
    _, row = await server_row(request, "os-server-password:show")
    return json_response({"password": str((row.request or {}).get("password") or "")})


async def password_clear(request: Request) -> Response:
    _, row = await server_row(request, "os-server-password:clear")
    await service(request).guests.clear_password(row.uuid)
    return empty(204)


routes: list[Route] = [
    *server_metadata.routes,
    *interfaces.routes,
    *volume_attachments.routes,
    *consoles.routes,
    Route("/servers/{server_id}/os-security-groups", security_groups, methods=["GET"]),
    Route("/servers/{server_id}/diagnostics", diagnostics, methods=["GET"]),
    Route("/servers/{server_id}/os-server-password", password_show, methods=["GET"]),
    Route("/servers/{server_id}/os-server-password", password_clear, methods=["DELETE"]),
]
