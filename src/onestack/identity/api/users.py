"""/v3/users and /v3/groups (with membership and password changes)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common import errors
from onestack.common.auth import get_context
from onestack.common.http import empty, json_response
from onestack.identity import models, schemas
from onestack.identity.api.helpers import (
    authorize,
    authorize_domain_list,
    filters,
    param,
    scope_domain,
    service,
    truncate,
    valid_body,
    views,
)


def _user_target(user: models.User) -> dict[str, object]:
    return {"target": {"user": {"id": user.id, "domain_id": user.domain_id}}}


def _group_target(group: models.Group) -> dict[str, object]:
    return {"target": {"group": {"id": group.id, "domain_id": group.domain_id}}}


async def _check_project(request: Request, project_id: str | None) -> None:
    if project_id:
        await service(request).resources.get_project(project_id)


# --- users ---------------------------------------------------------------------------------
async def list_users(request: Request) -> Response:
    wanted = filters(request, "name", "domain_id", booleans=("enabled",))
    authorize_domain_list(request, "identity:list_users", wanted)
    users = await service(request).users.list_users(wanted)
    items, cut = truncate(
        [views(request).user(u) for u in users], service(request).settings.list_limit
    )
    return json_response(views(request).collection("users", items, "users", cut))


async def create_user(request: Request) -> Response:
    ctx = get_context(request)
    body = await valid_body(request, schemas.UserCreate, "user")
    values = body.changes()
    values["domain_id"] = values.get("domain_id") or scope_domain(ctx)
    authorize(
        request, "identity:create_user", {"target": {"user": {"domain_id": values["domain_id"]}}}
    )
    await _check_project(request, values.get("default_project_id"))
    user = await service(request).users.create_user(values)
    return json_response({"user": views(request).user(user)}, 201)


async def get_user(request: Request) -> Response:
    user_id = param(request, "user_id")
    try:
        user = await service(request).users.get_user(user_id)
    except errors.NotFound:
        authorize(request, "identity:get_user", {"target": {"user": {"id": user_id}}})
        raise
    authorize(request, "identity:get_user", _user_target(user))
    return json_response({"user": views(request).user(user)})


async def update_user(request: Request) -> Response:
    svc = service(request)
    user = await svc.users.get_user(param(request, "user_id"))
    authorize(request, "identity:update_user", _user_target(user))
    body = await valid_body(request, schemas.UserUpdate, "user")
    values = body.changes()
    await _check_project(request, values.get("default_project_id"))
    user = await svc.users.update_user(user.id, values)
    return json_response({"user": views(request).user(user)})


async def delete_user(request: Request) -> Response:
    svc = service(request)
    user = await svc.users.get_user(param(request, "user_id"))
    authorize(request, "identity:delete_user", _user_target(user))
    await svc.users.delete_user(user.id)
    return empty()


async def change_password(request: Request) -> Response:
    """Self-service: the original password is the proof, no token is needed (as Keystone)."""
    body = await valid_body(request, schemas.PasswordChange, "user")
    await service(request).users.change_password(
        param(request, "user_id"), body.original_password, body.password
    )
    return empty()


async def list_user_groups(request: Request) -> Response:
    svc = service(request)
    user = await svc.users.get_user(param(request, "user_id"))
    authorize(
        request,
        "identity:list_groups_for_user",
        {"user_id": user.id, **_user_target(user)},
    )
    groups = await svc.users.list_groups({}, user_id=user.id)
    items = [views(request).group(g) for g in groups]
    return json_response(views(request).collection("groups", items, f"users/{user.id}/groups"))


# --- groups --------------------------------------------------------------------------------
async def list_groups(request: Request) -> Response:
    wanted = filters(request, "name", "domain_id")
    authorize_domain_list(request, "identity:list_groups", wanted)
    groups = await service(request).users.list_groups(wanted)
    items, cut = truncate(
        [views(request).group(g) for g in groups], service(request).settings.list_limit
    )
    return json_response(views(request).collection("groups", items, "groups", cut))


async def create_group(request: Request) -> Response:
    ctx = get_context(request)
    body = await valid_body(request, schemas.GroupCreate, "group")
    values = body.changes()
    values["domain_id"] = values.get("domain_id") or scope_domain(ctx)
    authorize(
        request, "identity:create_group", {"target": {"group": {"domain_id": values["domain_id"]}}}
    )
    group = await service(request).users.create_group(values)
    return json_response({"group": views(request).group(group)}, 201)


async def get_group(request: Request) -> Response:
    group = await service(request).users.get_group(param(request, "group_id"))
    authorize(request, "identity:get_group", _group_target(group))
    return json_response({"group": views(request).group(group)})


async def update_group(request: Request) -> Response:
    svc = service(request)
    group = await svc.users.get_group(param(request, "group_id"))
    authorize(request, "identity:update_group", _group_target(group))
    body = await valid_body(request, schemas.GroupUpdate, "group")
    group = await svc.users.update_group(group.id, body.changes())
    return json_response({"group": views(request).group(group)})


async def delete_group(request: Request) -> Response:
    svc = service(request)
    group = await svc.users.get_group(param(request, "group_id"))
    authorize(request, "identity:delete_group", _group_target(group))
    await svc.users.delete_group(group.id)
    return empty()


async def list_group_users(request: Request) -> Response:
    svc = service(request)
    group = await svc.users.get_group(param(request, "group_id"))
    authorize(request, "identity:list_users_in_group", _group_target(group))
    users = await svc.users.list_members(group.id)
    items = [views(request).user(u) for u in users]
    return json_response(views(request).collection("users", items, f"groups/{group.id}/users"))


async def check_member(request: Request) -> Response:
    svc = service(request)
    group = await svc.users.get_group(param(request, "group_id"))
    authorize(request, "identity:check_user_in_group", _group_target(group))
    if not await svc.users.is_member(group.id, param(request, "user_id")):
        raise errors.NotFound(
            f"User '{param(request, 'user_id')}' not found in group '{group.id}'."
        )
    return empty()


async def add_member(request: Request) -> Response:
    svc = service(request)
    group = await svc.users.get_group(param(request, "group_id"))
    authorize(request, "identity:add_user_to_group", _group_target(group))
    await svc.users.add_member(group.id, param(request, "user_id"))
    return empty()


async def remove_member(request: Request) -> Response:
    svc = service(request)
    group = await svc.users.get_group(param(request, "group_id"))
    authorize(request, "identity:remove_user_from_group", _group_target(group))
    await svc.users.remove_member(group.id, param(request, "user_id"))
    return empty()


routes = [
    Route("/v3/users", list_users, methods=["GET"]),
    Route("/v3/users", create_user, methods=["POST"]),
    Route("/v3/users/{user_id}", get_user, methods=["GET"]),
    Route("/v3/users/{user_id}", update_user, methods=["PATCH"]),
    Route("/v3/users/{user_id}", delete_user, methods=["DELETE"]),
    Route("/v3/users/{user_id}/password", change_password, methods=["POST"]),
    Route("/v3/users/{user_id}/groups", list_user_groups, methods=["GET"]),
    Route("/v3/groups", list_groups, methods=["GET"]),
    Route("/v3/groups", create_group, methods=["POST"]),
    Route("/v3/groups/{group_id}", get_group, methods=["GET"]),
    Route("/v3/groups/{group_id}", update_group, methods=["PATCH"]),
    Route("/v3/groups/{group_id}", delete_group, methods=["DELETE"]),
    Route("/v3/groups/{group_id}/users", list_group_users, methods=["GET"]),
    Route("/v3/groups/{group_id}/users/{user_id}", check_member, methods=["HEAD", "GET"]),
    Route("/v3/groups/{group_id}/users/{user_id}", add_member, methods=["PUT"]),
    Route("/v3/groups/{group_id}/users/{user_id}", remove_member, methods=["DELETE"]),
]
