"""User messages: what went wrong with a request, told to its project."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from onestack.common.api import authorize, param
from onestack.common.http import json_response
from onestack.volume.api.helpers import both, context, require_version, svc, views


async def messages_index(request: Request) -> Response:
    require_version(request, "3.3")
    ctx = context(request)
    authorize(request, "message:get_all")
    v = views(request, ctx)
    return json_response(
        {"messages": [v.message(m) for m in await svc(request).messages.listing(ctx)]}
    )


async def message_show(request: Request) -> Response:
    require_version(request, "3.3")
    ctx = context(request)
    m = await svc(request).messages.get(ctx, param(request, "message_id"))
    authorize(request, "message:get", {"project_id": m.project_id})
    return json_response({"message": views(request, ctx).message(m)})


async def message_delete(request: Request) -> Response:
    require_version(request, "3.3")
    ctx = context(request)
    m = await svc(request).messages.get(ctx, param(request, "message_id"))
    authorize(request, "message:delete", {"project_id": m.project_id})
    await svc(request).messages.delete(ctx, m.id)
    return Response(status_code=204)


routes = both(
    [
        ("/messages", messages_index, ["GET"]),
        ("/messages/{message_id}", message_show, ["GET"]),
        ("/messages/{message_id}", message_delete, ["DELETE"]),
    ]
)
