"""Image members: share a ``shared`` image with projects; they accept or reject it."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common import api
from onestack.common.http import empty, json_response
from onestack.image import schemas
from onestack.image.api.helpers import authorize, image_target, param, service, visible_image
from onestack.image.views import member_view


async def list_members(request: Request) -> Response:
    ctx, rec = await visible_image(request, "get_members")
    rows = await service(request).members.listing(ctx, rec.id)
    return json_response(
        {"members": [member_view(m) for m in rows], "schema": "/v2/schemas/members"}
    )


async def add_member(request: Request) -> Response:
    body = await api.body(request, schemas.MemberCreate)
    ctx, rec = await visible_image(request, "add_member")
    member = await service(request).members.add(ctx, rec.id, body.member)
    return json_response(member_view(member))


async def show_member(request: Request) -> Response:
    ctx, rec = await visible_image(request, "get_member")
    member = await service(request).members.get(ctx, rec.id, param(request, "member_id"))
    return json_response(member_view(member))


async def update_member(request: Request) -> Response:
    body = await api.body(request, schemas.MemberUpdate)
    ctx, rec = await visible_image(request, "get_image")
    member_id = param(request, "member_id")
    target = {**image_target(ctx, rec), "member_id": member_id}
    authorize(request, "modify_member", target)
    member = await service(request).members.update(ctx, rec.id, member_id, body.status)
    return json_response(member_view(member))


async def remove_member(request: Request) -> Response:
    ctx, rec = await visible_image(request, "delete_member")
    await service(request).members.remove(ctx, rec.id, param(request, "member_id"))
    return empty()


members = "/v2/images/{image_id}/members"
routes = [
    Route(members, list_members, methods=["GET"]),
    Route(members, add_member, methods=["POST"]),
    Route(members + "/{member_id}", show_member, methods=["GET"]),
    Route(members + "/{member_id}", update_member, methods=["PUT"]),
    Route(members + "/{member_id}", remove_member, methods=["DELETE"]),
]
