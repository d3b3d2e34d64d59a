"""``/backups``: create (full or incremental), list, show, delete, restore, admin actions."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from onestack.common import errors
from onestack.common.api import authorize, body, param
from onestack.common.context import RequestContext
from onestack.common.http import json_response, query_bool
from onestack.volume.api.helpers import both, context, require_version, svc, version, views
from onestack.volume.microversions import at_least
from onestack.volume.models import Backup
from onestack.volume.schemas import (
    BackupCreate,
    BackupRecord,
    BackupRestore,
    BackupUpdate,
    OneAction,
)
from onestack.volume.service.volumes import CreateRequest
from onestack.volume.views import Views, iso


def render(
    request: Request, v: Views, b: Backup, dependents: set[str], *, detail: bool
) -> dict[str, Any]:
    body: dict[str, Any] = {"id": b.id, "name": b.name, "links": v.links("backups", b.id)}
    if not detail:
        return body
    body.update(
        status=b.status, object_count=0, container=b.container, description=b.description,
        availability_zone=b.availability_zone, created_at=iso(b.created_at),
        updated_at=iso(b.updated_at), has_dependent_backups=b.id in dependents,
        volume_id=b.volume_id, fail_reason=b.fail_reason, size=b.size,
        is_incremental=b.is_incremental, data_timestamp=iso(b.data_timestamp), snapshot_id=None,
    )  # fmt: skip
    ver = version(request)
    if at_least(ver, "3.18"):
        body["os-backup-project-attr:project_id"] = b.project_id
    if at_least(ver, "3.43"):
        body["metadata"] = dict(b.meta)
    if at_least(ver, "3.56"):
        body["user_id"] = b.user_id
    return body


async def create(request: Request) -> Response:
    ctx = context(request)
    req = await body(request, BackupCreate)
    vol = (await svc(request).volumes.get(ctx, req.volume_id)).rows[0]
    authorize(request, "backup:create", {"project_id": vol.project_id})
    meta = req.metadata if at_least(version(request), "3.43") else None
    row = await svc(request).backups.create(
        ctx, vol.id, req.name, req.description, incremental=req.incremental, force=req.force,
        metadata={str(k): str(v) for k, v in (meta or {}).items()},
    )  # fmt: skip
    out = render(request, views(request, ctx), row, set(), detail=False)
    if at_least(version(request), "3.43"):
        out["metadata"] = dict(row.meta)
    return json_response({"backup": out}, 202)


async def _listing(request: Request, detail: bool) -> Response:
    ctx = context(request)
    authorize(request, "backup:get_all")
    q = request.query_params
    all_projects = bool(query_bool(q.get("all_tenants", "false")))
    filters = {k: q[k] for k in ("name", "status", "volume_id") if k in q}
    rows = await svc(request).backups.listing(ctx, all_projects, filters)
    deps = await svc(request).backups.has_dependents([r.id for r in rows])
    v = views(request, ctx)
    out: dict[str, Any] = {"backups": [render(request, v, r, deps, detail=detail) for r in rows]}
    if at_least(version(request), "3.45") and query_bool(q.get("with_count", "false")):
        out["count"] = len(rows)
    return json_response(out)


async def index(request: Request) -> Response:
    return await _listing(request, False)


async def detail(request: Request) -> Response:
    return await _listing(request, True)


async def show(request: Request) -> Response:
    ctx = context(request)
    row = await svc(request).backups.get(ctx, param(request, "backup_id"))
    authorize(request, "backup:get", {"project_id": row.project_id})
    deps = await svc(request).backups.has_dependents([row.id])
    return json_response({"backup": render(request, views(request, ctx), row, deps, detail=True)})


async def update(request: Request) -> Response:
    """``PUT /backups/{id}`` (3.9): name and description; metadata from 3.43."""
    require_version(request, "3.9")
    ctx = context(request)
    row = await svc(request).backups.get(ctx, param(request, "backup_id"))
    authorize(request, "backup:update", {"project_id": row.project_id})
    metadata = at_least(version(request), "3.43")
    req = await body(request, BackupUpdate, context={"metadata": metadata})
    row = await svc(request).backups.update(ctx, row.id, req.changes)
    return json_response({"backup": render(request, views(request, ctx), row, set(), detail=False)})


async def delete(request: Request) -> Response:
    ctx = context(request)
    row = await svc(request).backups.get(ctx, param(request, "backup_id"))
    authorize(request, "backup:delete", {"project_id": row.project_id})
    await svc(request).backups.delete(ctx, row.id)
    return Response(status_code=202)


async def restore(request: Request) -> Response:
    ctx = context(request)
    row = await svc(request).backups.get(ctx, param(request, "backup_id"))
    authorize(request, "backup:restore", {"project_id": row.project_id})
    req = await body(request, BackupRestore)

    async def new_volume(size: int) -> str:
        # Cinder names a volume made for a restore after the backup.
        named = req.name if req.name is not None else f"restore_backup_{row.id}"
        new = CreateRequest(size=size, name=named)
        made = await svc(request).volumes.create(ctx, new, for_restore=True)
        return made.rows[0].id

    backup, vol = await svc(request).backups.restore(ctx, row.id, req.volume_id, new_volume)
    out = {"backup_id": backup.id, "volume_id": vol.id, "volume_name": vol.name}
    return json_response({"restore": out}, 202)


async def action(request: Request) -> Response:
    ctx: RequestContext = context(request)
    req = await body(request, OneAction)
    name, args = req.name, req.args
    row = await svc(request).backups.get(ctx, param(request, "backup_id"))
    if name == "os-reset_status":
        authorize(request, "volume_extension:backup_admin_actions:reset_status")
        status = args.get("status") if isinstance(args, dict) else None
        if status not in ("available", "error"):
            raise errors.BadRequest(f"Invalid status: {status}")
        error = None if status == "available" else "reset by an admin"
        await svc(request).backups.finished(row.id, error=error)
    elif name == "os-force_delete":
        authorize(request, "volume_extension:backup_admin_actions:force_delete")
        await svc(request).backups.delete(ctx, row.id, force=True)
    else:
        raise errors.BadRequest(f"There is no such action: {name}")
    return Response(status_code=202)


async def export_record(request: Request) -> Response:
    context(request)
    authorize(request, "backup:backup-export")
    record = await svc(request).backups.export_record(param(request, "backup_id"))
    return json_response({"backup-record": record})


async def import_record(request: Request) -> Response:
    ctx = context(request)
    authorize(request, "backup:backup-import")
    req = await body(request, BackupRecord)
    row = await svc(request).backups.import_record(ctx, req.backup_service, req.backup_url)
    out = render(request, views(request, ctx), row, set(), detail=False)
    return json_response({"backup": out}, 201)


routes = both(
    [
        ("/backups", index, ["GET"]),
        ("/backups", create, ["POST"]),
        ("/backups/detail", detail, ["GET"]),
        ("/backups/import_record", import_record, ["POST"]),
        ("/backups/{backup_id}/export_record", export_record, ["GET"]),
        ("/backups/{backup_id}", show, ["GET"]),
        ("/backups/{backup_id}", delete, ["DELETE"]),
        ("/backups/{backup_id}", update, ["PUT"]),
        ("/backups/{backup_id}/restore", restore, ["POST"]),
        ("/backups/{backup_id}/action", action, ["POST"]),
    ]
)
