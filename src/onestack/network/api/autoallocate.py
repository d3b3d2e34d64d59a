"""``/v2.0/auto-allocated-topology/{project_id}``: Neutron's get-me-a-network."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common import errors
from onestack.common.auth import get_context
from onestack.common.http import empty, json_response
from onestack.network import errors as nerr
from onestack.network.api.framework import allowed, enforce, fields_of, service
from onestack.network.service.autoallocate import DRY_RUN, response


def _project(request: Request, rule: str) -> str:
    """The project of the path (``None``: the caller's, as Neutron reads the client's
    "None"); another project's topology is 404 unless the caller may read it (Neutron's
    answer to a policy failure on an item)."""
    ctx = get_context(request)
    project_id: str = request.path_params["project_id"]
    if project_id == "None":
        project_id = ctx.project_id or ""
    target = {"project_id": project_id, "tenant_id": project_id}
    if not allowed(request, "get_auto_allocated_topology", target):
        raise errors.NotFound("The resource could not be found.")
    enforce(request, rule, target)
    return project_id


async def show(request: Request) -> Response:
    project_id = _project(request, "get_auto_allocated_topology")
    fields = fields_of(request)
    svc = service(request).auto_allocation
    if DRY_RUN in fields:
        await svc.requirements()
        return json_response(
            {"auto_allocated_topology": {"id": "dry-run=pass", "tenant_id": project_id,
                                         "project_id": project_id}}
        )  # fmt: skip
    if fields:
        raise nerr.BadRequest(resource="auto_allocate", msg="Unrecognized field")
    network_id = await svc.get(project_id)
    return json_response({"auto_allocated_topology": response(project_id, network_id)})


async def remove(request: Request) -> Response:
    project_id = _project(request, "delete_auto_allocated_topology")
    await service(request).auto_allocation.delete(project_id)
    return empty(204)


routes = [
    Route("/v2.0/auto-allocated-topology/{project_id}", show, methods=["GET"]),
    Route("/v2.0/auto-allocated-topology/{project_id}", remove, methods=["DELETE"]),
]
