"""QoS rules under their policy (``/v2.0/qos/policies/{id}/<type>_rules``), the rule types,
and the DHCP and L3 agent schedulers' routes under agents, networks and routers."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common import api, errors
from onestack.common.http import empty, json_response
from onestack.network.api import bodies
from onestack.network.api.framework import caller, enforce, fields_of, service, strip
from onestack.network.service import ADMIN, views
from onestack.network.service.agents import Agents
from onestack.network.service.qos import RULE_PATHS, RULE_TYPES, rule_type_dict

POLICY_RULES = "/v2.0/qos/policies/{policy_id}/{rule_path}"

# QoS rules ---------------------------------------------------------------------------------


async def _policy(request: Request, verb: str) -> tuple[dict[str, Any], str]:
    """The policy (visible to the caller, else 404) and the rule type; checks the rule's rule."""
    rule_path = request.path_params["rule_path"]
    rule_type = RULE_PATHS.get(rule_path)
    if rule_type is None:
        raise errors.NotFound(kind="resource", id=rule_path)
    policy = await service(request).show("qos/policies", caller(request), _policy_id(request))
    enforce(request, f"{verb}_policy_{rule_type}_rule", policy)
    return policy, rule_type


def _policy_id(request: Request) -> str:
    return str(request.path_params["policy_id"])


async def _body(request: Request, rule_type: str) -> dict[str, Any]:
    return dict((await api.body(request, bodies.qos_rule(rule_type))).body)


async def list_rules(request: Request) -> Response:
    _, rule_type = await _policy(request, "get")
    filters = {k: request.query_params.getlist(k) for k in request.query_params
               if k not in ("fields", "limit", "marker", "sort_key", "sort_dir")}  # fmt: skip
    rows = await service(request).qos.list_rules(
        caller(request), _policy_id(request), rule_type, filters
    )
    fields = fields_of(request)
    return json_response({f"{rule_type}_rules": [strip(r, [], fields) for r in rows]})


async def create_rule(request: Request) -> Response:
    _, rule_type = await _policy(request, "create")
    body = await _body(request, rule_type)
    svc = service(request)
    row = await svc.run(svc.qos.create_rule, caller(request), _policy_id(request), rule_type, body)
    return json_response({f"{rule_type}_rule": row}, status=201)


async def show_rule(request: Request) -> Response:
    _, rule_type = await _policy(request, "get")
    row = await service(request).qos.show_rule(
        caller(request), _policy_id(request), rule_type, request.path_params["rule_id"]
    )
    return json_response({f"{rule_type}_rule": strip(row, [], fields_of(request))})


async def update_rule(request: Request) -> Response:
    _, rule_type = await _policy(request, "update")
    body = await _body(request, rule_type)
    row = await service(request).qos.update_rule(
        caller(request), _policy_id(request), rule_type, request.path_params["rule_id"], body
    )
    return json_response({f"{rule_type}_rule": row})


async def delete_rule(request: Request) -> Response:
    _, rule_type = await _policy(request, "delete")
    await service(request).qos.delete_rule(
        caller(request), _policy_id(request), rule_type, request.path_params["rule_id"]
    )
    return empty()


async def list_rule_types(request: Request) -> Response:
    enforce(request, "get_rule_type", {})
    return json_response({"rule_types": [rule_type_dict(t, False) for t in RULE_TYPES]})


async def show_rule_type(request: Request) -> Response:
    enforce(request, "get_rule_type", {})
    return json_response({"rule_type": rule_type_dict(request.path_params["rule_type"], True)})


# Agent schedulers ----------------------------------------------------------------------------

# kind -> (the collection an agent hosts, the body naming one, the rule names' stems)
SCHEDULED = {"dhcp": ("networks", bodies.ScheduledNetwork, "dhcp-network"),
             "l3": ("routers", bodies.ScheduledRouter, "l3-router")}  # fmt: skip


def _kind(request: Request) -> str:
    return "dhcp" if "/dhcp-networks" in request.url.path else "l3"


async def hosted_by_agent(request: Request) -> Response:
    kind = _kind(request)
    collection, _, stem = SCHEDULED[kind]
    enforce(request, f"get_{stem}s", {})
    svc = service(request)
    items = []
    for ident in await svc.scheduler.resources_of_agent(kind, request.path_params["id"]):
        try:
            items.append(await svc.show(collection, ADMIN, ident))
        except errors.NotFound:
            continue  # deleted since it was scheduled
    return json_response({collection: items})


async def add_to_agent(request: Request) -> Response:
    kind = _kind(request)
    collection, model, stem = SCHEDULED[kind]
    enforce(request, f"create_{stem}", {})
    ident = (await api.body(request, model)).ident
    svc = service(request)
    found = await svc.show(collection, ADMIN, ident)
    await svc.run(svc.scheduler.add, kind, request.path_params["id"], found["id"])
    return json_response(None, status=201)


async def remove_from_agent(request: Request) -> Response:
    kind = _kind(request)
    _, _, stem = SCHEDULED[kind]
    enforce(request, f"delete_{stem}", {})
    svc = service(request)
    await svc.run(
        svc.scheduler.remove, kind, request.path_params["id"], request.path_params["resource_id"]
    )
    return empty()


async def agents_hosting(request: Request) -> Response:
    kind = "dhcp" if request.url.path.rstrip("/").endswith("dhcp-agents") else "l3"
    collection = SCHEDULED[kind][0]
    enforce(request, "get_dhcp-agents" if kind == "dhcp" else "get_l3-agents", {})
    svc = service(request)
    found = await svc.show(collection, ADMIN, request.path_params["id"])
    rows = await svc.scheduler.agents_of(kind, found["id"])
    return json_response({"agents": [views.agent_dict(r, Agents.alive(r)) for r in rows]})


routes = [
    Route("/v2.0/qos/rule-types", list_rule_types, methods=["GET"]),
    Route("/v2.0/qos/rule-types/{rule_type}", show_rule_type, methods=["GET"]),
    Route(POLICY_RULES, list_rules, methods=["GET"]),
    Route(POLICY_RULES, create_rule, methods=["POST"]),
    Route(POLICY_RULES + "/{rule_id}", show_rule, methods=["GET"]),
    Route(POLICY_RULES + "/{rule_id}", update_rule, methods=["PUT"]),
    Route(POLICY_RULES + "/{rule_id}", delete_rule, methods=["DELETE"]),
    Route("/v2.0/agents/{id}/dhcp-networks", hosted_by_agent, methods=["GET"]),
    Route("/v2.0/agents/{id}/dhcp-networks", add_to_agent, methods=["POST"]),
    Route("/v2.0/agents/{id}/dhcp-networks/{resource_id}", remove_from_agent, methods=["DELETE"]),
    Route("/v2.0/agents/{id}/l3-routers", hosted_by_agent, methods=["GET"]),
    Route("/v2.0/agents/{id}/l3-routers", add_to_agent, methods=["POST"]),
    Route("/v2.0/agents/{id}/l3-routers/{resource_id}", remove_from_agent, methods=["DELETE"]),
    Route("/v2.0/networks/{id}/dhcp-agents", agents_hosting, methods=["GET"]),
    Route("/v2.0/routers/{id}/l3-agents", agents_hosting, methods=["GET"]),
]
