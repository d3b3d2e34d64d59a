"""``/attachments`` (3.27): the v3 attachment API that Nova uses to attach volumes."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from onestack.common import errors
from onestack.common.api import authorize, body, param
from onestack.common.http import json_response
from onestack.volume.api.helpers import both, context, require_version, svc, version
from onestack.volume.microversions import at_least
from onestack.volume.models import Attachment, Volume
from onestack.volume.schemas import AttachmentComplete, AttachmentCreate, AttachmentUpdate
from onestack.volume.views import iso


def connection_info(row: Volume, att: Attachment) -> dict[str, Any]:
    if att.connector is None:
        return {}
    return {
        "driver_volume_type": "file",
        "data": {
            "device_path": row.provider_location,
            "format": row.disk_format or "raw",
            "volume_id": row.id,
            "access_mode": att.attach_mode,
        },
        "attachment_id": att.id,
    }


def render(att: Attachment, row: Volume | None, *, detail: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": att.id,
        "status": att.attach_status,
        "instance": att.instance_uuid,
        "volume_id": att.volume_id,
    }
    if detail:
        body.update(
            attached_at=iso(att.attach_time), detached_at=None, attach_mode=att.attach_mode,
            connection_info=connection_info(row, att) if row is not None else {},
        )  # fmt: skip
    return body


async def create(request: Request) -> Response:
    require_version(request, "3.27")
    ctx = context(request)
    req = await body(request, AttachmentCreate)
    vol = (await svc(request).volumes.get(ctx, req.volume_id)).rows[0]
    authorize(request, "volume:attachment_create", {"project_id": vol.project_id})
    mode = req.mode if at_least(version(request), "3.54") else "rw"
    if mode not in ("rw", "ro"):
        raise errors.BadRequest("Invalid attachment mode: must be 'rw' or 'ro'.")
    att, row = await svc(request).attachments_api.create(
        ctx, vol.id, req.instance_uuid, req.connector, mode
    )
    return json_response({"attachment": render(att, row, detail=True)})


async def _listing(request: Request, detail: bool) -> Response:
    require_version(request, "3.27")
    ctx = context(request)
    filters = {k: request.query_params[k] for k in ("volume_id", "instance_id", "status")
               if k in request.query_params}  # fmt: skip
    rows = await svc(request).attachments_api.listing(ctx, filters)
    return json_response({"attachments": [render(a, None, detail=detail) for a in rows]})


async def index(request: Request) -> Response:
    return await _listing(request, False)


async def detail(request: Request) -> Response:
    return await _listing(request, True)


async def show(request: Request) -> Response:
    require_version(request, "3.27")
    ctx = context(request)
    att, row = await svc(request).attachments_api.get(ctx, param(request, "attachment_id"))
    return json_response({"attachment": render(att, row, detail=True)})


async def update(request: Request) -> Response:
    require_version(request, "3.27")
    ctx = context(request)
    att, row = await svc(request).attachments_api.get(ctx, param(request, "attachment_id"))
    authorize(request, "volume:attachment_update", {"project_id": row.project_id})
    req = await body(request, AttachmentUpdate)
    att, row = await svc(request).attachments_api.update(ctx, att.id, req.connector)
    return json_response({"attachment": render(att, row, detail=True)})


async def delete(request: Request) -> Response:
    require_version(request, "3.27")
    ctx = context(request)
    att, row = await svc(request).attachments_api.get(ctx, param(request, "attachment_id"))
    authorize(request, "volume:attachment_delete", {"project_id": row.project_id})
    volume_id = await svc(request).attachments_api.delete(ctx, att.id)
    left = await svc(request).attachments_api.listing(ctx, {"volume_id": volume_id})
    return json_response({"attachments": [render(a, None, detail=False) for a in left]})


async def action(request: Request) -> Response:
    require_version(request, "3.44")
    ctx = context(request)
    att, row = await svc(request).attachments_api.get(ctx, param(request, "attachment_id"))
    authorize(request, "volume:attachment_complete", {"project_id": row.project_id})
    await body(request, AttachmentComplete)
    await svc(request).attachments_api.complete(ctx, att.id)
    return Response(status_code=204)


routes = both(
    [
        ("/attachments", index, ["GET"]),
        ("/attachments", create, ["POST"]),
        ("/attachments/detail", detail, ["GET"]),
        ("/attachments/{attachment_id}", show, ["GET"]),
        ("/attachments/{attachment_id}", update, ["PUT"]),
        ("/attachments/{attachment_id}", delete, ["DELETE"]),
        ("/attachments/{attachment_id}/action", action, ["POST"]),
    ]
)
