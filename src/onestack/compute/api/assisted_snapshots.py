"""``os-assisted-volume-snapshots``: the block storage service asks compute to take (or merge
away) a snapshot of a volume a server has attached, Nova's hypervisor-assisted snapshots of
file-backed volumes. Compute answers at once, as Nova does (its hypervisor works after the
answer); the work is ``service.volume_snapshots.assisted_snapshot``."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common import errors
from onestack.common.http import empty, json_response
from onestack.compute.api.helpers import authorize, body_of, param, service
from onestack.compute.service.volume_snapshots import assisted_snapshot

CREATE_INFO = {"snapshot_id", "type", "new_file", "id"}


def _text(holder: dict[str, Any], key: str) -> str:
    value = holder.get(key)
    if not isinstance(value, str) or not value:
        raise errors.BadRequest(f"Invalid input for field/attribute {key}. Value: {value}.")
    return value


async def create(request: Request) -> Response:
    authorize(request, "os-assisted-volume-snapshots:create", {})
    snap = await body_of(request, "snapshot")
    if not isinstance(snap, dict) or set(snap) - {"volume_id", "create_info"}:
        raise errors.BadRequest("Invalid input for field/attribute snapshot.")
    volume_id = _text(snap, "volume_id")
    info = snap.get("create_info")
    if not isinstance(info, dict) or set(info) - CREATE_INFO:
        raise errors.BadRequest("Invalid input for field/attribute create_info.")
    snapshot_id = _text(info, "snapshot_id")
    _text(info, "new_file")
    if info.get("type", "") != "qcow2":
        raise errors.BadRequest(
            f"Invalid input for field/attribute type. Value: {info.get('type')}."
        )
    await assisted_snapshot(service(request).context, volume_id, snapshot_id)
    # Nova echoes create_info's optional ``id``, null without one.
    answer = {"id": _text(info, "id") if "id" in info else None, "volumeId": volume_id}
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
