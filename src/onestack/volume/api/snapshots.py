"""``/snapshots``: create, list (summary and detail), show, update, delete, metadata and the
snapshot actions of admins."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from onestack.common import errors
from onestack.common.api import authorize, body, param
from onestack.common.http import json_response, query_bool
from onestack.common.pagination import parse_page_params
from onestack.volume import errors as verr
from onestack.volume.api.helpers import both, context, offset_param, svc, version, views
from onestack.volume.microversions import at_least
from onestack.volume.schemas import (
    MetadataBody,
    OneAction,
    SnapshotCreate,
    SnapshotMetaItem,
    SnapshotUpdate,
)
from onestack.volume.service.snapshots import SORT_KEYS


async def create(request: Request) -> Response:
    ctx = context(request)
    req = await body(request, SnapshotCreate, "snapshot")
    if req.volume_id is None:
        raise verr.VolumeNotFound(id="None")
    vol = (await svc(request).volumes.get(ctx, req.volume_id)).rows[0]
    authorize(request, "volume:create_snapshot", {"project_id": vol.project_id})
    force = req.force if isinstance(req.force, bool) else bool(query_bool(req.force))
    force = force or at_least(version(request), "3.66")
    row = await svc(request).snapshots.create(
        ctx, req.volume_id, req.name if req.name is not None else req.display_name,
        req.description if req.description is not None else req.display_description,
        req.metadata or {}, force=force,
    )  # fmt: skip
    return json_response({"snapshot": views(request, ctx).snapshot(row, extended=False)}, 202)


async def _listing(request: Request, detail: bool) -> Response:
    ctx = context(request)
    authorize(request, "volume:get_all_snapshots")
    params = dict(request.query_params)
    if "sort" in params:
        params["sort_key"] = params.pop("sort")
    if "sort_key" in params:  # Cinder's old name of a snapshot's name
        params["sort_key"] = ",".join(
            "name" + k[len("display_name") :] if k.startswith("display_name") else k
            for k in params["sort_key"].split(",")
        )
    page = parse_page_params(params, SORT_KEYS)
    offset = offset_param(params.get("offset"))
    all_projects = bool(query_bool(params.get("all_tenants", "false")))
    filters: dict[str, Any] = {k: params[k] for k in ("name", "status", "volume_id") if k in params}
    rows = await svc(request).snapshots.listing(ctx, page, all_projects, filters, offset)
    v = views(request, ctx)
    out: dict[str, Any] = {"snapshots": [v.snapshot(r, extended=detail) for r in rows]}
    coll = "snapshots/detail" if detail else "snapshots"
    links = v.collection_links(coll, rows, page.limit, dict(request.query_params))
    if links:
        out["snapshots_links"] = links
    return json_response(out)


async def index(request: Request) -> Response:
    return await _listing(request, False)


async def detail(request: Request) -> Response:
    return await _listing(request, True)


async def _owned(request: Request, rule: str) -> Any:
    ctx = context(request)
    row = await svc(request).snapshots.get(ctx, param(request, "snapshot_id"))
    authorize(request, rule, {"project_id": row.project_id})
    return ctx, row


async def show(request: Request) -> Response:
    ctx, row = await _owned(request, "volume:get_snapshot")
    return json_response({"snapshot": views(request, ctx).snapshot(row)})


async def update(request: Request) -> Response:
    ctx, row = await _owned(request, "volume:update_snapshot")
    req = await body(request, SnapshotUpdate, "snapshot")
    fields = req.model_fields_set
    changes: dict[str, Any] = {}
    if fields & {"name", "display_name"}:
        changes["name"] = req.name if "name" in fields else req.display_name
    if fields & {"description", "display_description"}:
        changes["description"] = (
            req.description if "description" in fields else req.display_description
        )
    if not changes:
        raise errors.BadRequest("Snapshot update needs a name or a description.")
    row = await svc(request).snapshots.update(ctx, row.id, changes)
    return json_response({"snapshot": views(request, ctx).snapshot(row, extended=False)})


async def delete(request: Request) -> Response:
    ctx, row = await _owned(request, "volume:delete_snapshot")
    await svc(request).snapshots.delete(ctx, row.id)
    return Response(status_code=202)


META_RULES = {"GET": "volume:get_snapshot_metadata", "POST": "volume:update_snapshot_metadata",
              "PUT": "volume:update_snapshot_metadata",
              "DELETE": "volume:delete_snapshot_metadata"}  # fmt: skip


async def metadata(request: Request) -> Response:
    ctx, row = await _owned(request, META_RULES[request.method])
    if request.method == "GET":
        return json_response({"metadata": dict(row.meta)})
    req = await body(request, MetadataBody)
    meta = dict(req.metadata) if request.method == "PUT" else {**row.meta, **req.metadata}
    await svc(request).snapshots.update(ctx, row.id, {"meta": meta})
    return json_response({"metadata": meta})


async def metadata_item(request: Request) -> Response:
    ctx, row = await _owned(request, META_RULES[request.method])
    key = param(request, "key")
    if request.method == "PUT":
        meta = (await body(request, SnapshotMetaItem, context={"key": key})).meta
        await svc(request).snapshots.update(ctx, row.id, {"meta": {**row.meta, **meta}})
        return json_response({"meta": meta})
    if key not in row.meta:
        raise errors.NotFound(f"Snapshot {row.id} has no metadata with key {key}.")
    if request.method == "DELETE":
        rest = {k: v for k, v in row.meta.items() if k != key}
        await svc(request).snapshots.update(ctx, row.id, {"meta": rest})
        return Response(status_code=200)
    return json_response({"meta": {key: row.meta[key]}})


async def action(request: Request) -> Response:
    ctx = context(request)
    req = await body(request, OneAction)
    name, args = req.name, req.args
    row = await svc(request).snapshots.get(ctx, param(request, "snapshot_id"))
    if name == "os-reset_status":
        authorize(request, "volume_extension:snapshot_admin_actions:reset_status")
        status = args.get("status") if isinstance(args, dict) else None
        if status not in ("available", "error", "creating", "deleting", "error_deleting"):
            raise errors.BadRequest(f"Invalid status: {status}")
        await svc(request).snapshots.set_state(row.id, str(status))
    elif name == "os-force_delete":
        authorize(request, "volume_extension:snapshot_admin_actions:force_delete")
        await svc(request).snapshots.delete(ctx, row.id, force=True)
    elif name == "os-update_snapshot_status":  # what a volume driver reports of a snapshot
        authorize(request, "snapshot_extension:snapshot_actions:update_snapshot_status")
        args = args if isinstance(args, dict) else {}
        status, progress = args.get("status"), args.get("progress")
        allowed = {"creating": ("available", "error"), "deleting": ("error_deleting",)}
        if status not in allowed.get(row.status, ()):
            raise errors.BadRequest(
                f"Snapshot status {row.status} not allowed to change to {status}."
            )
        await svc(request).snapshots.set_state(row.id, str(status))
        if progress is not None:
            await svc(request).snapshots.update(ctx, row.id, {"progress": str(progress)[:8]})
    else:
        raise errors.BadRequest(f"There is no such action: {name}")
    return Response(status_code=202)


routes = both(
    [
        ("/snapshots", index, ["GET"]),
        ("/snapshots", create, ["POST"]),
        ("/snapshots/detail", detail, ["GET"]),
        ("/snapshots/{snapshot_id}", show, ["GET"]),
        ("/snapshots/{snapshot_id}", update, ["PUT"]),
        ("/snapshots/{snapshot_id}", delete, ["DELETE"]),
        ("/snapshots/{snapshot_id}/metadata", metadata, ["GET", "POST", "PUT"]),
        ("/snapshots/{snapshot_id}/metadata/{key}", metadata_item, ["GET", "PUT", "DELETE"]),
        ("/snapshots/{snapshot_id}/action", action, ["POST"]),
    ]
)
