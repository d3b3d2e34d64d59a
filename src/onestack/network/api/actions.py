"""The routes that are not plain collections: router interface actions, tags, port
forwardings under a floating IP, quotas and availability zones."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common import api, errors
from onestack.common.auth import get_context
from onestack.common.http import empty, json_response
from onestack.network import errors as nerr
from onestack.network.api import bodies
from onestack.network.api.framework import caller, enforce, fields_of, service, strip
from onestack.network.service import views
from onestack.network.service.tags import TAGGABLE

# Router interfaces -------------------------------------------------------------------------


async def _interface(request: Request, add: bool) -> Response:
    body = (await api.body(request, bodies.RouterInterface)).given()
    svc = service(request)
    who = caller(request)
    router = await svc.show("routers", who, request.path_params["id"])
    enforce(request, "add_router_interface" if add else "remove_router_interface", router)
    fn = svc.routers.add_interface if add else svc.routers.remove_interface
    result = await svc.run(fn, who, router["id"], body)
    return json_response(result)


async def add_interface(request: Request) -> Response:
    return await _interface(request, True)


async def remove_interface(request: Request) -> Response:
    return await _interface(request, False)


async def _extraroutes(request: Request, add: bool) -> Response:
    """extraroute-atomic: add routes to (or remove them from) the router's routes in one go;
    a route already there (or already gone) is no error, as in Neutron."""
    given = (await api.body(request, bodies.ExtraRoutes)).routes
    svc = service(request)
    who = caller(request)
    router = await svc.show("routers", who, request.path_params["id"])
    enforce(request, "add_extraroutes" if add else "remove_extraroutes", router)
    current = [bodies.route_key(r) for r in router.get("routes") or []]
    if add:
        wanted = current + [r for r in dict.fromkeys(given) if r not in current]
    else:
        wanted = [r for r in current if r not in given]
    new = [{"destination": d, "nexthop": h} for d, h in wanted]
    row = await svc.run(svc.routers.update, who, router["id"], {"routes": new})
    return json_response({"router": await svc.render("routers", who, row)})


async def add_extraroutes(request: Request) -> Response:
    return await _extraroutes(request, True)


async def remove_extraroutes(request: Request) -> Response:
    return await _extraroutes(request, False)


# Tags ----------------------------------------------------------------------------------------

_SHOW_KEY = {
    "networks": "networks", "subnets": "subnets", "ports": "ports", "routers": "routers",
    "floatingips": "floatingips", "security-groups": "security_groups",
    "subnetpools": "subnetpools", "address-scopes": "address_scopes", "policies": "policies",
}  # fmt: skip


async def _tag_target(request: Request) -> tuple[str, dict[str, Any]]:
    collection = request.path_params["collection"]
    if collection not in TAGGABLE:
        raise errors.NotFound("The resource could not be found.")
    svc = service(request)
    try:
        # QoS policies' tags are Neutron's /v2.0/policies/{id}/tags.
        shown = "qos/policies" if collection == "policies" else collection
        item = await svc.show(shown, caller(request), request.path_params["id"])
    except errors.NotFound:
        raise nerr.TagResourceNotFound(
            resource="policy"
            if collection == "policies"
            else collection.rstrip("s").replace("-", "_"),
            resource_id=request.path_params["id"],
        ) from None
    return collection, item


async def get_tags(request: Request) -> Response:
    collection, item = await _tag_target(request)
    enforce(request, f"get_{_SHOW_KEY[collection]}_tags", item)
    return json_response({"tags": item.get("tags", [])})


async def replace_tags(request: Request) -> Response:
    collection, item = await _tag_target(request)
    enforce(request, f"update_{_SHOW_KEY[collection]}_tags", item)
    body = await api.body(request, bodies.Tags)
    tags = await service(request).tags.replace(collection, item["id"], body.tags)
    return json_response({"tags": tags})


async def clear_tags(request: Request) -> Response:
    collection, item = await _tag_target(request)
    enforce(request, f"delete_{_SHOW_KEY[collection]}_tags", item)
    await service(request).tags.clear(collection, item["id"])
    return empty()


async def check_tag(request: Request) -> Response:
    collection, item = await _tag_target(request)
    enforce(request, f"get_{_SHOW_KEY[collection]}_tags", item)
    tag = request.path_params["tag"]
    if tag not in item.get("tags", []):
        raise nerr.TagNotFound(tag=tag)
    return empty()


async def add_tag(request: Request) -> Response:
    collection, item = await _tag_target(request)
    enforce(request, f"create_{_SHOW_KEY[collection]}_tags", item)
    await service(request).tags.add(collection, item["id"], request.path_params["tag"])
    return empty(201)


async def remove_tag(request: Request) -> Response:
    collection, item = await _tag_target(request)
    enforce(request, f"delete_{_SHOW_KEY[collection]}_tags", item)
    await service(request).tags.remove(collection, item["id"], request.path_params["tag"])
    return empty()


# Port forwardings --------------------------------------------------------------------------

FORWARDING = "port_forwarding"


async def _fip(request: Request, action: str) -> dict[str, Any]:
    fip = await service(request).show("floatingips", caller(request), request.path_params["id"])
    enforce(request, f"{action}_floatingip_port_forwarding", fip)
    return fip


async def list_forwardings(request: Request) -> Response:
    fip = await _fip(request, "get")
    rows = await service(request).floating_ips.list_forwardings(caller(request), fip["id"])
    fields = fields_of(request)
    items = [strip(views.port_forwarding_dict(r), [], fields) for r in rows]
    return json_response({"port_forwardings": items})


async def show_forwarding(request: Request) -> Response:
    fip = await _fip(request, "get")
    row = await service(request).floating_ips.get_forwarding(
        caller(request), fip["id"], request.path_params["pf_id"]
    )
    return json_response({"port_forwarding": views.port_forwarding_dict(row)})


async def create_forwarding(request: Request) -> Response:
    fip = await _fip(request, "create")
    values = (await api.body(request, bodies.document(FORWARDING, None, True))).members[0].values
    svc = service(request)
    row = await svc.run(svc.floating_ips.create_forwarding, caller(request), fip["id"], values)
    return json_response({"port_forwarding": views.port_forwarding_dict(row)}, 201)


async def update_forwarding(request: Request) -> Response:
    fip = await _fip(request, "update")
    body = await api.body(request, bodies.document(FORWARDING, None, False))
    values = body.members[0].values
    svc = service(request)
    row = await svc.floating_ips.update_forwarding(
        caller(request), fip["id"], request.path_params["pf_id"], values
    )
    return json_response({"port_forwarding": views.port_forwarding_dict(row)})


async def delete_forwarding(request: Request) -> Response:
    fip = await _fip(request, "delete")
    await service(request).floating_ips.delete_forwarding(
        caller(request), fip["id"], request.path_params["pf_id"]
    )
    return empty()


# Quotas ------------------------------------------------------------------------------------


async def list_quotas(request: Request) -> Response:
    enforce(request, "update_quota", {})  # every project's quotas: admins only, as in Neutron
    rows = await service(request).quotas.list_projects()
    items = [{**limits, "project_id": p, "tenant_id": p} for p, limits in rows]
    return json_response({"quotas": items})


def _project(request: Request) -> str:
    return str(request.path_params["project_id"])


async def show_quota(request: Request) -> Response:
    project = _project(request)
    enforce(request, "get_quota", {"project_id": project})
    return json_response({"quota": await service(request).quotas.get(project)})


async def show_default_quota(request: Request) -> Response:
    project = _project(request)
    enforce(request, "get_quota", {"project_id": project})
    from onestack.network.service.base import DEFAULT_QUOTAS

    return json_response({"quota": {**DEFAULT_QUOTAS, "project_id": project,
                                    "tenant_id": project}})  # fmt: skip


async def quota_details(request: Request) -> Response:
    project = _project(request)
    enforce(request, "get_quota", {"project_id": project})
    return json_response({"quota": await service(request).quotas.details(project)})


async def update_quota(request: Request) -> Response:
    project = _project(request)
    enforce(request, "update_quota", {"project_id": project})
    body = await api.body(request, bodies.Quota)
    limits = await service(request).quotas.update(project, dict(body.body))
    return json_response({"quota": limits})


async def delete_quota(request: Request) -> Response:
    project = _project(request)
    enforce(request, "delete_quota", {"project_id": project})
    await service(request).quotas.reset(project)
    return empty()


async def tenant_quota(request: Request) -> Response:
    """``GET /v2.0/quotas/tenant``: the caller's own project id (python-neutronclient)."""
    ctx = get_context(request)
    return json_response({"tenant": {"tenant_id": ctx.project_id}})


