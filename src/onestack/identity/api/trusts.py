"""/v3/OS-TRUST/trusts: create, list, show and delete trusts, and the roles they delegate."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common import errors
from onestack.common.auth import get_context
from onestack.common.context import RequestContext
from onestack.common.http import empty, json_response, read_json, validate
from onestack.identity import models, schemas
from onestack.identity.api.helpers import authorize, param, require_body_key, service, views
from onestack.identity.api.views import Views
from onestack.identity.tokens import isoformat

BASE = "OS-TRUST/trusts"


def render(v: Views, t: models.Trust, roles: list[models.Role] | None = None) -> dict[str, Any]:
    """Keystone's trust body; ``roles`` (and their links) only where Keystone shows them."""
    body: dict[str, Any] = {
        **(t.extra or {}),
        "id": t.id,
        "trustor_user_id": t.trustor_user_id,
        "trustee_user_id": t.trustee_user_id,
        "project_id": t.project_id,
        "impersonation": t.impersonation,
        "expires_at": isoformat(t.expires_at),
        "remaining_uses": t.remaining_uses,
        "deleted_at": None,
        "redelegated_trust_id": t.redelegated_trust_id,
        "redelegation_count": t.redelegation_count,
        "links": v.link(f"{BASE}/{t.id}"),
    }
    if roles is not None:
        body["roles"] = [v.role(r) for r in roles]
        body["roles_links"] = {
            "self": f"{v.base}/{BASE}/{t.id}/roles",
            "next": None,
            "previous": None,
        }
    return body


def _no_app_cred(ctx: RequestContext) -> None:
    if ctx.application_credential_id is not None:
        raise errors.Forbidden(
            "Using method 'application_credential' is not allowed for managing trusts."
        )


async def _authorized_trust(request: Request, action: str) -> models.Trust:
    """The trust in the path (404 first, as Keystone), once ``action`` allows it."""
    get_context(request)
    trust = await service(request).trusts.get(param(request, "trust_id"))
    target = {"trustor_user_id": trust.trustor_user_id, "trustee_user_id": trust.trustee_user_id}
    _no_app_cred(authorize(request, action, {"target": {"trust": target}}))
    return trust


async def create_trust(request: Request) -> Response:
    raw = require_body_key(await read_json(request), "trust")
    target = {"trust": raw if isinstance(raw, dict) else {}}
    ctx = authorize(request, "identity:create_trust", target)
    _no_app_cred(ctx)
    body = validate(schemas.TrustCreate, raw)
    if ctx.user_id != body.trustor_user_id:
        raise errors.Forbidden("The authenticated user should match the trustor")
    values = body.model_dump(exclude_unset=True, exclude=set(body.model_extra or {}))
    values["roles"] = [r.model_dump(exclude_none=True) for r in body.roles]
    extra = body.model_extra or {}
    values["extra"] = {k: v for k, v in extra.items() if k not in ("id", "links")}
    svc = service(request)
    trust = await svc.trusts.create(values, ctx.trust_id)
    roles = await svc.trusts.roles_of(trust)
    return json_response({"trust": render(views(request), trust, roles)}, 201)


async def list_trusts(request: Request) -> Response:
    query = request.query_params
    trustor, trustee = query.get("trustor_user_id"), query.get("trustee_user_id")
    if trustor:
        target = {"target": {"trust": {"trustor_user_id": trustor}}}
        ctx = authorize(request, "identity:list_trusts_for_trustor", target)
    elif trustee:
        target = {"target": {"trust": {"trustee_user_id": trustee}}}
        ctx = authorize(request, "identity:list_trusts_for_trustee", target)
    else:
        ctx = authorize(request, "identity:list_trusts")
    _no_app_cred(ctx)
    rows = await service(request).trusts.list_trusts(
        trustor=trustor or None, trustee=None if trustor else (trustee or None)
    )
    items = [render(views(request), t) for t in rows]
    return json_response(views(request).collection("trusts", items, BASE))


async def show_trust(request: Request) -> Response:
    trust = await _authorized_trust(request, "identity:get_trust")
    roles = await service(request).trusts.roles_of(trust)
    return json_response({"trust": render(views(request), trust, roles)})


async def delete_trust(request: Request) -> Response:
    trust = await _authorized_trust(request, "identity:delete_trust")
    await service(request).trusts.delete(trust.id)
    return empty()


async def list_trust_roles(request: Request) -> Response:
    trust = await _authorized_trust(request, "identity:list_roles_for_trust")
    roles = await service(request).trusts.roles_of(trust)
    v = views(request)
    return json_response(
        {
            "roles": [v.role(r) for r in roles],
            "links": {"self": f"{v.base}/{BASE}/{trust.id}/roles", "next": None, "previous": None},
        }
    )


async def show_trust_role(request: Request) -> Response:
    trust = await _authorized_trust(request, "identity:get_role_for_trust")
    role_id = param(request, "role_id")
    roles = [r for r in await service(request).trusts.roles_of(trust) if r.id == role_id]
    if not roles:
        raise errors.NotFound(f"Could not find role: {role_id}.")
    if request.method == "HEAD":
        return empty(200)
    return json_response({"role": views(request).role(roles[0])})


ONE = "/v3/OS-TRUST/trusts/{trust_id}"
routes = [
    Route("/v3/OS-TRUST/trusts", list_trusts, methods=["GET"]),
    # Keystone (Flask, strict_slashes off) lists at the trailing slash too; Tempest calls it so.
    Route("/v3/OS-TRUST/trusts/", list_trusts, methods=["GET"]),
    Route("/v3/OS-TRUST/trusts", create_trust, methods=["POST"]),
    Route(ONE, show_trust, methods=["GET"]),
    Route(ONE, delete_trust, methods=["DELETE"]),
    Route(f"{ONE}/roles", list_trust_roles, methods=["GET"]),
    Route(f"{ONE}/roles/{{role_id}}", show_trust_role, methods=["GET", "HEAD"]),
]
