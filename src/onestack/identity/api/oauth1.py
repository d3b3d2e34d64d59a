"""/v3/OS-OAUTH1/consumers: create, list, show, update and delete OAuth1 consumers."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.http import empty, json_response, read_json, validate
from onestack.identity import models, schemas
from onestack.identity.api.helpers import authorize, param, require_body_key, service, views
from onestack.identity.api.views import Views


def render(v: Views, c: models.OAuthConsumer, secret: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        **(c.extra or {}),
        "id": c.id,
        "description": c.description,
        "links": v.link(f"OS-OAUTH1/consumers/{c.id}"),
    }
    if secret is not None:
        body["secret"] = secret
    return body


async def list_consumers(request: Request) -> Response:
    authorize(request, "identity:list_consumers")
    rows = await service(request).oauth1.list_consumers()
    v = views(request)
    return json_response(
        v.collection("consumers", [render(v, c) for c in rows], "OS-OAUTH1/consumers")
    )


async def create_consumer(request: Request) -> Response:
    authorize(request, "identity:create_consumer")
    data = await read_json(request)
    raw = data.get("consumer", {}) if isinstance(data, dict) else {}
    body = validate(schemas.ConsumerBody, raw)
    consumer, secret = await service(request).oauth1.create_consumer(body.changes())
    return json_response({"consumer": render(views(request), consumer, secret)}, 201)


async def show_consumer(request: Request) -> Response:
    authorize(request, "identity:get_consumer")
    consumer = await service(request).oauth1.get_consumer(param(request, "consumer_id"))
    return json_response({"consumer": render(views(request), consumer)})


async def update_consumer(request: Request) -> Response:
    authorize(request, "identity:update_consumer")
    body = validate(schemas.ConsumerBody, require_body_key(await read_json(request), "consumer"))
    oauth1 = service(request).oauth1
    consumer = await oauth1.update_consumer(param(request, "consumer_id"), body.changes())
    return json_response({"consumer": render(views(request), consumer)})


async def delete_consumer(request: Request) -> Response:
    authorize(request, "identity:delete_consumer")
    await service(request).oauth1.delete_consumer(param(request, "consumer_id"))
    return empty()


ONE = "/v3/OS-OAUTH1/consumers/{consumer_id}"
routes = [
    Route("/v3/OS-OAUTH1/consumers", list_consumers, methods=["GET"]),
    Route("/v3/OS-OAUTH1/consumers", create_consumer, methods=["POST"]),
    Route(ONE, show_consumer, methods=["GET"]),
    Route(ONE, update_consumer, methods=["PATCH"]),
    Route(ONE, delete_consumer, methods=["DELETE"]),
]
