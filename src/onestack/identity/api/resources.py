"""/v3/domains and /v3/projects (with tags)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common import errors
from onestack.common.auth import get_context
from onestack.common.http import empty, json_response, query_bool, read_json, validate
from onestack.identity import schemas
from onestack.identity.api import hierarchy
from onestack.identity.api.helpers import (
    authorize,
    authorize_domain_list,
    filters,
    param,
    require_body_key,
    scope_domain,
    service,
    truncate,
    valid_body,
    views,
)


# --- domains -------------------------------------------------------------------------------
async def list_domains(request: Request) -> Response:
    authorize(request, "identity:list_domains")
    domains = await service(request).resources.list_domains(
        filters(request, "name", booleans=("enabled",))
    )
    items, cut = truncate(
        [views(request).domain(d) for d in domains], service(request).settings.list_limit
    )
    return json_response(views(request).collection("domains", items, "domains", cut))


async def create_domain(request: Request) -> Response:
    authorize(request, "identity:create_domain")
    body = await valid_body(request, schemas.DomainCreate, "domain")
    values = body.changes()
    explicit = values.pop("explicit_domain_id", None)
    values.pop("options", None)
    domain = await service(request).resources.create_domain(values, explicit)
    return json_response({"domain": views(request).domain(domain)}, 201)


async def get_domain(request: Request) -> Response:
    domain_id = param(request, "domain_id")
    authorize(request, "identity:get_domain", {"target": {"domain": {"id": domain_id}}})
    domain = await service(request).resources.get_domain(domain_id)
    return json_response({"domain": views(request).domain(domain)})


async def update_domain(request: Request) -> Response:
    authorize(request, "identity:update_domain")
    body = await valid_body(request, schemas.DomainUpdate, "domain")
    values = body.changes()
    values.pop("options", None)
    domain = await service(request).resources.update_domain(param(request, "domain_id"), values)
    return json_response({"domain": views(request).domain(domain)})


async def delete_domain(request: Request) -> Response:
    authorize(request, "identity:delete_domain")
    await service(request).resources.delete_domain(param(request, "domain_id"))
    return empty()


# --- projects ------------------------------------------------------------------------------
async def list_projects(request: Request) -> Response:
    wanted = filters(
        request,
        "name",
        "domain_id",
        "parent_id",
        "tags",
        "tags-any",
        "not-tags",
        "not-tags-any",
        booleans=("enabled",),
    )
    if query_bool(request.query_params.get("is_domain")):
        # Domains are the projects that act as domains.
        authorize(request, "identity:list_domains")
        domains = await service(request).resources.list_domains(
            filters(request, "name", booleans=("enabled",))
        )
        items = [views(request).domain_as_project(d) for d in domains]
        return json_response(views(request).collection("projects", items, "projects"))
    authorize_domain_list(request, "identity:list_projects", wanted)
    projects = await service(request).resources.list_projects(wanted)
    items, cut = truncate(
        [views(request).project(p, tags) for p, tags in projects],
        service(request).settings.list_limit,
    )
    return json_response(views(request).collection("projects", items, "projects", cut))


async def create_project(request: Request) -> Response:
    body = await valid_body(request, schemas.ProjectCreate, "project")
    ctx = get_context(request)
    values = body.changes()
    values.pop("options", None)
    if values.pop("is_domain", False):
        # A project acting as a domain is a domain, seen through the projects API.
        authorize(request, "identity:create_domain")
        if values.pop("domain_id", None) or values.pop("parent_id", None):
            raise errors.BadRequest("A project acting as a domain has no domain or parent.")
        domain = await service(request).resources.create_domain(values)
        return json_response({"project": views(request).domain_as_project(domain)}, 201)
    values["domain_id"] = values.get("domain_id") or scope_domain(ctx)
    authorize(
        request,
        "identity:create_project",
        {"target": {"project": {"domain_id": values["domain_id"]}}},
    )
    project, tags = await service(request).resources.create_project(values)
    return json_response({"project": views(request).project(project, tags)}, 201)


async def _project_target(request: Request, action: str) -> str:
    project_id = param(request, "project_id")
    project, _ = await service(request).resources.get_project(project_id)
    authorize(
        request, action, {"target": {"project": {"id": project.id, "domain_id": project.domain_id}}}
    )
    return project_id


async def get_project(request: Request) -> Response:
    project_id = param(request, "project_id")
    svc = service(request)
    try:
        project, tags = await svc.resources.get_project(project_id)
    except errors.NotFound:
        # Don't tell a non-admin whether a project exists: authorize first, then 404.
        authorize(request, "identity:get_project", {"target": {"project": {"id": project_id}}})
        domain = await svc.resources.get_domain(project_id)  # a domain is a project too
        return json_response({"project": views(request).domain_as_project(domain)})
    authorize(
        request,
        "identity:get_project",
        {"target": {"project": {"id": project.id, "domain_id": project.domain_id}}},
    )
    body = await hierarchy.expand(request, views(request).project(project, tags), project.id)
    return json_response({"project": body})


async def _acting_domain(request: Request) -> str | None:
    """The id when the path's project is a domain acting as a project, else None."""
    svc = service(request)
    project_id = param(request, "project_id")
    try:
        await svc.resources.get_project(project_id)
        return None
    except errors.NotFound:
        get_context(request)  # 401 before anything about existence
        await svc.resources.get_domain(project_id)  # 404 when it is neither
        return project_id


