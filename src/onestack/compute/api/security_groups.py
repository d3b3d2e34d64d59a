"""Nova's security group proxy (``os-security-groups``, ``os-security-group-rules``, below
2.36): the network service's groups and ingress rules, written as the caller; 404 from 2.36."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common import errors
from onestack.common.http import empty, json_response
from onestack.compute.api.helpers import at_least, authorize, param, service, valid_body
from onestack.compute.api.server_subresources import _rule, nova_groups
from onestack.compute.proxy_schemas import (
    SecurityGroupBody,
    SecurityGroupRuleCreate,
    security_group_id,
)
from onestack.network.facade import Caller, NetworkAPI

RULE = "os-security-groups"


def _net(request: Request, rule: str) -> tuple[Caller, NetworkAPI]:
    if at_least(request, 36):
        raise errors.NotFound("The resource could not be found.")
    ctx = authorize(request, f"{RULE}:{rule}")
    return Caller.of(ctx), service(request).context.network


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
    group = await net.show("security-groups", caller, security_group_id(param(request, "group_id")))
    return json_response({"security_group": (await _as_nova(net, caller, [group]))[0]})


async def create_group(request: Request) -> Response:
    caller, net = _net(request, "create")
    body = (await valid_body(request, SecurityGroupBody)).model_dump()
    group = await net.create("security-groups", caller, body)
    return json_response({"security_group": (await _as_nova(net, caller, [group]))[0]})


async def update_group(request: Request) -> Response:
    caller, net = _net(request, "update")
    group_id = security_group_id(param(request, "group_id"))
    body = (await valid_body(request, SecurityGroupBody)).model_dump()
    try:
        group = await net.update("security-groups", caller, group_id, body)
    except errors.Conflict as exc:
        raise errors.BadRequest(str(exc)) from None
    return json_response({"security_group": (await _as_nova(net, caller, [group]))[0]})


async def delete_group(request: Request) -> Response:
    caller, net = _net(request, "delete")
    try:
        await net.delete("security-groups", caller, security_group_id(param(request, "group_id")))
    except errors.Conflict as exc:  # in use, or the default group: Nova says 400
        raise errors.BadRequest(str(exc)) from None
    return empty(202)


# --- rules -----------------------------------------------------------------------------------
async def create_rule(request: Request) -> Response:
    caller, net = _net(request, "rule:create")
    data = await valid_body(request, SecurityGroupRuleCreate)
    parent = await net.show("security-groups", caller, data.parent_group_id)
    body = data.neutron_rule(parent["id"])
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
    await net.delete("security-group-rules", caller, security_group_id(param(request, "rule_id")))
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