# Availability zones ------------------------------------------------------------------------


async def availability_zones(request: Request) -> Response:
    enforce(request, "get_availability_zone", {})
    zones = [
        {"name": "nova", "resource": resource, "state": "available"}
        for resource in ("network", "router")
    ]
    for key, value in request.query_params.multi_items():
        if key in ("name", "resource", "state"):
            zones = [z for z in zones if z[key] == value]
    return json_response({"availability_zones": zones})


TAGS = "/v2.0/{collection}/{id}/tags"
FORWARDINGS = "/v2.0/floatingips/{id}/port_forwardings"

routes = [
    Route("/v2.0/routers/{id}/add_router_interface", add_interface, methods=["PUT"]),
    Route("/v2.0/routers/{id}/remove_router_interface", remove_interface, methods=["PUT"]),
    Route("/v2.0/routers/{id}/add_extraroutes", add_extraroutes, methods=["PUT"]),
    Route("/v2.0/routers/{id}/remove_extraroutes", remove_extraroutes, methods=["PUT"]),
    Route(TAGS, get_tags, methods=["GET"]),
    Route(TAGS, replace_tags, methods=["PUT"]),
    Route(TAGS, clear_tags, methods=["DELETE"]),
    Route(TAGS + "/{tag}", check_tag, methods=["GET"]),
    Route(TAGS + "/{tag}", add_tag, methods=["PUT"]),
    Route(TAGS + "/{tag}", remove_tag, methods=["DELETE"]),
    Route(FORWARDINGS, list_forwardings, methods=["GET"]),
    Route(FORWARDINGS, create_forwarding, methods=["POST"]),
    Route(FORWARDINGS + "/{pf_id}", show_forwarding, methods=["GET"]),
    Route(FORWARDINGS + "/{pf_id}", update_forwarding, methods=["PUT"]),
    Route(FORWARDINGS + "/{pf_id}", delete_forwarding, methods=["DELETE"]),
    Route("/v2.0/quotas", list_quotas, methods=["GET"]),
    Route("/v2.0/quotas/tenant", tenant_quota, methods=["GET"]),
    Route("/v2.0/quotas/{project_id}", show_quota, methods=["GET"]),
    Route("/v2.0/quotas/{project_id}", update_quota, methods=["PUT"]),
    Route("/v2.0/quotas/{project_id}", delete_quota, methods=["DELETE"]),
    Route("/v2.0/quotas/{project_id}/default", show_default_quota, methods=["GET"]),
    Route("/v2.0/quotas/{project_id}/details", quota_details, methods=["GET"]),
    Route("/v2.0/availability_zones", availability_zones, methods=["GET"]),
]
