"""Volume transfers: ``/os-volume-transfer`` and, from 3.55, ``/volume-transfers``."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from onestack.common.api import authorize, body, param
from onestack.common.http import json_response, query_bool
from onestack.volume.api.helpers import both, context, svc, version, views
from onestack.volume.microversions import at_least
from onestack.volume.models import Transfer
from onestack.volume.schemas import TransferAccept, TransferCreate
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
    req = await body(request, TransferCreate)
    vol = (await svc(request).volumes.get(ctx, req.volume_id)).rows[0]
    authorize(request, "volume:create_transfer", {"project_id": vol.project_id})
    no_snapshots = req.no_snapshots and at_least(version(request), "3.55")
    row, key = await svc(request).transfers.create(ctx, vol.id, req.name, no_snapshots)
    v = views(request, ctx)
    out = render(v, row, detail=False)
    out.update(created_at=iso(row.created_at), auth_key=key)
    return json_response({"transfer": out}, 202)


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
    req = await body(request, TransferAccept)
    row = await svc(request).transfers.accept(ctx, param(request, "transfer_id"), req.auth_key)
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
