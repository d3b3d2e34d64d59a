"""/v3/auth: issue, validate, check and revoke tokens; what a token may scope to."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common import errors
from onestack.common.auth import get_context
from onestack.common.http import empty, json_bytes_response, json_response, query_bool
from onestack.identity import schemas
from onestack.identity.api import federation
from onestack.identity.api.helpers import (
    authorize,
    service,
    signed_request,
    valid_body,
    views,
)
from onestack.identity.tokens import TokenData


async def issue_token(request: Request) -> Response:
    auth = await valid_body(request, schemas.AuthRequest, "auth")
    svc = service(request)
    data = await svc.auth.authenticate(auth, signed_request(request))
    token = svc.tokens.issue(data)
    nocatalog = _nocatalog(request)
    catalog = None if nocatalog else await svc.catalog.catalog(data.project_id, data.user_id)
    return json_response(views(request).token(data, catalog), 201, {"X-Subject-Token": token})


def _nocatalog(request: Request) -> bool:
    # Most requests have no query string: not parsing an empty one is 2% of a validation.
    if not request.scope.get("query_string"):
        return False
    return query_bool(request.query_params.get("nocatalog")) or False


def _subject(request: Request) -> tuple[str, TokenData]:
    token = request.headers.get("x-subject-token")
    if not token:
        raise errors.NotFound("Could not find token: (no X-Subject-Token given).")
    try:
        return token, service(request).tokens.decode(token)
    except errors.Unauthorized:
        raise errors.NotFound(f"Could not find token: {token[:8]}...") from None


async def validate_token(request: Request) -> Response:
    get_context(request)
    token, data = _subject(request)
    authorize(request, "identity:validate_token", {"target": {"token": {"user_id": data.user_id}}})
    catalog = (
        None
        if _nocatalog(request)
        else await service(request).catalog.catalog(data.project_id, data.user_id)
    )
    body = views(request).token_json(token, data, catalog)
    return json_bytes_response(body, 200, {"X-Subject-Token": token})


async def check_token(request: Request) -> Response:
    get_context(request)
    token, data = _subject(request)
    authorize(request, "identity:validate_token", {"target": {"token": {"user_id": data.user_id}}})
    return empty(200, {"X-Subject-Token": token})


async def revoke_token(request: Request) -> Response:
    get_context(request)
    _, data = _subject(request)
    authorize(request, "identity:revoke_token", {"target": {"token": {"user_id": data.user_id}}})
    await service(request).revocations.record(audit_id=data.audit_ids[0])
    return empty()


async def auth_catalog(request: Request) -> Response:
    ctx = get_context(request)
    if ctx.scope is None:
        raise errors.Forbidden("An unscoped token has no catalog.")
    catalog = await service(request).catalog.catalog(ctx.project_id, ctx.user_id)
    return json_response(
        {"catalog": catalog, "links": {"self": f"{views(request).base}/auth/catalog"}}
    )


async def auth_projects(request: Request) -> Response:
    return await federation.projects_for(request, "auth/projects")


async def auth_domains(request: Request) -> Response:
    return await federation.domains_for(request, "auth/domains")


async def auth_system(request: Request) -> Response:
    ctx = get_context(request)
    roles = await service(request).assignments.effective_role_ids(ctx.user_id, "system", "system")
    return json_response(
        {
            "system": [{"all": True}] if roles else [],
            "links": {"self": f"{views(request).base}/auth/system"},
        }
    )


routes = [
    Route("/v3/auth/tokens", issue_token, methods=["POST"]),
    Route("/v3/auth/tokens", check_token, methods=["HEAD"]),
    Route("/v3/auth/tokens", validate_token, methods=["GET"]),
    Route("/v3/auth/tokens", revoke_token, methods=["DELETE"]),
    Route("/v3/auth/catalog", auth_catalog, methods=["GET"]),
    Route("/v3/auth/projects", auth_projects, methods=["GET"]),
    Route("/v3/auth/domains", auth_domains, methods=["GET"]),
    Route("/v3/auth/system", auth_system, methods=["GET"]),
]
