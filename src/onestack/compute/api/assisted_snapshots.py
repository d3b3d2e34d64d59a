"""``os-assisted-volume-snapshots``: the block storage service asks compute to take (or merge
away) a snapshot of a volume a server has attached, Nova's hypervisor-assisted snapshots of
file-backed volumes. Compute answers at once, as Nova does (its hypervisor works after the
answer); the work is ``service.volume_snapshots.assisted_snapshot``."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common import errors
from onestack.common.http import empty, json_response
from onestack.compute.api.helpers import authorize, param, service, valid_body
from onestack.compute.callback_schemas import AssistedSnapshotCreate, text
from onestack.compute.service.volume_snapshots import assisted_snapshot


async def create(request: Request) -> Response:
    authorize(request, "os-assisted-volume-snapshots:create", {})
    body = await valid_body(request, AssistedSnapshotCreate)
    volume_id, info = body.volume_id, body.create_info
    await assisted_snapshot(service(request).context, volume_id, info["snapshot_id"])
    # Nova echoes create_info's optional ``id``, null without one.
    answer = {"id": text(info, "id") if "id" in info else None, "volumeId": volume_id}
    return json_response({"snapshot": answer})


async def delete(request: Request) -> Response:
    authorize(request, "os-assisted-volume-snapshots:delete", {})
    raw = request.query_params.get("delete_info")
    try:
        volume_id = json.loads(raw or "")["volume_id"]
    except (ValueError, KeyError, TypeError) as e:
        raise errors.BadRequest(f"Invalid delete_info: {e}") from None
    if not isinstance(volume_id, str):
        raise errors.BadRequest("Invalid delete_info: volume_id")
    await assisted_snapshot(
        service(request).context, volume_id, param(request, "snapshot_id"), deleting=True
    )
    return empty(204)


routes = [
    Route("/os-assisted-volume-snapshots", create, methods=["POST"]),
    Route("/os-assisted-volume-snapshots/{snapshot_id}", delete, methods=["DELETE"]),
]
