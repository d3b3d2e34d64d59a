"""``os-volume_attachments``: a server's volumes (its block device mappings)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common import errors
from onestack.common.http import empty, json_response
from onestack.compute import models, schemas
from onestack.compute.api import checks
from onestack.compute.api.helpers import at_least, param, service, valid_body, versioned
from onestack.compute.api.server_lookup import server_row
from onestack.compute.service.volumes import bdm_uuid


def view(request: Request, att: models.VolumeAttachment, *, detail: bool = True) -> dict[str, Any]:
    """Nova's attachment: ``detail`` for list and show (2.89 swaps ``id`` for
    ``attachment_id``/``bdm_uuid`` there, not in the attach response)."""
    out: dict[str, Any] = {}
    if not (detail and at_least(request, 89)):
        out["id"] = att.volume_id
    out["serverId"] = att.instance_uuid
    out["volumeId"] = att.volume_id
    if att.device_name:
        out["device"] = att.device_name
    if at_least(request, 70):
        out["tag"] = att.tag
    if at_least(request, 79):
        out["delete_on_termination"] = bool(att.delete_on_termination)
    if detail and at_least(request, 89):
        out["attachment_id"] = att.id
        out["bdm_uuid"] = bdm_uuid(att.id)
    return out


async def index(request: Request) -> Response:
    ctx, row = await server_row(request, "os-volumes-attachments:index")
    items = await service(request).volumes.listing(ctx, row.uuid)
    q = request.query_params
    offset = checks.query_int(q["offset"], "offset") if "offset" in q else 0
    limit = checks.query_int(q["limit"], "limit") if "limit" in q else None
    items = items[offset:] if limit is None else items[offset : offset + limit]
    return json_response({"volumeAttachments": [view(request, a) for a in items]})


async def show(request: Request) -> Response:
    ctx, row = await server_row(request, "os-volumes-attachments:show")
    att = await service(request).volumes.get(ctx, row.uuid, param(request, "volume_id"))
    return json_response({"volumeAttachment": view(request, att)})


async def create(request: Request) -> Response:
    ctx, row = await server_row(request, "os-volumes-attachments:create")
    model = versioned(
        request,
        (79, schemas.VolumeAttachmentCreateV279),
        (49, schemas.VolumeAttachmentCreateV249),
        (0, schemas.VolumeAttachmentCreate),
    )
    body = await valid_body(request, model)
    att = await service(request).volumes.attach(
        ctx,
        row.uuid,
        body.volume_id,
        device=body.device,
        tag=body.tag,
        delete_on_termination=body.delete_on_termination,
    )
    return json_response({"volumeAttachment": view(request, att, detail=False)})


async def update(request: Request) -> Response:
    """Nova's update (2.85: ``delete_on_termination``; the rest of the attachment as shown
    may come back unchanged) and swap (a new ``volumeId``; before 2.85 every PUT). A swap
    would copy the guest's disk onto another volume while it runs: refused, never faked."""
    model = versioned(
        request, (85, schemas.VolumeAttachmentUpdateV285), (0, schemas.VolumeAttachmentSwap)
    )
    body = await valid_body(request, model)
    volume_id = param(request, "volume_id")
    swap = not at_least(request, 85) or body.volume_id != volume_id
    rule = "os-volumes-attachments:swap" if swap else "os-volumes-attachments:update"
    ctx, row = await server_row(request, rule)
    volumes = service(request).volumes
    att = await volumes.get(ctx, row.uuid, volume_id)  # 404 first
    delete_on_termination = None
    if isinstance(body, schemas.VolumeAttachmentUpdateV285):
        delete_on_termination = body.delete_on_termination
        given = body.model_fields_set
        shown = {"id": (body.id, volume_id), "server_id": (body.server_id, row.uuid),
                 "device": (body.device, att.device_name), "tag": (body.tag, att.tag)}  # fmt: skip
        for field, (asked, held) in shown.items():
            if field in given and asked != held:
                name = "serverId" if field == "server_id" else field
                raise errors.BadRequest(f"The {name} property is not mutable")
    if swap:
        raise errors.BadRequest("Swapping a volume attachment is not supported by this cloud.")
    if delete_on_termination is not None:
        await volumes.set_delete_on_termination(ctx, row.uuid, volume_id, delete_on_termination)
    return empty(202)


async def delete(request: Request) -> Response:
    ctx, row = await server_row(request, "os-volumes-attachments:delete")
    await service(request).volumes.detach(ctx, row.uuid, param(request, "volume_id"))
    return empty(202)


routes = [
    Route("/servers/{server_id}/os-volume_attachments", index, methods=["GET"]),
    Route("/servers/{server_id}/os-volume_attachments", create, methods=["POST"]),
    Route("/servers/{server_id}/os-volume_attachments/{volume_id}", show, methods=["GET"]),
    Route("/servers/{server_id}/os-volume_attachments/{volume_id}", update, methods=["PUT"]),
    Route("/servers/{server_id}/os-volume_attachments/{volume_id}", delete, methods=["DELETE"]),
]
