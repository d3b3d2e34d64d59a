"""Flavors, their extra specs and access lists (``/flavors``, ``os-extra_specs``,
``os-flavor-access``)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common import api, errors
from onestack.common.auth import get_context
from onestack.common.http import empty, json_response, validate
from onestack.common.pagination import next_link
from onestack.compute import schemas
from onestack.compute.api import checks
from onestack.compute.api.helpers import (
    allowed,
    at_least,
    authorize,
    href,
    links,
    param,
    service,
    valid_body,
    versioned,
)
from onestack.compute.server_schemas import Action, Members
from onestack.compute.service.flavors import SORT_KEYS, FlavorView

MAX_LIMIT = 1000


def swap_of(request: Request, swap: int) -> int | str:
    # Before 2.75 a flavor without swap showed "" instead of 0.
    return swap if swap or at_least(request, 75) else ""


def brief(request: Request, f: FlavorView) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": f.row.flavorid,
        "name": f.row.name,
        "links": links(request, "flavors", f.row.flavorid),
    }
    if at_least(request, 55):
        out["description"] = f.row.description
    return out


def detail(request: Request, f: FlavorView) -> dict[str, Any]:
    r = f.row
    out: dict[str, Any] = {
        "id": r.flavorid,
        "name": r.name,
        "ram": r.memory_mb,
        "disk": r.root_gb,
        "vcpus": r.vcpus,
        "swap": swap_of(request, r.swap),
        "OS-FLV-EXT-DATA:ephemeral": r.ephemeral_gb,
        "OS-FLV-DISABLED:disabled": r.disabled,
        "os-flavor-access:is_public": r.is_public,
        "rxtx_factor": r.rxtx_factor,
        "links": links(request, "flavors", r.flavorid),
    }
    if at_least(request, 55):
        out["description"] = r.description
    if at_least(request, 61) and allowed(request, "os-flavor-extra-specs:index"):
        out["extra_specs"] = dict(f.extra_specs)
    return out


def _is_public(request: Request) -> bool | None:
    raw = request.query_params.get("is_public")
    if raw is None:
        return True
    if raw.lower() == "none":
        return None
    try:
        return checks.query_bool(raw, "is_public")
    except errors.BadRequest:
        raise errors.BadRequest(f"Invalid is_public filter [{raw}]") from None


def _min(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise errors.BadRequest(f"Invalid {name} filter [{raw}]") from None
    if value < 0:
        raise errors.BadRequest(f"Invalid {name} filter [{raw}]")
    return value


async def _list(request: Request, full: bool) -> Response:
    ctx = get_context(request)
    q = request.query_params
    sort_key = q.get("sort_key", "flavorid")
    sort_dir = q.get("sort_dir", "asc")
    if sort_key not in SORT_KEYS:
        raise errors.BadRequest(f"Invalid input for query parameters sort_key. Value: {sort_key}.")
    if sort_dir not in ("asc", "desc"):
        raise errors.BadRequest(f"Invalid input for query parameters sort_dir. Value: {sort_dir}.")
    limit = min(checks.query_int(q["limit"], "limit"), MAX_LIMIT) if "limit" in q else None
    flavors = await service(request).flavors.list(
        ctx,
        is_public=_is_public(request),
        min_ram=_min(request, "minRam"),
        min_disk=_min(request, "minDisk"),
        sort=((sort_key, sort_dir),),
        limit=limit if limit is not None else MAX_LIMIT,
        marker=q.get("marker"),
    )
    view = detail if full else brief
    body: dict[str, Any] = {"flavors": [view(request, f) for f in flavors]}
    if flavors and len(flavors) == (limit if limit is not None else MAX_LIMIT):
        path = "flavors/detail" if full else "flavors"
        body["flavors_links"] = [
            {"rel": "next", "href": next_link(href(request, path), q, flavors[-1].row.flavorid)}
        ]
    return json_response(body)


async def list_flavors(request: Request) -> Response:
    return await _list(request, full=False)


async def list_flavors_detail(request: Request) -> Response:
    return await _list(request, full=True)


async def show_flavor(request: Request) -> Response:
    ctx = get_context(request)
    f = await service(request).flavors.get(ctx, param(request, "flavor_id"))
    return json_response({"flavor": detail(request, f)})


async def create_flavor(request: Request) -> Response:
    authorize(request, "os-flavor-manage:create", {})
    model = versioned(request, (55, schemas.FlavorCreateV255), (0, schemas.FlavorCreate))
    body = await valid_body(request, model)
    f = await service(request).flavors.create(
        name=body.name,
        flavorid=body.flavorid,
        ram=body.ram,
        vcpus=body.vcpus,
        disk=body.disk,
        ephemeral=body.ephemeral,
        swap=body.swap,
        rxtx_factor=body.rxtx_factor,
        is_public=body.is_public,
        description=body.description,
    )
    return json_response({"flavor": detail(request, f)})


async def update_flavor(request: Request) -> Response:
    if not at_least(request, 55):
        raise errors.NotFound("The resource could not be found.")
    authorize(request, "os-flavor-manage:update", {})
    body = await valid_body(request, schemas.FlavorUpdate)
    f = await service(request).flavors.update_description(
        param(request, "flavor_id"), body.description
    )
    return json_response({"flavor": detail(request, f)})


async def delete_flavor(request: Request) -> Response:
    authorize(request, "os-flavor-manage:delete", {})
    await service(request).flavors.delete(param(request, "flavor_id"))
    return empty(202)


# -- os-extra_specs ---------------------------------------------------------------------


async def list_extra_specs(request: Request) -> Response:
    ctx = authorize(request, "os-flavor-extra-specs:index", {})
    specs = await service(request).flavors.extra_specs(ctx, param(request, "flavor_id"))
    return json_response({"extra_specs": specs})


async def create_extra_specs(request: Request) -> Response:
    authorize(request, "os-flavor-extra-specs:create", {})
    specs = (await valid_body(request, schemas.FlavorExtraSpecs)).extra_specs
    await service(request).flavors.set_extra_specs(param(request, "flavor_id"), specs)
    return json_response({"extra_specs": specs})


async def show_extra_spec(request: Request) -> Response:
    ctx = authorize(request, "os-flavor-extra-specs:show", {})
    flavor_id, key = param(request, "flavor_id"), param(request, "key")
    specs = await service(request).flavors.extra_specs(ctx, flavor_id)
    if key not in specs:
        raise errors.NotFound(f"Flavor {flavor_id} has no extra specs with key {key}.")
    return json_response({key: specs[key]})


async def update_extra_spec(request: Request) -> Response:
    authorize(request, "os-flavor-extra-specs:update", {})
    flavor_id, key = param(request, "flavor_id"), param(request, "key")
    body = (await api.body(request, Members)).members
    if key not in body:
        raise errors.BadRequest("Request body and URI mismatch")
    if len(body) > 1:
        raise errors.BadRequest("Request body contains too many items")
    specs = schemas.spec_values(body)
    await service(request).flavors.set_extra_specs(flavor_id, specs)
    return json_response(specs)


async def delete_extra_spec(request: Request) -> Response:
    authorize(request, "os-flavor-extra-specs:delete", {})
    await service(request).flavors.delete_extra_spec(
        param(request, "flavor_id"), param(request, "key")
    )
    return empty(200)


# -- os-flavor-access -------------------------------------------------------------------


def _access_body(flavor_id: str, projects: list[str]) -> dict[str, Any]:
    return {"flavor_access": [{"flavor_id": flavor_id, "tenant_id": p} for p in projects]}


async def list_access(request: Request) -> Response:
    authorize(request, "os-flavor-access", {})
    flavor_id = param(request, "flavor_id")
    return json_response(_access_body(flavor_id, await service(request).flavors.access(flavor_id)))


async def flavor_action(request: Request) -> Response:
    flavor_id = param(request, "flavor_id")
    body = await api.body(request, Action)
    action, args = body.name, body.args
    if action not in ("addTenantAccess", "removeTenantAccess"):
        raise errors.NotFound("There is no such action: " + action)
    model = schemas.AddTenantAccess if action == "addTenantAccess" else schemas.RemoveTenantAccess
    tenant = validate(model, args).tenant
    flavors = service(request).flavors
    if action == "addTenantAccess":
        authorize(request, "os-flavor-access:add_tenant_access", {})
        await service(request).quotas.verify_project(tenant)
        projects = await flavors.add_access(flavor_id, tenant)
    else:
        authorize(request, "os-flavor-access:remove_tenant_access", {})
        projects = await flavors.remove_access(flavor_id, tenant)
    return json_response(_access_body(flavor_id, projects))


routes: list[Route] = [
    Route("/flavors", list_flavors, methods=["GET"]),
    Route("/flavors", create_flavor, methods=["POST"]),
    Route("/flavors/detail", list_flavors_detail, methods=["GET"]),
    Route("/flavors/{flavor_id}", show_flavor, methods=["GET"]),
    Route("/flavors/{flavor_id}", update_flavor, methods=["PUT"]),
    Route("/flavors/{flavor_id}", delete_flavor, methods=["DELETE"]),
    Route("/flavors/{flavor_id}/action", flavor_action, methods=["POST"]),
    Route("/flavors/{flavor_id}/os-extra_specs", list_extra_specs, methods=["GET"]),
    Route("/flavors/{flavor_id}/os-extra_specs", create_extra_specs, methods=["POST"]),
    Route("/flavors/{flavor_id}/os-extra_specs/{key}", show_extra_spec, methods=["GET"]),
    Route("/flavors/{flavor_id}/os-extra_specs/{key}", update_extra_spec, methods=["PUT"]),
    Route("/flavors/{flavor_id}/os-extra_specs/{key}", delete_extra_spec, methods=["DELETE"]),
    Route("/flavors/{flavor_id}/os-flavor-access", list_access, methods=["GET"]),
]
