"""What every identity handler needs: the service, the views, policy with a target."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from onestack.common import api
from onestack.common.auth import get_context
from onestack.common.context import RequestContext
from onestack.common.http import M, query_bool
from onestack.identity.api.views import Views
from onestack.identity.service import IdentityService
from onestack.identity.service.oauth1 import SignedRequest

DEFAULT_DOMAIN = "default"


kit = api.ServiceHelpers(IdentityService, caller_target=False)
service = kit.service
authorize = kit.authorize  # without a target: an empty one, as Keystone's
allowed = kit.allowed
param = api.param


def views(request: Request) -> Views:
    return api.service(request, Views)


def authorize_domain_list(request: Request, action: str, wanted: dict[str, Any]) -> RequestContext:
    """Authorize a list that filters by domain; a domain-scoped non-admin without a filter
    lists its own domain, as in Keystone."""
    ctx = get_context(request)
    if ctx.domain_id and not ctx.is_admin:
        wanted.setdefault("domain_id", ctx.domain_id)
    return authorize(request, action, {"target": {"domain_id": wanted.get("domain_id")}})


def filters(request: Request, *names: str, booleans: tuple[str, ...] = ()) -> dict[str, Any]:
    """The listed query filters that are present; booleans parsed the OpenStack way."""
    out: dict[str, Any] = {}
    for name in names:
        if name in request.query_params:
            out[name] = request.query_params[name]
    for name in booleans:
        value = query_bool(request.query_params.get(name))
        if value is not None:
            out[name] = value
    return out


def scope_domain(ctx: RequestContext) -> str:
    """The domain new users, groups and projects land in when the body names none."""
    return ctx.domain_id or ctx.project_domain_id or DEFAULT_DOMAIN


def truncate(items: list[Any], limit: int) -> tuple[list[Any], bool]:
    """Keystone's ``list_limit``: cut long lists and say so with ``truncated``."""
    if limit and len(items) > limit:
        return items[:limit], True
    return items, False


REQUIRED = "this field is required"  # Keystone's reason for a missing member


def require_body_key(data: Any, key: str) -> Any:
    return api.require_member(data, key, REQUIRED)


async def valid_body(request: Request, model: type[M], key: str | None = None) -> M:
    """``common.api.body`` with Keystone's reason for a missing member."""
    return await api.body(request, model, key, REQUIRED)


def signed_request(request: Request) -> SignedRequest:
    """The URL an OAuth1 client signed (as it addressed us, with the public URL's scheme, as
    Keystone: a TLS front talks plain HTTP to us) and the request's headers."""
    scheme = views(request).base.split(":", 1)[0]
    return SignedRequest(str(request.url.replace(scheme=scheme)), dict(request.headers))
