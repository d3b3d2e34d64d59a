"""/v3/roles, role inference rules, grants on projects, domains and the system, and
/v3/role_assignments."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common import errors
from onestack.common.http import empty, json_response, query_bool
from onestack.identity import schemas
from onestack.identity.api.crud import Ops, keystone_collection
from onestack.identity.api.helpers import (
    authorize,
    param,
    service,
    views,
)
from onestack.identity.api.views import Views
from onestack.identity.service import IdentityService
from onestack.identity.service.assignments import SYSTEM


# --- roles ---------------------------------------------------------------------------------
def _roles(s: IdentityService) -> Ops:
    r = s.roles
    return Ops(r.list_roles, r.create_role, r.get_role, r.update_role, r.delete_role)


ROLES = keystone_collection(
    "role", "roles", schemas.RoleCreate, schemas.RoleUpdate, _roles, Views.role,
    ("name", "domain_id"),
)  # fmt: skip


# --- inference rules -----------------------------------------------------------------------
def _inference(request: Request, prior: Any, implied: Any) -> dict[str, Any]:
    v = views(request)
    return {
        "role_inference": {"prior_role": v.role_ref(prior), "implies": v.role_ref(implied)},
        "links": {"self": f"{v.base}/roles/{prior.id}/implies/{implied.id}"},
    }


async def create_implied(request: Request) -> Response:
    authorize(request, "identity:create_implied_role")
    prior, implied = await service(request).roles.create_implied(
        param(request, "prior"), param(request, "implied")
    )
    return json_response(_inference(request, prior, implied), 201)


async def get_implied(request: Request) -> Response:
    authorize(request, "identity:get_implied_role")
    prior, implied = await service(request).roles.get_implied(
        param(request, "prior"), param(request, "implied")
    )
    return json_response(_inference(request, prior, implied))


async def check_implied(request: Request) -> Response:
    authorize(request, "identity:get_implied_role")
    await service(request).roles.get_implied(param(request, "prior"), param(request, "implied"))
    return empty()


async def delete_implied(request: Request) -> Response:
    authorize(request, "identity:delete_implied_role")
    await service(request).roles.delete_implied(param(request, "prior"), param(request, "implied"))
    return empty()


async def list_implied(request: Request) -> Response:
    authorize(request, "identity:list_implied_roles")
    prior, implied = await service(request).roles.list_implied(param(request, "prior"))
    v = views(request)
    return json_response(
        {
            "role_inference": {
                "prior_role": v.role_ref(prior),
                "implies": [v.role_ref(r) for r in implied],
            },
            "links": {"self": f"{v.base}/roles/{prior.id}/implies"},
        }
    )


async def list_inferences(request: Request) -> Response:
    authorize(request, "identity:list_role_inference_rules")
    svc = service(request)
    rules = await svc.roles.inference_rules()
    roles = await svc.roles.roles_by_id(
        {r for prior, implied in rules.items() for r in [prior, *implied]}
    )
    v = views(request)
    items = [
        {"prior_role": v.role_ref(roles[prior]), "implies": [v.role_ref(roles[i]) for i in implied]}
        for prior, implied in rules.items()
    ]
    return json_response({"role_inferences": items, "links": {"self": f"{v.base}/role_inferences"}})


# --- grants --------------------------------------------------------------------------------
async def _grant_target(request: Request, target: str) -> tuple[str, dict[str, Any]]:
    if target == "system":
        return SYSTEM, {}
    target_id = param(request, "target_id")
    if target == "project":
        project, _ = await service(request).resources.get_project(target_id)
        return target_id, {"target": {"project": {"id": target_id, "domain_id": project.domain_id}}}
    return target_id, {"target": {"domain": {"id": target_id}}}


def grant_routes(target: str, actor: str, inherited: bool = False) -> list[Route]:
    """PUT/HEAD/GET/DELETE one grant and GET the list, for one (target, actor) pair."""
    system = target == "system"
    check_rule = "identity:check_system_grant" if system else "identity:check_grant"
    list_rule = "identity:list_system_grants" if system else "identity:list_grants"
    write_rules = (
        ("identity:create_system_grant", "identity:revoke_system_grant")
        if system
        else ("identity:create_grant", "identity:revoke_grant")
    )

    async def put(request: Request) -> Response:
        target_id, policy_target = await _grant_target(request, target)
        authorize(request, write_rules[0], policy_target)
        await service(request).assignments.grant(
            actor,
            param(request, "actor_id"),
            target,
            target_id,
            param(request, "role_id"),
            inherited,
        )
        return empty()

    async def check(request: Request) -> Response:
        target_id, policy_target = await _grant_target(request, target)
        authorize(request, check_rule, policy_target)
        await service(request).assignments.check(
            actor,
            param(request, "actor_id"),
            target,
            target_id,
            param(request, "role_id"),
            inherited,
        )
        return empty()

    async def revoke(request: Request) -> Response:
        target_id, policy_target = await _grant_target(request, target)
        authorize(request, write_rules[1], policy_target)
        await service(request).assignments.revoke_grant(
            actor,
            param(request, "actor_id"),
            target,
            target_id,
            param(request, "role_id"),
            inherited,
        )
        return empty()

    async def listing(request: Request) -> Response:
        target_id, policy_target = await _grant_target(request, target)
        authorize(request, list_rule, policy_target)
        roles = await service(request).assignments.list_grants(
            actor, param(request, "actor_id"), target, target_id, inherited
        )
        path = request.url.path.split("/v3/", 1)[-1]
        return json_response(
            views(request).collection("roles", [views(request).role(r) for r in roles], path)
        )

    base = "/v3/system" if system else f"/v3/{target}s/{{target_id}}"
    if inherited:
        base = f"/v3/OS-INHERIT/{target}s/{{target_id}}"
    suffix = "/inherited_to_projects" if inherited else ""
    one = f"{base}/{actor}s/{{actor_id}}/roles/{{role_id}}{suffix}"
    many = f"{base}/{actor}s/{{actor_id}}/roles{suffix}"
    return [
        Route(one, put, methods=["PUT"]),
        Route(one, check, methods=["HEAD", "GET"]),
        Route(one, revoke, methods=["DELETE"]),
        Route(many, listing, methods=["GET"]),
    ]


# --- role assignments ----------------------------------------------------------------------
_FILTERS = {
    "user.id": "user_id",
    "group.id": "group_id",
    "role.id": "role_id",
    "scope.project.id": "project_id",
    "scope.domain.id": "domain_id",
}


async def list_assignments(request: Request) -> Response:
    q = request.query_params
    wanted: dict[str, Any] = {key: q[name] for name, key in _FILTERS.items() if name in q}
    if "scope.system" in q:
        wanted["system"] = True
    if "scope.OS-INHERIT:inherited_to" in q:
        wanted["inherited_to"] = q["scope.OS-INHERIT:inherited_to"]
    effective = bool(query_bool(q.get("effective")))
    include_names = bool(query_bool(q.get("include_names")))
    include_subtree = bool(query_bool(q.get("include_subtree")))
    if effective and "group_id" in wanted:
        raise errors.BadRequest(
            "Combining effective and group filter will always result in an empty list."
        )
    if include_subtree and "project_id" not in wanted:
        raise errors.BadRequest(
            "scope.project.id needs to be specified if include_subtree is also specified."
        )
    svc = service(request)
    if include_subtree:
        project, _ = await svc.resources.get_project(wanted["project_id"])
        authorize(
            request,
            "identity:list_role_assignments_for_tree",
            {"target": {"project": {"id": project.id, "domain_id": project.domain_id}}},
        )
    else:
        authorize(
            request,
            "identity:list_role_assignments",
            {"target": {"domain_id": wanted.get("domain_id")}},
        )
    refs = await svc.assignments.list_assignments(wanted, effective, include_subtree)
    names = await _names(request, refs) if include_names else None
    items = [views(request).assignment(a, names) for a in refs]
    path = "role_assignments" + (f"?{request.url.query}" if request.url.query else "")
    return json_response(views(request).collection("role_assignments", items, path))


async def _names(request: Request, refs: list[Any]) -> dict[str, Any]:
    """id → the name fields ``include_names`` adds (users and projects with their domain)."""
    svc = service(request)
    domains = {d.id: d.name for d in await svc.resources.list_domains({})}
    names: dict[str, Any] = {d_id: {"name": name} for d_id, name in domains.items()}
    users = {a.actor_id for a in refs if a.actor == "user"}
    groups = {a.actor_id for a in refs if a.actor == "group"}
    projects = {a.target_id for a in refs if a.target == "project"}
    owned: list[Any] = [
        *(await svc.users.list_users({}, ids=users) if users else []),
        *(await svc.users.list_groups({}, ids=groups) if groups else []),
        *(p for p, _ in (await svc.resources.list_projects({}, ids=projects) if projects else [])),
    ]
    for row in owned:
        names[row.id] = {
            "name": row.name,
            "domain": {"id": row.domain_id, "name": domains.get(row.domain_id)},
        }
    roles = await svc.roles.roles_by_id({a.role_id for a in refs})
    for r in roles.values():
        names[r.id] = {"name": r.name}
        if r.domain_id and not r.domain_id.startswith("<<"):
            names[r.id]["domain"] = {"id": r.domain_id, "name": domains.get(r.domain_id)}
    return names


routes = [
    *ROLES.routes(),
    Route("/v3/roles/{prior}/implies", list_implied, methods=["GET"]),
    Route("/v3/roles/{prior}/implies/{implied}", create_implied, methods=["PUT"]),
    Route("/v3/roles/{prior}/implies/{implied}", check_implied, methods=["HEAD"]),
    Route("/v3/roles/{prior}/implies/{implied}", get_implied, methods=["GET"]),
    Route("/v3/roles/{prior}/implies/{implied}", delete_implied, methods=["DELETE"]),
    Route("/v3/role_inferences", list_inferences, methods=["GET"]),
    Route("/v3/role_assignments", list_assignments, methods=["GET"]),
    *grant_routes("project", "user"),
    *grant_routes("project", "group"),
    *grant_routes("domain", "user"),
    *grant_routes("domain", "group"),
    *grant_routes("system", "user"),
    *grant_routes("system", "group"),
    *grant_routes("project", "user", inherited=True),
    *grant_routes("project", "group", inherited=True),
    *grant_routes("domain", "user", inherited=True),
    *grant_routes("domain", "group", inherited=True),
]
