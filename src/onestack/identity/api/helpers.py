"""What every identity handler needs: the service, the views, policy with a target."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from onestack.common import api, errors
from onestack.common.auth import get_context
from onestack.common.context import RequestContext
from onestack.common.http import query_bool
from onestack.identity.api.views import Views
from onestack.identity.service import IdentityService

DEFAULT_DOMAIN = "default"


def service(request: Request) -> IdentityService:
    return api.service(request, IdentityService)


def views(request: Request) -> Views:
    return api.service(request, Views)


def authorize(
    request: Request, action: str, target: dict[str, Any] | None = None
) -> RequestContext:
    """The caller's context, once policy ``action`` allows it on ``target`` (401/403 if not)."""
    ctx = get_context(request)
    request.app.state.runtime.enforcer.enforce(ctx, action, target)
    return ctx


def authorize_domain_list(request: Request, action: str, wanted: dict[str, Any]) -> RequestContext:
    """Authorize a list that filters by domain; a domain-scoped non-admin without a filter
    lists its own domain, as in Keystone."""
    ctx = get_context(request)
    if ctx.domain_id and not ctx.is_admin:
        wanted.setdefault("domain_id", ctx.domain_id)
    return authorize(request, action, {"target": {"domain_id": wanted.get("domain_id")}})


def param(request: Request, name: str) -> str:
    return str(request.path_params[name])


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


def require_body_key(data: Any, key: str) -> Any:
    if not isinstance(data, dict) or key not in data:
        raise errors.ValidationError(field=key, reason="this field is required")
    return data[key]