async def update_project(request: Request) -> Response:
    body = await valid_body(request, schemas.ProjectUpdate, "project")
    values = body.changes()
    values.pop("options", None)
    domain_id = await _acting_domain(request)
    if domain_id is not None:
        authorize(request, "identity:update_domain")
        for immutable in ("domain_id", "parent_id", "is_domain"):
            values.pop(immutable, None)
        domain = await service(request).resources.update_domain(domain_id, values)
        return json_response({"project": views(request).domain_as_project(domain)})
    project_id = await _project_target(request, "identity:update_project")
    project, tags = await service(request).resources.update_project(project_id, values)
    return json_response({"project": views(request).project(project, tags)})


async def delete_project(request: Request) -> Response:
    domain_id = await _acting_domain(request)
    if domain_id is not None:
        authorize(request, "identity:delete_domain")
        await service(request).resources.delete_domain(domain_id)
        return empty()
    project_id = await _project_target(request, "identity:delete_project")
    await service(request).resources.delete_project(project_id)
    return empty()


async def list_project_tags(request: Request) -> Response:
    project_id = await _project_target(request, "identity:get_project")
    _, tags = await service(request).resources.get_project(project_id)
    return json_response({"tags": tags})


async def replace_project_tags(request: Request) -> Response:
    project_id = await _project_target(request, "identity:update_project_tags")
    data = require_body_key(await read_json(request), "tags")
    body = validate(schemas.ProjectUpdate, {"tags": data})
    tags = await service(request).resources.set_tags(project_id, body.tags or [])
    return json_response({"tags": tags})


async def clear_project_tags(request: Request) -> Response:
    project_id = await _project_target(request, "identity:update_project_tags")
    await service(request).resources.set_tags(project_id, [])
    return empty()


async def check_project_tag(request: Request) -> Response:
    project_id = await _project_target(request, "identity:get_project")
    _, tags = await service(request).resources.get_project(project_id)
    if param(request, "tag") not in tags:
        raise errors.NotFound(kind="tag", id=param(request, "tag"))
    return empty()


async def add_project_tag(request: Request) -> Response:
    project_id = await _project_target(request, "identity:update_project_tags")
    tag = param(request, "tag")
    validate(schemas.ProjectUpdate, {"tags": [tag]})
    await service(request).resources.add_tag(project_id, tag)
    return empty(201, {"Location": f"{views(request).base}/projects/{project_id}/tags/{tag}"})


async def delete_project_tag(request: Request) -> Response:
    project_id = await _project_target(request, "identity:update_project_tags")
    await service(request).resources.remove_tag(project_id, param(request, "tag"))
    return empty()


async def list_user_projects(request: Request) -> Response:
    svc = service(request)
    user = await svc.users.get_user(param(request, "user_id"))
    authorize(
        request,
        "identity:list_user_projects",
        {"target": {"user": {"id": user.id, "domain_id": user.domain_id}}},
    )
    ids = await svc.assignments.targets_of_user(user.id, "project")
    projects = await svc.resources.list_projects(
        filters(request, "name", "domain_id", booleans=("enabled",)), ids=ids
    )
    items = [views(request).project(p, tags) for p, tags in projects]
    return json_response(views(request).collection("projects", items, f"users/{user.id}/projects"))


routes = [
    Route("/v3/domains", list_domains, methods=["GET"]),
    Route("/v3/domains", create_domain, methods=["POST"]),
    Route("/v3/domains/{domain_id}", get_domain, methods=["GET"]),
    Route("/v3/domains/{domain_id}", update_domain, methods=["PATCH"]),
    Route("/v3/domains/{domain_id}", delete_domain, methods=["DELETE"]),
    Route("/v3/projects", list_projects, methods=["GET"]),
    Route("/v3/projects", create_project, methods=["POST"]),
    Route("/v3/projects/{project_id}", get_project, methods=["GET"]),
    Route("/v3/projects/{project_id}", update_project, methods=["PATCH"]),
    Route("/v3/projects/{project_id}", delete_project, methods=["DELETE"]),
    Route("/v3/projects/{project_id}/tags", list_project_tags, methods=["GET"]),
    Route("/v3/projects/{project_id}/tags", replace_project_tags, methods=["PUT"]),
    Route("/v3/projects/{project_id}/tags", clear_project_tags, methods=["DELETE"]),
    Route("/v3/projects/{project_id}/tags/{tag}", check_project_tag, methods=["GET"]),
    Route("/v3/projects/{project_id}/tags/{tag}", add_project_tag, methods=["PUT"]),
    Route("/v3/projects/{project_id}/tags/{tag}", delete_project_tag, methods=["DELETE"]),
    Route("/v3/users/{user_id}/projects", list_user_projects, methods=["GET"]),
]
