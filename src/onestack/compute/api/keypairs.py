"""Key pairs (``os-keypairs``): a user's own; an admin may name another user (2.10)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.auth import get_context
from onestack.common.context import RequestContext
from onestack.common.http import empty, json_response
from onestack.common.pagination import next_link
from onestack.compute import models, schemas, validation
from onestack.compute.api import checks
from onestack.compute.api.helpers import (
    at_least,
    authorize,
    href,
    param,
    service,
    valid_body,
    versioned,
)


def _user(request: Request, rule: str, user_id: str | None = None) -> tuple[RequestContext, str]:
    """The user whose keys are meant (``user_id`` from 2.10, for admins) after the policy
    check against that user."""
    ctx = get_context(request)
    if user_id is None and at_least(request, 10):
        user_id = request.query_params.get("user_id")
    target = user_id or ctx.user_id
    authorize(request, f"os-keypairs:{rule}", {"user_id": target, "project_id": ctx.project_id})
    return ctx, target


def _brief(request: Request, row: models.KeyPair) -> dict[str, Any]:
    out = {"name": row.name, "public_key": row.public_key, "fingerprint": row.fingerprint}
    if at_least(request, 2):
        out["type"] = row.type
    return out


async def list_keypairs(request: Request) -> Response:
    _ctx, user_id = _user(request, "index")
    q = request.query_params
    limit = marker = None
    if at_least(request, 35):
        limit = checks.query_int(q["limit"], "limit") if "limit" in q else None
        marker = q.get("marker")
    rows = await service(request).keypairs.list(user_id, limit, marker)
    body: dict[str, Any] = {"keypairs": [{"keypair": _brief(request, r)} for r in rows]}
    if limit is not None and rows and len(rows) == limit:
        body["keypairs_links"] = [
            {"rel": "next", "href": next_link(href(request, "os-keypairs"), q, rows[-1].name)}
        ]
    return json_response(body)


async def show_keypair(request: Request) -> Response:
    _ctx, user_id = _user(request, "show")
    row = await service(request).keypairs.get(user_id, param(request, "name"))
    out: dict[str, Any] = {
        "name": row.name,
        "public_key": row.public_key,
        "fingerprint": row.fingerprint,
        "user_id": row.user_id,
        "created_at": checks.nova_time(row.created_at),
        "updated_at": None,
        "deleted": False,
        "deleted_at": None,
        "id": row.id,
    }
    if at_least(request, 2):
        out["type"] = row.type
    return json_response({"keypair": out})


async def create_keypair(request: Request) -> Response:
    model = versioned(
        request,
        (92, schemas.KeypairCreateV292),
        (10, schemas.KeypairCreateV210),
        (2, schemas.KeypairCreateV22),
        (0, schemas.KeypairCreate),
    )
    body = await valid_body(request, model)
    ctx, user_id = _user(request, "create", body.user_id)
    public_key = body.public_key
    if public_key is None and at_least(request, 92):
        raise validation.invalid("keypair", "'public_key' is a required property")
    made = await service(request).keypairs.create(
        user_id, ctx.project_id or "", body.name, body.type, public_key
    )
    out: dict[str, Any] = {
        "name": made.row.name,
        "public_key": made.row.public_key,
        "fingerprint": made.row.fingerprint,
        "user_id": made.row.user_id,
    }
    if at_least(request, 2):
        out["type"] = made.row.type
    if made.private_key is not None:
        out["private_key"] = made.private_key
    return json_response({"keypair": out}, status=201 if at_least(request, 2) else 200)


async def delete_keypair(request: Request) -> Response:
    _ctx, user_id = _user(request, "delete")
    await service(request).keypairs.delete(user_id, param(request, "name"))
    return empty(204 if at_least(request, 2) else 202)


routes: list[Route] = [
    Route("/os-keypairs", list_keypairs, methods=["GET"]),
    Route("/os-keypairs", create_keypair, methods=["POST"]),
    Route("/os-keypairs/{name}", show_keypair, methods=["GET"]),
    Route("/os-keypairs/{name}", delete_keypair, methods=["DELETE"]),
]
