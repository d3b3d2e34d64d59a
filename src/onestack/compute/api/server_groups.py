"""Server groups (``os-server-groups``): ``policies`` before 2.64, ``policy`` and ``rules``
from it."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.http import empty, json_response
from onestack.compute.api import checks
from onestack.compute.api.helpers import allowed, at_least, authorize, body_of, param, service
from onestack.compute.service.groups import POLICIES, Group

OLD_POLICIES = ("affinity", "anti-affinity")  # the soft ones came with 2.15


def view(request: Request, g: Group) -> dict[str, Any]:
    out: dict[str, Any] = {"id": g.uuid, "name": g.name}
    if at_least(request, 64):
        out["policy"] = g.policy
        out["rules"] = dict(g.rules)
    else:
        out["policies"] = [g.policy]
        out["metadata"] = {}
    out["members"] = list(g.members)
    if at_least(request, 13):
        out["project_id"] = g.project_id
        out["user_id"] = g.user_id
    return out


async def list_groups(request: Request) -> Response:
    ctx = authorize(request, "os-server-groups:index")
    q = request.query_params
    all_projects = False
    if "all_projects" in q and checks.query_bool(q["all_projects"] or "true", "all_projects"):
        all_projects = allowed(request, "os-server-groups:index:all_projects", {})
    limit = checks.query_int(q["limit"], "limit", 0) if "limit" in q else None
    offset = checks.query_int(q["offset"], "offset", 0) if "offset" in q else 0
    groups = await service(request).groups.list(
        ctx, all_projects=all_projects, limit=limit, offset=offset
    )
    return json_response({"server_groups": [view(request, g) for g in groups]})


async def show_group(request: Request) -> Response:
    ctx = authorize(request, "os-server-groups:show")
    g = await service(request).groups.show(ctx, param(request, "group_id"))
    return json_response({"server_group": view(request, g)})


def _policy_and_rules(request: Request, body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    if not at_least(request, 64):
        checks.only(body, ("name", "policies"), "server_group")
        policies = body.get("policies")
        valid = POLICIES if at_least(request, 15) else OLD_POLICIES
        if policies is None:
            raise checks.invalid("server_group", "'policies' is a required property")
        if not isinstance(policies, list) or len(policies) != 1:
            raise checks.invalid("policies", f"{policies!r} must hold exactly one policy")
        if policies[0] not in valid:
            raise checks.invalid("policies/0", f"{policies[0]!r} is not one of {list(valid)}")
        return str(policies[0]), {}
    checks.only(body, ("name", "policy", "rules"), "server_group")
    policy = checks.string(body, "policy", required=True)
    if policy not in POLICIES:
        raise checks.invalid("policy", f"{policy!r} is not one of {list(POLICIES)}")
    rules = checks.as_object(body.get("rules", {}), "rules")
    checks.only(rules, ("max_server_per_host",), "rules")
    if rules and policy != "anti-affinity":
        raise checks.invalid("rules", "Only anti-affinity policy supports rules.")
    if "max_server_per_host" in rules:
        rules = {"max_server_per_host": checks.integer(rules, "max_server_per_host", minimum=1)}
    return policy, rules


async def create_group(request: Request) -> Response:
    ctx = authorize(request, "os-server-groups:create")
    body = checks.as_object(await body_of(request, "server_group"), "server_group")
    name = checks.string(body, "name", required=True, min_len=1, strip_check=True)
    policy, rules = _policy_and_rules(request, body)
    g = await service(request).groups.create(ctx, name, policy, rules)
    return json_response({"server_group": view(request, g)})


async def delete_group(request: Request) -> Response:
    ctx = authorize(request, "os-server-groups:delete")
    await service(request).groups.delete(ctx, param(request, "group_id"))
    return empty(204)


routes: list[Route] = [
    Route("/os-server-groups", list_groups, methods=["GET"]),
    Route("/os-server-groups", create_group, methods=["POST"]),
    Route("/os-server-groups/{group_id}", show_group, methods=["GET"]),
    Route("/os-server-groups/{group_id}", delete_group, methods=["DELETE"]),
]
