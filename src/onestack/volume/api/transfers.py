"""Volume transfers: ``/os-volume-transfer`` and, from 3.55, ``/volume-transfers``."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from onestack.common import errors
from onestack.common.api import authorize, param
from onestack.common.http import json_response, query_bool, read_json
from onestack.volume.api.helpers import both, context, svc, version, views
from onestack.volume.microversions import at_least
from onestack.volume.models import Transfer
from onestack.volume.views import Views, iso


def render(v: Views, t: Transfer, *, detail: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": t.id,
        "name": t.name,
        "volume_id": t.volume_id,
        "links": v.links("os-volume-transfer", t.id),
    }
    if detail:
        body["created_at"] = iso(t.created_at)
        if v.version >= v.version.parse("3.57"):
            body["source_project_id"] = t.source_project_id
            body["destination_project_id"] = t.destination_project_id
            body["accepted"] = t.accepted
    return body


async def create(request: Request) -> Response:
    ctx = context(request)
    data = await read_json(request)
    raw = data.get("transfer") if isinstance(data, dict) else None
    if not isinstance(raw, dict) or not isinstance(raw.get("volume_id"), str):
        raise errors.ValidationError(field="volume_id", reason="'volume_id' is required")
    vol = (await svc(request).volumes.get(ctx, raw["volume_id"])).rows[0]
    authorize(request, "volume:create_transfer", {"project_id": vol.project_id})
    no_snapshots = bool(raw.get("no_snapshots", False)) and at_least(version(request), "3.55")
    name = raw.get("name")
    row, key = await svc(request).transfers.create(
        ctx, vol.id, name if isinstance(name, str) else None, no_snapshots
    )
    v = views(request, ctx)
    body = render(v, row, detail=False)
    body.update(created_at=iso(row.created_at), auth_key=key)
    return json_response({"transfer": body}, 202)


async def _listing(request: Request, detail: bool) -> Response:
    ctx = context(request)
    authorize(request, "volume:get_all_transfers")
    all_projects = bool(query_bool(request.query_params.get("all_tenants", "false")))
    rows = await svc(request).transfers.listing(ctx, all_projects)
    v = views(request, ctx)
    return json_response({"transfers": [render(v, t, detail=detail) for t in rows]})


async def index(request: Request) -> Response:
    return await _listing(request, False)


async def detail(request: Request) -> Response:
    return await _listing(request, True)


async def show(request: Request) -> Response:
    ctx = context(request)
    row = await svc(request).transfers.get(ctx, param(request, "transfer_id"))
    authorize(request, "volume:get_transfer", {"project_id": row.source_project_id})
    return json_response({"transfer": render(views(request, ctx), row, detail=True)})


async def delete(request: Request) -> Response:
    ctx = context(request)
    row = await svc(request).transfers.get(ctx, param(request, "transfer_id"))
    authorize(request, "volume:delete_transfer", {"project_id": row.source_project_id})
    await svc(request).transfers.delete(ctx, row.id)
    return Response(status_code=202)


async def accept(request: Request) -> Response:
    ctx = context(request)
    authorize(request, "volume:accept_transfer")
    data = await read_json(request)
    raw = data.get("accept") if isinstance(data, dict) else None
    key = raw.get("auth_key") if isinstance(raw, dict) else None
    if not isinstance(key, str):
        raise errors.ValidationError(field="auth_key", reason="'auth_key' is required")
    row = await svc(request).transfers.accept(ctx, param(request, "transfer_id"), key)
    return json_response({"transfer": render(views(request, ctx), row, detail=False)}, 202)


_paths = [
    ("", index, ["GET"]),
    ("", create, ["POST"]),
    ("/detail", detail, ["GET"]),
    ("/{transfer_id}", show, ["GET"]),
    ("/{transfer_id}", delete, ["DELETE"]),
    ("/{transfer_id}/accept", accept, ["POST"]),
]
routes = both([(f"/os-volume-transfer{p}", fn, m) for p, fn, m in _paths])
routes += both([(f"/volume-transfers{p}", fn, m) for p, fn, m in _paths])
