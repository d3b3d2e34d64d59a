"""/v3/policies: Keystone's deprecated store of policy documents."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.http import empty, json_response, read_json, validate
from onestack.identity import schemas
from onestack.identity.api.helpers import (
    authorize,
    filters,
    param,
    require_body_key,
    service,
    views,
)


async def list_policies(request: Request) -> Response:
    authorize(request, "identity:list_policies")
    policies = await service(request).policy_blobs.list(filters(request, "type"))
    items = [views(request).policy(p) for p in policies]
    return json_response(views(request).collection("policies", items, "policies"))


async def create_policy(request: Request) -> Response:
    authorize(request, "identity:create_policy")
    body = validate(schemas.PolicyCreate, require_body_key(await read_json(request), "policy"))
    policy = await service(request).policy_blobs.create(body.changes())
    return json_response({"policy": views(request).policy(policy)}, 201)


async def get_policy(request: Request) -> Response:
    authorize(request, "identity:get_policy")
    policy = await service(request).policy_blobs.get(param(request, "policy_id"))
    return json_response({"policy": views(request).policy(policy)})


async def update_policy(request: Request) -> Response:
    authorize(request, "identity:update_policy")
    body = validate(schemas.PolicyUpdate, require_body_key(await read_json(request), "policy"))
    policy = await service(request).policy_blobs.update(param(request, "policy_id"), body.changes())
    return json_response({"policy": views(request).policy(policy)})


async def delete_policy(request: Request) -> Response:
    authorize(request, "identity:delete_policy")
    await service(request).policy_blobs.delete(param(request, "policy_id"))
    return empty()


routes = [
    Route("/v3/policies", list_policies, methods=["GET"]),
    Route("/v3/policies", create_policy, methods=["POST"]),
    Route("/v3/policies/{policy_id}", get_policy, methods=["GET"]),
    Route("/v3/policies/{policy_id}", update_policy, methods=["PATCH"]),
    Route("/v3/policies/{policy_id}", delete_policy, methods=["DELETE"]),
]
