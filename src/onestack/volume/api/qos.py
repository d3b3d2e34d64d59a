"""``/qos-specs``: QoS specs and their associations with volume types (admins)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from onestack.common import errors
from onestack.common.api import authorize, body, param
from onestack.common.http import json_response, query_bool
from onestack.volume.api.helpers import both, context, svc, views
from onestack.volume.models import QosSpecs
from onestack.volume.schemas import QosCreate, QosKeys, QosUpdate

P = "volume_extension:qos_specs_manage"


def render(q: QosSpecs) -> dict[str, Any]:
    return {"id": q.id, "name": q.name, "consumer": q.consumer, "specs": dict(q.specs)}


async def create(request: Request) -> Response:
    ctx = context(request)
    authorize(request, f"{P}:create")
    req = await body(request, QosCreate)
    row = await svc(request).qos.create(req.name, req.consumer, req.specs)
    links = views(request, ctx).links("qos-specs", row.id)
    return json_response({"qos_specs": render(row), "links": links})


async def index(request: Request) -> Response:
    context(request)
    authorize(request, f"{P}:get_all")
    return json_response({"qos_specs": [render(q) for q in await svc(request).qos.listing()]})


async def show(request: Request) -> Response:
    ctx = context(request)
    authorize(request, f"{P}:get")
    row = await svc(request).qos.get(param(request, "qos_id"))
    return json_response(
        {"qos_specs": render(row), "links": views(request, ctx).links("qos-specs", row.id)}
    )


async def update(request: Request) -> Response:
    context(request)
    authorize(request, f"{P}:update")
    req = await body(request, QosUpdate)
    await svc(request).qos.update(param(request, "qos_id"), dict(req.specs))
    return json_response({"qos_specs": req.specs})


async def delete(request: Request) -> Response:
    context(request)
    authorize(request, f"{P}:delete")
    force = bool(query_bool(request.query_params.get("force", "false")))
    await svc(request).qos.delete(param(request, "qos_id"), force)
    return Response(status_code=202)


async def delete_keys(request: Request) -> Response:
    context(request)
    authorize(request, f"{P}:update")
    req = await body(request, QosKeys)
    await svc(request).qos.delete_keys(param(request, "qos_id"), req.keys)
    return Response(status_code=202)


async def associations(request: Request) -> Response:
    context(request)
    authorize(request, f"{P}:get")
    types = await svc(request).qos.types_of(param(request, "qos_id"))
    items = [{"association_type": "volume_type", "name": t.name, "id": t.id} for t in types]
    return json_response({"qos_associations": items})


async def _associate(request: Request, on: bool) -> Response:
    context(request)
    authorize(request, f"{P}:update")
    type_id = request.query_params.get("vol_type_id")
    if not type_id:
        raise errors.BadRequest("Missing required parameter vol_type_id.")
    await svc(request).qos.associate(param(request, "qos_id"), type_id, on)
    return Response(status_code=202)


async def associate(request: Request) -> Response:
    return await _associate(request, True)


async def disassociate(request: Request) -> Response:
    return await _associate(request, False)


async def disassociate_all(request: Request) -> Response:
    context(request)
    authorize(request, f"{P}:update")
    await svc(request).qos.disassociate_all(param(request, "qos_id"))
    return Response(status_code=202)


routes = both(
    [
        ("/qos-specs", index, ["GET"]),
        ("/qos-specs", create, ["POST"]),
        ("/qos-specs/{qos_id}", show, ["GET"]),
        ("/qos-specs/{qos_id}", update, ["PUT"]),
        ("/qos-specs/{qos_id}", delete, ["DELETE"]),
        ("/qos-specs/{qos_id}/delete_keys", delete_keys, ["PUT"]),
        ("/qos-specs/{qos_id}/associations", associations, ["GET"]),
        ("/qos-specs/{qos_id}/associate", associate, ["GET"]),
        ("/qos-specs/{qos_id}/disassociate", disassociate, ["GET"]),
        ("/qos-specs/{qos_id}/disassociate_all", disassociate_all, ["GET"]),
    ]
)
