"""Nova's volume proxy (``os-volumes``, ``os-snapshots`` below microversion 2.36): the block
storage service's volumes and snapshots, as the caller sees them there (through its facade, as
the caller); 404 from 2.36 on, as Nova."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common import errors
from onestack.common.context import RequestContext
from onestack.common.http import empty, json_response
from onestack.compute.api import checks
from onestack.compute.api.helpers import at_least, authorize, param, service, valid_body
from onestack.compute.proxy_schemas import SnapshotCreate, VolumeCreate
from onestack.volume.facade import OverQuota, VolumeAPI

VOLUMES = "os-volumes"
SNAPSHOTS = "os-volumes:snapshots"


def _backend(request: Request, rule: str) -> tuple[RequestContext, VolumeAPI]:
    if at_least(request, 36):
        raise errors.NotFound("The resource could not be found.")
    ctx = authorize(request, rule)
    backend = service(request).context.volume
    if backend is None:  # no block storage in this cloud
        raise errors.NotFound("The resource could not be found.")
    return ctx, backend


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%S.%f")


def _volume(vol: dict[str, Any]) -> dict[str, Any]:
    # Nova shows one attachment (its id is the volume's), or one empty object when none.
    atts = [
        {
            "id": vol["id"],
            "volumeId": vol["id"],
            "serverId": a["server_id"],
            **({"device": a["device"]} if a["device"] else {}),
        }
        for a in vol["attachments"][:1]
    ]
    return {
        "id": vol["id"],
        "status": vol["status"],
        "size": vol["size"],
        "availabilityZone": vol["availability_zone"],
        "createdAt": _time(vol["created_at"]),
        "attachments": atts or [{}],
        "displayName": vol["name"],
        "displayDescription": vol["description"],
        "volumeType": vol["volume_type"],
        "snapshotId": vol["snapshot_id"],
        "metadata": vol["metadata"],
    }


def _snapshot(snap: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": snap["id"],
        "volumeId": snap["volume_id"],
        "status": snap["status"],
        "size": snap["size"],
        "createdAt": _time(snap["created_at"]),
        "displayName": snap["name"],
        "displayDescription": snap["description"],
    }


def _page(request: Request) -> tuple[int | None, int]:
    q = request.query_params
    limit = checks.query_int(q["limit"], "limit") if "limit" in q else None
    offset = checks.query_int(q["offset"], "offset") if "offset" in q else 0
    return limit, offset


# --- os-volumes --------------------------------------------------------------------------------
async def _list(request: Request, rule: str) -> Response:
    ctx, backend = _backend(request, f"{VOLUMES}:{rule}")
    limit, offset = _page(request)
    rows = await backend.volumes(ctx, limit=limit, offset=offset)
    return json_response({"volumes": [_volume(v) for v in rows]})


async def list_volumes(request: Request) -> Response:
    return await _list(request, "list")


async def list_volumes_detail(request: Request) -> Response:
    return await _list(request, "detail")


async def show_volume(request: Request) -> Response:
    ctx, backend = _backend(request, f"{VOLUMES}:show")
    return json_response({"volume": _volume(await backend.get(ctx, param(request, "volume_id")))})


async def create_volume(request: Request) -> Response:
    ctx, backend = _backend(request, f"{VOLUMES}:create")
    body = await valid_body(request, VolumeCreate)
    try:
        volume_id = await backend.create(
            ctx,
            size=body.size,
            name=body.display_name,
            description=body.display_description,
            volume_type=body.volume_type,
            snapshot_id=body.snapshot_id,
            availability_zone=body.availability_zone,
            metadata=body.metadata,
        )
    except OverQuota as exc:  # Nova's OverQuota is a 403
        raise errors.Forbidden(exc.message) from None
    return json_response({"volume": _volume(await backend.get(ctx, volume_id))})


async def delete_volume(request: Request) -> Response:
    ctx, backend = _backend(request, f"{VOLUMES}:delete")
    await backend.delete_as(ctx, param(request, "volume_id"))
    return empty(202)


# --- os-snapshots ------------------------------------------------------------------------------
async def _list_snapshots(request: Request, rule: str) -> Response:
    ctx, backend = _backend(request, f"{SNAPSHOTS}:{rule}")
    limit, offset = _page(request)
    rows = await backend.snapshots(ctx, limit=limit, offset=offset)
    return json_response({"snapshots": [_snapshot(s) for s in rows]})


async def list_snapshots(request: Request) -> Response:
    return await _list_snapshots(request, "list")


async def list_snapshots_detail(request: Request) -> Response:
    return await _list_snapshots(request, "detail")


async def show_snapshot(request: Request) -> Response:
    ctx, backend = _backend(request, f"{SNAPSHOTS}:show")
    snap = await backend.snapshot(ctx, param(request, "snapshot_id"))
    return json_response({"snapshot": _snapshot(snap)})


async def create_snapshot(request: Request) -> Response:
    ctx, backend = _backend(request, f"{SNAPSHOTS}:create")
    body = await valid_body(request, SnapshotCreate)
    try:
        snap = await backend.create_snapshot(
            ctx,
            body.volume_id or "",
            name=body.display_name,
            description=body.display_description,
            force=body.force,
        )
    except OverQuota as exc:
        raise errors.Forbidden(exc.message) from None
    return json_response({"snapshot": _snapshot(snap)})


async def delete_snapshot(request: Request) -> Response:
    ctx, backend = _backend(request, f"{SNAPSHOTS}:delete")
    await backend.delete_snapshot_as(ctx, param(request, "snapshot_id"))
    return empty(202)


routes = [
    Route("/os-volumes", list_volumes, methods=["GET"]),
    Route("/os-volumes", create_volume, methods=["POST"]),
    Route("/os-volumes/detail", list_volumes_detail, methods=["GET"]),
    Route("/os-volumes/{volume_id}", show_volume, methods=["GET"]),
    Route("/os-volumes/{volume_id}", delete_volume, methods=["DELETE"]),
    Route("/os-snapshots", list_snapshots, methods=["GET"]),
    Route("/os-snapshots", create_snapshot, methods=["POST"]),
    Route("/os-snapshots/detail", list_snapshots_detail, methods=["GET"]),
    Route("/os-snapshots/{snapshot_id}", show_snapshot, methods=["GET"]),
    Route("/os-snapshots/{snapshot_id}", delete_snapshot, methods=["DELETE"]),
]
