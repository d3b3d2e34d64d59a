"""Host aggregates (``os-aggregates``): CRUD and the add_host, remove_host and set_metadata
actions; an aggregate's ``availability_zone`` names its hosts' zone."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common import api, errors
from onestack.common.http import empty, json_response, validate
from onestack.compute import schemas, validation
from onestack.compute.api import checks
from onestack.compute.api.helpers import at_least, authorize, param, service, valid_body
from onestack.compute.server_schemas import Action
from onestack.compute.service.aggregates import AggregateView


def view(request: Request, a: AggregateView, *, created: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": a.id,
        "name": a.name,
        "availability_zone": a.availability_zone,
        "created_at": checks.nova_time(a.created_at),
        "updated_at": checks.nova_time(a.updated_at),
        "deleted": False,
        "deleted_at": None,
    }
    if not created:
        out["hosts"] = list(a.hosts)
        out["metadata"] = dict(a.metadata)
    if at_least(request, 41):
        out["uuid"] = a.uuid
    return out


async def list_aggregates(request: Request) -> Response:
    authorize(request, "os-aggregates:index", {})
    rows = await service(request).aggregates.list()
    return json_response({"aggregates": [view(request, a) for a in rows]})


async def create_aggregate(request: Request) -> Response:
    authorize(request, "os-aggregates:create", {})
    body = await valid_body(request, schemas.AggregateCreate)
    a = await service(request).aggregates.create(body.name, body.availability_zone)
    return json_response({"aggregate": view(request, a, created=True)})


async def show_aggregate(request: Request) -> Response:
    authorize(request, "os-aggregates:show", {})
    a = await service(request).aggregates.get(param(request, "aggregate_id"))
    return json_response({"aggregate": view(request, a)})


async def update_aggregate(request: Request) -> Response:
    authorize(request, "os-aggregates:update", {})
    body = await valid_body(request, schemas.AggregateUpdate)
    a = await service(request).aggregates.update(
        param(request, "aggregate_id"),
        body.name,
        body.availability_zone,
        "availability_zone" in body.model_fields_set,
    )
    return json_response({"aggregate": view(request, a)})


async def delete_aggregate(request: Request) -> Response:
    authorize(request, "os-aggregates:delete", {})
    await service(request).aggregates.delete(param(request, "aggregate_id"))
    return empty(200)


async def aggregate_action(request: Request) -> Response:
    aggregate_id = param(request, "aggregate_id")
    body = await api.body(request, Action)
    action, args = body.name, body.args
    aggregates = service(request).aggregates
    args = validation.as_object(args, action)  # asked before the policy, the rest after it
    if action in ("add_host", "remove_host"):
        authorize(request, f"os-aggregates:{action}", {})
        if action == "add_host":
            host = validate(schemas.AggregateAddHost, args).host
            a = await aggregates.add_host(aggregate_id, host)
        else:
            host = validate(schemas.AggregateRemoveHost, args).host
            a = await aggregates.remove_host(aggregate_id, host)
    elif action == "set_metadata":
        authorize(request, "os-aggregates:set_metadata", {})
        values = validate(schemas.AggregateSetMetadata, args).metadata
        a = await aggregates.set_metadata(aggregate_id, values)
    else:
        raise errors.BadRequest(f"Invalid input for field/attribute body: {action} unknown")
    return json_response({"aggregate": view(request, a)})


routes: list[Route] = [
    Route("/os-aggregates", list_aggregates, methods=["GET"]),
    Route("/os-aggregates", create_aggregate, methods=["POST"]),
    Route("/os-aggregates/{aggregate_id}", show_aggregate, methods=["GET"]),
    Route("/os-aggregates/{aggregate_id}", update_aggregate, methods=["PUT"]),
    Route("/os-aggregates/{aggregate_id}", delete_aggregate, methods=["DELETE"]),
    Route("/os-aggregates/{aggregate_id}/action", aggregate_action, methods=["POST"]),
]
