"""``os-volume_attachments``: a server's volumes (its block device mappings)."""

from __future__ import annotations

import uuid as uuidlib
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common import errors
from onestack.common.http import empty, json_response
from onestack.compute import models as m
from onestack.compute.api import checks
from onestack.compute.api.checks import invalid
from onestack.compute.api.helpers import at_least, body_of, param, service
from onestack.compute.api.server_lookup import server_row
from onestack.compute.service.volumes import bdm_uuid

CREATE_KEYS = {"volumeId", "device"}


def view(request: Request, att: m.VolumeAttachment, *, detail: bool = True) -> dict[str, Any]:
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
    body = await body_of(request, "volumeAttachment")
    if not isinstance(body, dict):
        raise invalid("volumeAttachment", f"{body!r} is not of type 'object'")
    allowed = set(CREATE_KEYS)
    if at_least(request, 49):
        allowed.add("tag")
    if at_least(request, 79):
        allowed.add("delete_on_termination")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise invalid(
            "volumeAttachment",
            f"Additional properties are not allowed ({unknown[0]!r} was unexpected)",
        )
    if "volumeId" not in body:
        raise invalid("volumeId", "'volumeId' is a required property")
    try:
        volume_id = str(uuidlib.UUID(str(body["volumeId"])))
    except ValueError:
        raise invalid("volumeId", f"{body['volumeId']!r} is not a 'uuid'") from None
    device = body.get("device")
    if device is not None and (not isinstance(device, str) or not device.startswith("/dev/")):
        raise invalid(
            "device",
            f"{device!r} does not match '(^/dev/x{{0,1}}[a-z]{{0,1}}d{{0,1}})([a-z]+)[0-9]*$'",
        )
    tag = body.get("tag")
    if tag is not None and (not isinstance(tag, str) or not 1 <= len(tag) <= 60 or "/" in tag):
        raise invalid("tag", f"{tag!r} is not a valid tag")
    dot = body.get("delete_on_termination", False)
    if not isinstance(dot, bool):
        raise invalid("delete_on_termination", f"{dot!r} is not of type 'boolean'")
    att = await service(request).volumes.attach(
        ctx, row.uuid, volume_id, device=device, tag=tag, delete_on_termination=dot
    )
    return json_response({"volumeAttachment": view(request, att, detail=False)})


async def update(request: Request) -> Response:
    await server_row(request, "os-volumes-attachments:update")
    raise errors.BadRequest(
        "Updating or swapping a volume attachment is not supported by this cloud."
    )


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
