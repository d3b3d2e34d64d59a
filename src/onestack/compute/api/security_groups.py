"""Nova's security group proxy (``os-security-groups``, ``os-security-group-rules``, below
2.36): the network service's groups and ingress rules, written as the caller; 404 from 2.36."""

from __future__ import annotations

import ipaddress
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common import errors
from onestack.common.http import empty, json_response
from onestack.compute.api.helpers import at_least, authorize, body_of, param, service
from onestack.compute.api.server_subresources import _rule, nova_groups
from onestack.network.facade import Caller, NetworkAPI

RULE = "os-security-groups"


def _net(request: Request, rule: str) -> tuple[Caller, NetworkAPI]:
    if at_least(request, 36):
        raise errors.NotFound("The resource could not be found.")
    ctx = authorize(request, f"{RULE}:{rule}")
    return Caller.of(ctx), service(request).context.network


def _check_id(value: Any) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise errors.BadRequest(f"Security group id should be uuid: {value}") from None


async def _as_nova(net: NetworkAPI, caller: Caller, groups: list[dict[str, Any]]) -> list[Any]:
    """Groups as Nova shows them: ingress rules only, a remote group by name and project."""
    remote = {
        r["remote_group_id"]
        for g in groups
        for r in g.get("security_group_rules") or []
        if r.get("remote_group_id")
    }
    names = {g["id"]: g for g in groups}
    missing = list(remote - set(names))
    if missing:
        names.update({g["id"]: g for g in await net.find("security-groups", caller, id=missing)})
    return nova_groups(groups, names)


def _group_body(data: Any) -> dict[str, str]:
    if not isinstance(data, dict):
        raise errors.BadRequest("security_group must be an object")
    out: dict[str, str] = {}
    for key in ("name", "description"):
        value = data.get(key)
        if not isinstance(value, str):
            raise errors.BadRequest(f"Security group {key} is not a string or unicode")
        if len(value) > 255:
            raise errors.BadRequest(f"Security group {key} should not be longer than 255")
        out[key] = value
    if not out["name"].strip():
        raise errors.BadRequest("Security group name cannot be empty")
    return out


# --- groups ----------------------------------------------------------------------------------
async def list_groups(request: Request) -> Response:
    caller, net = _net(request, "get")
    flag = request.query_params.get("all_tenants")
    all_tenants = caller.is_admin and flag not in (None, "0", "false", "False")
    groups = await net.find("security-groups", caller)
    if not all_tenants:
        groups = [g for g in groups if g.get("project_id") == caller.project_id]
    return json_response({"security_groups": await _as_nova(net, caller, groups)})


async def show_group(request: Request) -> Response:
    caller, net = _net(request, "show")
    group = await net.show("security-groups", caller, _check_id(param(request, "group_id")))
    return json_response({"security_group": (await _as_nova(net, caller, [group]))[0]})


async def create_group(request: Request) -> Response:
    caller, net = _net(request, "create")
    body = _group_body(await body_of(request, "security_group"))
    group = await net.create("security-groups", caller, body)
    return json_response({"security_group": (await _as_nova(net, caller, [group]))[0]})


async def update_group(request: Request) -> Response:
    caller, net = _net(request, "update")
    group_id = _check_id(param(request, "group_id"))
    body = _group_body(await body_of(request, "security_group"))
    try:
        group = await net.update("security-groups", caller, group_id, body)
    except errors.Conflict as exc:
        raise errors.BadRequest(str(exc)) from None
    return json_response({"security_group": (await _as_nova(net, caller, [group]))[0]})


async def delete_group(request: Request) -> Response:
    caller, net = _net(request, "delete")
    try:
        await net.delete("security-groups", caller, _check_id(param(request, "group_id")))
    except errors.Conflict as exc:  # in use, or the default group: Nova says 400
        raise errors.BadRequest(str(exc)) from None
    return empty(202)


# --- rules -----------------------------------------------------------------------------------
def _port(value: Any, name: str) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise errors.BadRequest(f"Invalid {name} value: {value}") from None


def _neutron_rule(rule: dict[str, Any], parent: str) -> dict[str, Any]:
    """A Nova rule request as a Neutron ingress rule (Nova's checks first)."""
    protocol = str(rule.get("ip_protocol") or "").lower()
    low, high = _port(rule.get("from_port"), "from_port"), _port(rule.get("to_port"), "to_port")
    if protocol in ("tcp", "udp"):
        if low is None or high is None or not 1 <= low <= high <= 65535:
            raise errors.BadRequest(
                f"Invalid port range {low}:{high}. Valid TCP ports should be between 1-65535"
            )
    elif protocol == "icmp":
        if low is None or high is None or not (-1 <= low <= 255 and -1 <= high <= 255):
            raise errors.BadRequest(f"Invalid port range {low}:{high}. ICMP type:code")
        low, high = (None if low == -1 else low), (None if high == -1 else high)
    else:
        raise errors.BadRequest(f"Invalid IP protocol {rule.get('ip_protocol')}.")
    body: dict[str, Any] = {
        "security_group_id": parent,
        "direction": "ingress",
        "protocol": protocol,
        "port_range_min": low,
        "port_range_max": high,
    }
    if rule.get("group_id"):
        body["remote_group_id"] = _check_id(rule["group_id"])
        body["ethertype"] = "IPv4"
    else:
        given = str(rule.get("cidr") or "0.0.0.0/0")
        try:
            cidr = ipaddress.ip_network(given, strict=False)
        except ValueError:
            raise errors.BadRequest(f"Invalid cidr {rule.get('cidr')}.") from None
        body["remote_ip_prefix"] = given  # as given, as Nova's parse_cidr (networking keeps it)
        body["ethertype"] = "IPv4" if cidr.version == 4 else "IPv6"
    return body


async def create_rule(request: Request) -> Response:
    caller, net = _net(request, "rule:create")
    data = await body_of(request, "security_group_rule")
    if not isinstance(data, dict):
        raise errors.BadRequest("security_group_rule must be an object")
    parent = await net.show("security-groups", caller, _check_id(data.get("parent_group_id")))
    body = _neutron_rule(data, parent["id"])
    if "remote_group_id" in body:
        await net.show("security-groups", caller, body["remote_group_id"])
    try:
        rule = await net.create("security-group-rules", caller, body)
    except errors.Conflict as exc:  # a duplicate: Nova says 400
        raise errors.BadRequest(str(exc)) from None
    groups = {parent["id"]: parent}
    if rule.get("remote_group_id"):
        remote = await net.show("security-groups", caller, rule["remote_group_id"])
        groups[remote["id"]] = remote
    return json_response({"security_group_rule": _rule(rule, groups)})


async def delete_rule(request: Request) -> Response:
    caller, net = _net(request, "rule:delete")
    await net.delete("security-group-rules", caller, _check_id(param(request, "rule_id")))
    return empty(202)


routes = [
    Route("/os-security-groups", list_groups, methods=["GET"]),
    Route("/os-security-groups", create_group, methods=["POST"]),
    Route("/os-security-groups/{group_id}", show_group, methods=["GET"]),
    Route("/os-security-groups/{group_id}", update_group, methods=["PUT"]),
    Route("/os-security-groups/{group_id}", delete_group, methods=["DELETE"]),
    Route("/os-security-group-rules", create_rule, methods=["POST"]),
    Route("/os-security-group-rules/{rule_id}", delete_rule, methods=["DELETE"]),
]
