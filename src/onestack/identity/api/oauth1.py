"""/v3/OS-OAUTH1: consumers, the request token / authorize / access token flow, and a user's
access tokens under /v3/users/{user_id}/OS-OAUTH1/access_tokens."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common import errors
from onestack.common.auth import get_context
from onestack.common.http import empty, json_response, read_json, validate
from onestack.identity import models, schemas
from onestack.identity.api.helpers import (
    authorize,
    param,
    service,
    signed_request,
    valid_body,
    views,
)
from onestack.identity.api.views import Views
from onestack.identity.tokens import isoformat


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
    body = await valid_body(request, schemas.ConsumerBody, "consumer")
    oauth1 = service(request).oauth1
    consumer = await oauth1.update_consumer(param(request, "consumer_id"), body.changes())
    return json_response({"consumer": render(views(request), consumer)})


async def delete_consumer(request: Request) -> Response:
    authorize(request, "identity:delete_consumer")
    await service(request).oauth1.delete_consumer(param(request, "consumer_id"))
    return empty()


def _form(key: str, secret: str, expires_at: Any) -> Response:
    fields = {"oauth_token": key, "oauth_token_secret": secret}
    if expires_at is not None:
        fields["oauth_expires_at"] = str(isoformat(expires_at))
    return Response(urlencode(fields), 201, media_type="application/x-www-form-urlencoded")


async def request_token(request: Request) -> Response:
    """Signed by the consumer alone (no Keystone token): a request token on a project."""
    project_id = request.headers.get("requested-project-id")
    token = await service(request).oauth1.create_request_token(signed_request(request), project_id)
    return _form(token.id, token.encrypted_secret, token.expires_at)


async def access_token(request: Request) -> Response:
    """Signed by the consumer with the authorized request token and its verifier."""
    token = await service(request).oauth1.create_access_token(signed_request(request))
    return _form(token.id, token.encrypted_secret, token.expires_at)


async def authorize_request_token(request: Request) -> Response:
    ctx = authorize(request, "identity:authorize_request_token")
    body = await valid_body(request, schemas.RequestTokenAuthorize)
    if ctx.trust_id or "oauth1" in ctx.methods:
        raise errors.Forbidden(
            "Cannot authorize a request token with a token issued via delegation."
        )
    roles = [r.model_dump(exclude_none=True) for r in body.roles]
    verifier = await service(request).oauth1.authorize_request_token(
        param(request, "request_token_id"), ctx.user_id, roles
    )
    return json_response({"token": {"oauth_verifier": verifier}})


def render_access_token(v: Views, t: models.OAuthAccessToken) -> dict[str, Any]:
    path = f"users/{t.authorizing_user_id}/OS-OAUTH1/access_tokens/{t.id}"
    return {
        "id": t.id,
        "consumer_id": t.consumer_id,
        "project_id": t.project_id,
        "authorizing_user_id": t.authorizing_user_id,
        "expires_at": isoformat(t.expires_at),
        "links": {"self": f"{v.base}/{path}", "roles": f"{v.base}/{path}/roles"},
    }


async def list_access_tokens(request: Request) -> Response:
    authorize(request, "identity:list_access_tokens")
    if "oauth1" in get_context(request).methods:
        raise errors.Forbidden("Cannot list request tokens with a token issued via delegation.")
    user_id = param(request, "user_id")
    rows = await service(request).oauth1.list_access_tokens(user_id)
    v = views(request)
    return json_response(
        v.collection(
            "access_tokens",
            [render_access_token(v, t) for t in rows],
            f"users/{user_id}/OS-OAUTH1/access_tokens",
        )
    )


async def show_access_token(request: Request) -> Response:
    authorize(request, "identity:get_access_token")
    token = await service(request).oauth1.get_access_token(
        param(request, "user_id"), param(request, "access_token_id")
    )
    return json_response({"access_token": render_access_token(views(request), token)})


async def delete_access_token(request: Request) -> Response:
    authorize(request, "identity:delete_access_token")
    await service(request).oauth1.delete_access_token(
        param(request, "user_id"), param(request, "access_token_id")
    )
    return empty()


async def _token_roles(request: Request) -> tuple[Views, list[models.Role], str]:
    svc = service(request)
    user_id, token_id = param(request, "user_id"), param(request, "access_token_id")
    token = await svc.oauth1.get_access_token(user_id, token_id)
    found = await svc.roles.roles_by_id(token.role_ids)
    roles = [found[r] for r in token.role_ids if r in found]
    return views(request), roles, f"users/{user_id}/OS-OAUTH1/access_tokens/{token_id}/roles"


def _token_role(v: Views, r: models.Role, path: str) -> dict[str, Any]:
    """Keystone shows an access token's role without its description."""
    body = {**v.role(r), "links": {"self": f"{v.base}/{path}/{r.id}"}}
    body.pop("description", None)
    return body


async def list_access_token_roles(request: Request) -> Response:
    authorize(request, "identity:list_access_token_roles")
    v, roles, path = await _token_roles(request)
    return json_response(v.collection("roles", [_token_role(v, r, path) for r in roles], path))


async def show_access_token_role(request: Request) -> Response:
    authorize(request, "identity:get_access_token_role")
    v, roles, path = await _token_roles(request)
    role_id = param(request, "role_id")
    for r in roles:
        if r.id == role_id:
            return json_response({"role": _token_role(v, r, path)})
    raise errors.NotFound(f"Could not find role: {role_id}.")


ONE = "/v3/OS-OAUTH1/consumers/{consumer_id}"
USER_TOKENS = "/v3/users/{user_id}/OS-OAUTH1/access_tokens"
USER_TOKEN = USER_TOKENS + "/{access_token_id}"
routes = [
    Route("/v3/OS-OAUTH1/consumers", list_consumers, methods=["GET"]),
    Route("/v3/OS-OAUTH1/consumers", create_consumer, methods=["POST"]),
    Route(ONE, show_consumer, methods=["GET"]),
    Route(ONE, update_consumer, methods=["PATCH"]),
    Route(ONE, delete_consumer, methods=["DELETE"]),
    Route("/v3/OS-OAUTH1/request_token", request_token, methods=["POST"]),
    Route("/v3/OS-OAUTH1/access_token", access_token, methods=["POST"]),
    Route("/v3/OS-OAUTH1/authorize/{request_token_id}", authorize_request_token, methods=["PUT"]),
    Route(USER_TOKENS, list_access_tokens, methods=["GET"]),
    Route(USER_TOKEN, show_access_token, methods=["GET"]),
    Route(USER_TOKEN, delete_access_token, methods=["DELETE"]),
    Route(USER_TOKEN + "/roles", list_access_token_roles, methods=["GET"]),
    Route(USER_TOKEN + "/roles/{role_id}", show_access_token_role, methods=["GET"]),
]
