"""``/volumes``: create, list (summary and detail), show, update, delete, metadata."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from onestack.common import errors
from onestack.common.api import authorize, body, param
from onestack.common.http import json_response, query_bool
from onestack.common.pagination import parse_page_params
from onestack.volume.api.helpers import (
    both,
    context,
    dict_param,
    offset_param,
    require_version,
    svc,
    version,
    views,
)
from onestack.volume.microversions import at_least
from onestack.volume.schemas import MetadataBody, MetaItem, VolumeCreate, VolumeUpdate
from onestack.volume.service.volumes import SORT_KEYS, CreateRequest, ListQuery

FILTERS = ("name", "status", "availability_zone", "bootable", "user_id", "volume_type_id")


async def create(request: Request) -> Response:
    ctx = context(request)
    authorize(request, "volume:create")
    req = await body(request, VolumeCreate, "volume")
    if req.imageRef is not None:
        authorize(request, "volume:create_from_image")
    if req.group_id or req.consistencygroup_id:
        raise errors.BadRequest("Creating volumes in groups is not supported.")
    if req.backup_id is not None:
        return await _from_backup(request, ctx, req)
    snapshot_id = req.snapshot_id
    if snapshot_id is None and req.imageRef is not None and at_least(version(request), "3.46"):
        snapshot_id = await svc(request).volumes.image_snapshot(ctx, req.imageRef)
    loaded = await svc(request).volumes.create(
        ctx,
        CreateRequest(
            size=req.size,
            name=req.name if req.name is not None else req.display_name,
            description=req.description if req.description is not None else req.display_description,
            volume_type=req.volume_type,
            availability_zone=req.availability_zone,
            metadata=req.metadata or {},
            snapshot_id=snapshot_id,
            source_volid=req.source_volid,
            image_id=req.imageRef,
            multiattach=bool(req.multiattach),
        ),
    )
    row = loaded.rows[0]
    return json_response({"volume": views(request, ctx).volume(row, loaded, extended=False)}, 202)


async def _from_backup(request: Request, ctx: Any, req: VolumeCreate) -> Response:
    """3.47: a new volume with a backup's data (restored into it by the host's agent)."""
    if not at_least(version(request), "3.47"):
        raise errors.BadRequest("backup_id needs microversion 3.47.")
    backup = await svc(request).backups.get(ctx, str(req.backup_id))
    size = max(req.size or 0, backup.size)
    name = req.name if req.name is not None else req.display_name
    made = await svc(request).volumes.create(
        ctx,
        CreateRequest(size=size, name=name, volume_type=req.volume_type,
                      availability_zone=req.availability_zone, metadata=req.metadata or {}),
        for_restore=True,
    )  # fmt: skip
    await svc(request).backups.restore(ctx, backup.id, made.rows[0].id, None)
    loaded = await svc(request).volumes.get(ctx, made.rows[0].id)
    body = views(request, ctx).volume(loaded.rows[0], loaded, extended=False)
    return json_response({"volume": body}, 202)


def list_query(request: Request, admin: bool) -> ListQuery:
    q = request.query_params
    params = dict(q)
    if "sort" in params:  # sort=key:dir,key2 (the sort_key form also takes key:dir)
        params["sort_key"] = params.pop("sort")
    page = parse_page_params(params, SORT_KEYS)
    filters: dict[str, Any] = {}
    for name in FILTERS:
        if name in q:
            value: Any = q[name]
            if name == "bootable":
                value = bool(query_bool(value))
            filters[name] = value
    all_projects = bool(query_bool(q.get("all_tenants"))) if "all_tenants" in q else False
    offset = offset_param(q.get("offset"))
    with_count = bool(query_bool(q.get("with_count"))) if "with_count" in q else False
    if with_count and not at_least(version(request), "3.45"):
        with_count = False
    return ListQuery(
        page=page,
        all_projects=all_projects and admin,
        project_id=q.get("project_id") if admin else None,
        filters=filters,
        metadata=dict_param(q.get("metadata"), "metadata"),
        with_count=with_count,
        offset=offset,
    )


async def _listing(request: Request, detail: bool) -> Response:
    ctx = context(request)
    authorize(request, "volume:get_all")
    query = list_query(request, ctx.is_admin)
    loaded = await svc(request).volumes.listing(ctx, query)
    v = views(request, ctx)
    items = [v.volume(r, loaded) if detail else v.volume_summary(r) for r in loaded.rows]
    out: dict[str, Any] = {"volumes": items}
    collection = "volumes/detail" if detail else "volumes"
    links = v.collection_links(
        collection, loaded.rows, query.page.limit, dict(request.query_params)
    )
    if links:
        out["volumes_links"] = links
    if loaded.count is not None:
        out["count"] = loaded.count
    return json_response(out)


async def index(request: Request) -> Response:
    return await _listing(request, False)


async def detail(request: Request) -> Response:
    return await _listing(request, True)


async def summary(request: Request) -> Response:
    require_version(request, "3.12")
    ctx = context(request)
    authorize(request, "volume:get_all")
    all_projects = bool(query_bool(request.query_params.get("all_tenants"))) and ctx.is_admin
    count, size, meta = await svc(request).volumes.summary(ctx, all_projects)
    out: dict[str, Any] = {"total_count": count, "total_size": size}
    if at_least(version(request), "3.36"):
        out["metadata"] = meta
    return json_response({"volume-summary": out})


async def show(request: Request) -> Response:
    ctx = context(request)
    loaded = await svc(request).volumes.get(ctx, param(request, "volume_id"))
    row = loaded.rows[0]
    authorize(request, "volume:get", {"project_id": row.project_id})
    return json_response({"volume": views(request, ctx).volume(row, loaded)})


async def update(request: Request) -> Response:
    ctx = context(request)
    volume_id = param(request, "volume_id")
    current = (await svc(request).volumes.get(ctx, volume_id)).rows[0]
    authorize(request, "volume:update", {"project_id": current.project_id})
    req = await body(request, VolumeUpdate, "volume")
    changes: dict[str, Any] = {}
    fields = req.model_fields_set
    if "name" in fields or "display_name" in fields:
        changes["name"] = req.name if "name" in fields else req.display_name
    if "description" in fields or "display_description" in fields:
        changes["description"] = (
            req.description if "description" in fields else req.display_description
        )
    if req.metadata is not None:
        changes["meta"] = dict(req.metadata)
    if not changes:
        raise errors.BadRequest("Missing required element 'volume' in request body.")
    loaded = await svc(request).volumes.update(ctx, volume_id, changes)
    row = loaded.rows[0]
    return json_response({"volume": views(request, ctx).volume(row, loaded, extended=False)})


async def delete(request: Request) -> Response:
    ctx = context(request)
    volume_id = param(request, "volume_id")
    q = request.query_params
    force = bool(query_bool(q.get("force"))) if "force" in q else False
    cascade = bool(query_bool(q.get("cascade"))) if "cascade" in q else False

    def allowed(row: Any) -> None:
        authorize(request, "volume:delete", {"project_id": row.project_id})
        if force:
            authorize(request, "volume:force_delete", {"project_id": row.project_id})

    await svc(request).volumes.delete(ctx, volume_id, force=force, cascade=cascade, check=allowed)
    return Response(status_code=202)


# --- metadata ----------------------------------------------------------------------------


async def _owner(request: Request, rule: str) -> tuple[Any, str]:
    ctx = context(request)
    volume_id = param(request, "volume_id")
    row = (await svc(request).volumes.get(ctx, volume_id)).rows[0]
    authorize(request, rule, {"project_id": row.project_id})
    return ctx, volume_id


async def metadata_show(request: Request) -> Response:
    ctx, volume_id = await _owner(request, "volume:get_volume_metadata")
    return json_response({"metadata": await svc(request).volumes.metadata(ctx, volume_id)})


async def metadata_create(request: Request) -> Response:
    ctx, volume_id = await _owner(request, "volume:create_volume_metadata")
    req = await body(request, MetadataBody)
    meta = await svc(request).volumes.set_metadata(ctx, volume_id, req.metadata, replace=False)
    return json_response({"metadata": meta})


async def metadata_replace(request: Request) -> Response:
    ctx, volume_id = await _owner(request, "volume:update_volume_metadata")
    req = await body(request, MetadataBody)
    meta = await svc(request).volumes.set_metadata(ctx, volume_id, req.metadata, replace=True)
    return json_response({"metadata": meta})


async def metadata_item(request: Request) -> Response:
    ctx, volume_id = await _owner(request, "volume:get_volume_metadata")
    key = param(request, "key")
    meta = await svc(request).volumes.metadata(ctx, volume_id)
    if key not in meta:
        raise errors.NotFound(f"Volume {volume_id} has no metadata with key {key}.")
    return json_response({"meta": {key: meta[key]}})


async def metadata_item_set(request: Request) -> Response:
    ctx, volume_id = await _owner(request, "volume:update_volume_metadata")
    key = param(request, "key")
    req = await body(request, MetaItem, context={"key": key})
    await svc(request).volumes.set_metadata(ctx, volume_id, req.meta, replace=False)
    return json_response({"meta": req.meta})


async def metadata_item_delete(request: Request) -> Response:
    ctx, volume_id = await _owner(request, "volume:delete_volume_metadata")
    await svc(request).volumes.delete_metadata(ctx, volume_id, param(request, "key"))
    return Response(status_code=200)


routes = both(
    [
        ("/volumes", index, ["GET"]),
        ("/volumes", create, ["POST"]),
        ("/volumes/detail", detail, ["GET"]),
        ("/volumes/summary", summary, ["GET"]),
        ("/volumes/{volume_id}", show, ["GET"]),
        ("/volumes/{volume_id}", update, ["PUT"]),
        ("/volumes/{volume_id}", delete, ["DELETE"]),
        ("/volumes/{volume_id}/metadata", metadata_show, ["GET"]),
        ("/volumes/{volume_id}/metadata", metadata_create, ["POST"]),
        ("/volumes/{volume_id}/metadata", metadata_replace, ["PUT"]),
        ("/volumes/{volume_id}/metadata/{key}", metadata_item, ["GET"]),
        ("/volumes/{volume_id}/metadata/{key}", metadata_item_set, ["PUT"]),
        ("/volumes/{volume_id}/metadata/{key}", metadata_item_delete, ["DELETE"]),
    ]
)
