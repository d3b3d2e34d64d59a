"""/v3/OS-EP-FILTER: endpoint groups, and the endpoints (or groups) a project's catalog is
narrowed to."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.http import empty, json_response
from onestack.identity import models, schemas
from onestack.identity.api.helpers import (
    authorize,
    filters,
    param,
    service,
    valid_body,
    views,
)
from onestack.identity.api.views import Views

BASE = "OS-EP-FILTER"


def render_group(v: Views, g: models.EndpointGroup) -> dict[str, Any]:
    return {
        "id": g.id,
        "name": g.name,
        "description": g.description,
        "filters": dict(g.filters or {}),
        "links": v.link(f"{BASE}/endpoint_groups/{g.id}"),
    }


async def _projects(request: Request, ids: list[str], path: str) -> Response:
    svc, v = service(request), views(request)
    items = []
    for project_id in ids:
        project, tags = await svc.resources.get_project(project_id)
        items.append(v.project(project, tags))
    return json_response(v.collection("projects", items, path))


def _endpoints(request: Request, endpoints: list[models.Endpoint], path: str) -> Response:
    v = views(request)
    return json_response(v.collection("endpoints", [v.endpoint(e) for e in endpoints], path))


# --- endpoint groups -----------------------------------------------------------------------
async def list_groups(request: Request) -> Response:
    authorize(request, "identity:list_endpoint_groups")
    rows = await service(request).endpoint_filter.list_groups(filters(request, "name"))
    items = [render_group(views(request), g) for g in rows]
    return json_response(
        views(request).collection("endpoint_groups", items, f"{BASE}/endpoint_groups")
    )


async def create_group(request: Request) -> Response:
    authorize(request, "identity:create_endpoint_group")
    body = await valid_body(request, schemas.EndpointGroupCreate, "endpoint_group")
    group = await service(request).endpoint_filter.create_group(body.changes())
    return json_response({"endpoint_group": render_group(views(request), group)}, 201)


async def show_group(request: Request) -> Response:
    authorize(request, "identity:get_endpoint_group")
    group = await service(request).endpoint_filter.get_group(param(request, "group_id"))
    if request.method == "HEAD":
        return empty(200)
    return json_response({"endpoint_group": render_group(views(request), group)})


async def update_group(request: Request) -> Response:
    authorize(request, "identity:update_endpoint_group")
    body = await valid_body(request, schemas.EndpointGroupUpdate, "endpoint_group")
    ep_filter = service(request).endpoint_filter
    group = await ep_filter.update_group(param(request, "group_id"), body.changes())
    return json_response({"endpoint_group": render_group(views(request), group)})


async def delete_group(request: Request) -> Response:
    authorize(request, "identity:delete_endpoint_group")
    await service(request).endpoint_filter.delete_group(param(request, "group_id"))
    return empty()


async def group_projects(request: Request) -> Response:
    authorize(request, "identity:list_projects_associated_with_endpoint_group")
    group_id = param(request, "group_id")
    ids = await service(request).endpoint_filter.projects_of_group(group_id)
    return await _projects(request, ids, f"{BASE}/endpoint_groups/{group_id}/projects")


async def group_endpoints(request: Request) -> Response:
    authorize(request, "identity:list_endpoints_associated_with_endpoint_group")
    group_id = param(request, "group_id")
    endpoints = await service(request).endpoint_filter.group_endpoints(group_id)
    return _endpoints(request, endpoints, f"{BASE}/endpoint_groups/{group_id}/endpoints")


async def group_in_project(request: Request) -> Response:
    group_id, project_id = param(request, "group_id"), param(request, "project_id")
    ep_filter = service(request).endpoint_filter
    if request.method == "PUT":
        authorize(request, "identity:add_endpoint_group_to_project")
        await ep_filter.add_group(project_id, group_id)
        return empty()
    if request.method == "DELETE":
        authorize(request, "identity:remove_endpoint_group_from_project")
        await ep_filter.remove_group(project_id, group_id)
        return empty()
    authorize(request, "identity:get_endpoint_group_in_project")
    await ep_filter.check_group(project_id, group_id)
    if request.method == "HEAD":
        return empty(200)
    path = f"{BASE}/endpoint_groups/{group_id}/projects/{project_id}"
    body = {"endpoint_group_id": group_id, "project_id": project_id}
    return json_response({"project_endpoint_group": {**body, "links": views(request).link(path)}})


# --- projects and endpoints ----------------------------------------------------------------
async def project_groups(request: Request) -> Response:
    authorize(request, "identity:list_endpoint_groups_for_project")
    project_id = param(request, "project_id")
    groups = await service(request).endpoint_filter.groups_of_project(project_id)
    v = views(request)
    items = [render_group(v, g) for g in groups]
    path = f"{BASE}/projects/{project_id}/endpoint_groups"
    return json_response(v.collection("endpoint_groups", items, path))


async def project_endpoints(request: Request) -> Response:
    authorize(request, "identity:list_endpoints_for_project")
    project_id = param(request, "project_id")
    svc = service(request)
    await svc.resources.get_project(project_id)
    endpoints = await svc.endpoint_filter.project_endpoints(project_id)
    return _endpoints(request, endpoints, f"{BASE}/projects/{project_id}/endpoints")


async def endpoint_in_project(request: Request) -> Response:
    project_id, endpoint_id = param(request, "project_id"), param(request, "endpoint_id")
    ep_filter = service(request).endpoint_filter
    if request.method == "PUT":
        authorize(request, "identity:add_endpoint_to_project")
        await ep_filter.add_endpoint(project_id, endpoint_id)
    elif request.method == "DELETE":
        authorize(request, "identity:remove_endpoint_from_project")
        await ep_filter.remove_endpoint(project_id, endpoint_id)
    else:
        authorize(request, "identity:check_endpoint_in_project")
        await ep_filter.check_endpoint(project_id, endpoint_id)
    return empty()


async def endpoint_projects(request: Request) -> Response:
    authorize(request, "identity:list_projects_for_endpoint")
    endpoint_id = param(request, "endpoint_id")
    ids = await service(request).endpoint_filter.projects_of_endpoint(endpoint_id)
    return await _projects(request, ids, f"{BASE}/endpoints/{endpoint_id}/projects")


GROUP = "/v3/OS-EP-FILTER/endpoint_groups/{group_id}"
routes = [
    Route("/v3/OS-EP-FILTER/endpoint_groups", list_groups, methods=["GET"]),
    Route("/v3/OS-EP-FILTER/endpoint_groups", create_group, methods=["POST"]),
    Route(GROUP, show_group, methods=["GET", "HEAD"]),
    Route(GROUP, update_group, methods=["PATCH"]),
    Route(GROUP, delete_group, methods=["DELETE"]),
    Route(f"{GROUP}/projects", group_projects, methods=["GET"]),
    Route(f"{GROUP}/endpoints", group_endpoints, methods=["GET"]),
    Route(
        f"{GROUP}/projects/{{project_id}}",
        group_in_project,
        methods=["GET", "HEAD", "PUT", "DELETE"],
    ),
    Route(
        "/v3/OS-EP-FILTER/projects/{project_id}/endpoint_groups", project_groups, methods=["GET"]
    ),
    Route("/v3/OS-EP-FILTER/projects/{project_id}/endpoints", project_endpoints, methods=["GET"]),
    Route(
        "/v3/OS-EP-FILTER/projects/{project_id}/endpoints/{endpoint_id}",
        endpoint_in_project,
        methods=["GET", "HEAD", "PUT", "DELETE"],
    ),
    Route("/v3/OS-EP-FILTER/endpoints/{endpoint_id}/projects", endpoint_projects, methods=["GET"]),
]
