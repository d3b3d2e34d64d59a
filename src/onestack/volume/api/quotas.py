"""Quota sets, quota class sets and limits (with their usage)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from onestack.common.api import authorize, body, param
from onestack.common.http import json_response, query_bool
from onestack.volume.api.helpers import both, context, svc
from onestack.volume.schemas import QuotaClassSetUpdate, QuotaSetUpdate

USED = {"volumes": ("maxTotalVolumes", "totalVolumesUsed"),
        "snapshots": ("maxTotalSnapshots", "totalSnapshotsUsed"),
        "gigabytes": ("maxTotalVolumeGigabytes", "totalGigabytesUsed"),
        "backups": ("maxTotalBackups", "totalBackupsUsed"),
        "backup_gigabytes": ("maxTotalBackupGigabytes", "totalBackupGigabytesUsed")}  # fmt: skip


async def quota_show(request: Request) -> Response:
    context(request)
    target = param(request, "target")
    authorize(request, "volume_extension:quotas:show", {"project_id": target})
    limits = await svc(request).quotas.limits(target)
    out: dict[str, Any] = {"id": target}
    if query_bool(request.query_params.get("usage", "false")):
        used = await svc(request).quotas.usage(target)
        for key, limit in limits.items():
            out[key] = {"limit": limit, "in_use": used.get(key, 0), "reserved": 0, "allocated": 0}
    else:
        out.update(limits)
    return json_response({"quota_set": out})


async def quota_defaults(request: Request) -> Response:
    context(request)
    target = param(request, "target")
    authorize(request, "volume_extension:quotas:show", {"project_id": target})
    return json_response({"quota_set": {"id": target, **await svc(request).quotas.defaults()}})


async def quota_update(request: Request) -> Response:
    context(request)
    target = param(request, "target")
    authorize(request, "volume_extension:quotas:update", {"project_id": target})
    req = await body(request, QuotaSetUpdate)
    return json_response({"quota_set": await svc(request).quotas.update(target, req.values)})


async def quota_delete(request: Request) -> Response:
    context(request)
    target = param(request, "target")
    authorize(request, "volume_extension:quotas:delete", {"project_id": target})
    await svc(request).quotas.reset(target)
    return Response(status_code=200)


async def quota_class(request: Request) -> Response:
    context(request)
    authorize(request, "volume_extension:quota_classes")
    name = param(request, "name")
    return json_response({"quota_class_set": {"id": name, **await svc(request).quotas.defaults()}})


async def quota_class_update(request: Request) -> Response:
    context(request)
    authorize(request, "volume_extension:quota_classes")
    req = await body(request, QuotaClassSetUpdate)
    limits = await svc(request).quotas.update_class(param(request, "name"), req.values)
    return json_response({"quota_class_set": limits})


async def limits(request: Request) -> Response:
    ctx = context(request)
    project = ctx.project_id or ""
    if ctx.is_admin and request.query_params.get("project_id"):
        project = request.query_params["project_id"]
    authorize(request, "limits_extension:used_limits", {"project_id": project})
    have = await svc(request).quotas.limits(project)
    used = await svc(request).quotas.usage(project)
    absolute: dict[str, int] = {}
    for res, (max_key, used_key) in USED.items():
        absolute[max_key] = have.get(res, -1)
        absolute[used_key] = used.get(res, 0)
    return json_response({"limits": {"rate": [], "absolute": absolute}})


routes = both(
    [
        ("/os-quota-sets/{target}", quota_show, ["GET"]),
        ("/os-quota-sets/{target}", quota_update, ["PUT"]),
        ("/os-quota-sets/{target}", quota_delete, ["DELETE"]),
        ("/os-quota-sets/{target}/defaults", quota_defaults, ["GET"]),
        ("/os-quota-class-sets/{name}", quota_class, ["GET"]),
        ("/os-quota-class-sets/{name}", quota_class_update, ["PUT"]),
        ("/limits", limits, ["GET"]),
    ]
)
