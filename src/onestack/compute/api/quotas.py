"""Quotas (``os-quota-sets``, ``os-quota-class-sets``) and the caller's ``/limits``, with the
keys each microversion shows."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.auth import get_context
from onestack.common.http import empty, json_response
from onestack.compute import schemas
from onestack.compute.api.helpers import at_least, authorize, param, service, valid_body
from onestack.compute.service.quotas import LEGACY, RESOURCES

NETWORK = tuple(LEGACY)
INJECTED = ("injected_files", "injected_file_content_bytes", "injected_file_path_bytes")
SERVER_GROUPS = ("server_groups", "server_group_members")


def shown(request: Request) -> tuple[str, ...]:
    """The quota keys of os-quota-sets at this microversion (2.36 drops nova-network's,
    2.57 the injected files')."""
    keys = [*RESOURCES, *NETWORK]
    if at_least(request, 36):
        keys = [k for k in keys if k not in NETWORK]
    if at_least(request, 57):
        keys = [k for k in keys if k not in INJECTED]
    return tuple(keys)


def class_shown(request: Request) -> tuple[str, ...]:
    """os-quota-class-sets: no server-group keys before 2.50, then as os-quota-sets."""
    if at_least(request, 50):
        return shown(request)
    return tuple(k for k in (*RESOURCES, *NETWORK) if k not in SERVER_GROUPS)


def _pick(values: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: values[k] for k in keys if k in values}


def _user_id(request: Request) -> str | None:
    return request.query_params.get("user_id") or None


async def _limits(request: Request, rule: str) -> tuple[str, str | None, dict[str, Any]]:
    """The project, the user asked about (if any) and the limits that apply to them."""
    project_id = param(request, "project_id")
    authorize(request, rule, {"project_id": project_id})
    quotas = service(request).quotas
    await quotas.verify_project(project_id)
    user_id = _user_id(request)
    limits = (
        await quotas.user_limits(project_id, user_id)
        if user_id
        else await quotas.limits(project_id)
    )
    return project_id, user_id, limits


async def show_quota(request: Request) -> Response:
    project_id, _, limits = await _limits(request, "os-quota-sets:show")
    return json_response({"quota_set": {"id": project_id, **_pick(limits, shown(request))}})


async def show_quota_detail(request: Request) -> Response:
    project_id, user_id, limits = await _limits(request, "os-quota-sets:detail")
    used = await service(request).quotas.usage(project_id, user_id)
    body: dict[str, Any] = {"id": project_id}
    for key in shown(request):
        body[key] = {"limit": limits[key], "in_use": used.get(key, 0), "reserved": 0}
    return json_response({"quota_set": body})


async def show_defaults(request: Request) -> Response:
    project_id = param(request, "project_id")
    authorize(request, "os-quota-sets:defaults", {"project_id": project_id})
    quotas = service(request).quotas
    await quotas.verify_project(project_id)
    values = await quotas.defaults()
    return json_response({"quota_set": {"id": project_id, **_pick(values, shown(request))}})


async def update_quota(request: Request) -> Response:
    project_id = param(request, "project_id")
    authorize(request, "os-quota-sets:update", {"project_id": project_id})
    quotas = service(request).quotas
    await quotas.verify_project(project_id)
    body = await valid_body(request, schemas.quota_set_update(shown(request)))
    user_id = _user_id(request)
    await quotas.update(project_id, body.limits(), user_id=user_id, force=body.forced())
    limits = (
        await quotas.user_limits(project_id, user_id)
        if user_id
        else await quotas.limits(project_id)
    )
    # Nova's update answers without the id.
    return json_response({"quota_set": _pick(limits, shown(request))})


async def delete_quota(request: Request) -> Response:
    project_id = param(request, "project_id")
    authorize(request, "os-quota-sets:delete", {"project_id": project_id})
    await service(request).quotas.delete(project_id, _user_id(request))
    return empty(202)


async def show_quota_class(request: Request) -> Response:
    class_name = param(request, "class_name")
    authorize(request, "os-quota-class-sets:show", {"quota_class": class_name})
    values = await service(request).quotas.class_limits(class_name)
    body = {"id": class_name, **_pick(values, class_shown(request))}
    return json_response({"quota_class_set": body})


async def update_quota_class(request: Request) -> Response:
    class_name = param(request, "class_name")
    authorize(request, "os-quota-class-sets:update", {"quota_class": class_name})
    keys = class_shown(request)
    body = await valid_body(request, schemas.quota_class_set_update(keys))
    quotas = service(request).quotas
    await quotas.update_class(class_name, body.limits())
    limits = await quotas.class_limits(class_name)
    return json_response({"quota_class_set": _pick(limits, keys)})


# -- /limits ----------------------------------------------------------------------------

# absolute limit name -> quota resource; removed-at microversion
ABSOLUTE: tuple[tuple[str, str, int | None], ...] = (
    ("maxTotalRAMSize", "ram", None),
    ("maxTotalInstances", "instances", None),
    ("maxTotalCores", "cores", None),
    ("maxTotalKeypairs", "key_pairs", None),
    ("maxServerMeta", "metadata_items", None),
    ("maxServerGroups", "server_groups", None),
    ("maxServerGroupMembers", "server_group_members", None),
    ("maxImageMeta", "metadata_items", 39),
    ("maxPersonality", "injected_files", 57),
    ("maxPersonalitySize", "injected_file_content_bytes", 57),
    ("maxTotalFloatingIps", "floating_ips", 36),
    ("maxSecurityGroups", "security_groups", 36),
    ("maxSecurityGroupRules", "security_group_rules", 36),
)
USED: tuple[tuple[str, str, int | None], ...] = (
    ("totalRAMUsed", "ram", None),
    ("totalCoresUsed", "cores", None),
    ("totalInstancesUsed", "instances", None),
    ("totalServerGroupsUsed", "server_groups", None),
    ("totalFloatingIpsUsed", "floating_ips", 36),
    ("totalSecurityGroupsUsed", "security_groups", 36),
)


async def show_limits(request: Request) -> Response:
    ctx = get_context(request)
    project_id = request.query_params.get("tenant_id") or ctx.project_id or ""
    if project_id != ctx.project_id:
        authorize(request, "limits:other_project", {"project_id": project_id})
    else:
        authorize(request, "limits", {"project_id": project_id})
    quotas = service(request).quotas
    limits = await quotas.user_limits(project_id, ctx.user_id)
    used = await quotas.usage(project_id)
    absolute: dict[str, int] = {}
    for name, resource, gone in ABSOLUTE:
        if gone is None or not at_least(request, gone):
            absolute[name] = limits[resource]
    for name, resource, gone in USED:
        if gone is None or not at_least(request, gone):
            absolute[name] = used.get(resource, 0)
    return json_response({"limits": {"rate": [], "absolute": absolute}})


routes: list[Route] = [
    Route("/os-quota-sets/{project_id}", show_quota, methods=["GET"]),
    Route("/os-quota-sets/{project_id}", update_quota, methods=["PUT"]),
    Route("/os-quota-sets/{project_id}", delete_quota, methods=["DELETE"]),
    Route("/os-quota-sets/{project_id}/defaults", show_defaults, methods=["GET"]),
    Route("/os-quota-sets/{project_id}/detail", show_quota_detail, methods=["GET"]),
    Route("/os-quota-class-sets/{class_name}", show_quota_class, methods=["GET"]),
    Route("/os-quota-class-sets/{class_name}", update_quota_class, methods=["PUT"]),
    Route("/limits", show_limits, methods=["GET"]),
]
