"""Token authentication for every API: ``X-Auth-Token`` to a ``RequestContext``.

The identity service provides the validator (its token format is its own business); every
other service only sees the ``TokenValidator`` protocol. Validation reads no database.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from onestack.common import errors
from onestack.common.context import RequestContext


class TokenValidator(Protocol):
    def validate(self, token: str, request_id: str) -> RequestContext:
        """Return the token's context or raise ``errors.Unauthorized``."""
        ...


def request_id(request: Request) -> str:
    return str(request.scope.get("state", {}).get("request_id", "-"))


def get_context(request: Request) -> RequestContext:
    """The caller's context; validates ``X-Auth-Token`` once per request (401 without one)."""
    state = request.scope.setdefault("state", {})
    ctx = state.get("context")
    if ctx is not None:
        return ctx  # type: ignore[no-any-return]
    token = request.headers.get("x-auth-token")
    if not token:
        raise errors.Unauthorized()
    validator: TokenValidator = request.app.state.runtime.token_validator
    ctx = validator.validate(token, request_id(request))
    state["context"] = ctx
    return ctx


def route_path(scope: Scope) -> str:
    """The path below the service's mount point."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


class RequireToken:
    """401 before any handler runs unless the route is public (``public(method, path)``).
    With ``scoped``, an unscoped token is refused too (401), as services behind Keystone
    refuse a token that names no project, domain or system."""

    def __init__(
        self, app: ASGIApp, public: Callable[[str, str], bool], *, scoped: bool = False
    ) -> None:
        self.app = app
        self.public = public
        self.scoped = scoped

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self.public(scope["method"], route_path(scope)):
            ctx = get_context(Request(scope))
            if self.scoped and ctx.scope is None:
                raise errors.Unauthorized("The request you have made requires a scoped token.")
        await self.app(scope, receive, send)
