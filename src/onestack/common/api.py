"""The API toolkit every service's handlers use: one builder turns a ``ServiceSpec`` into the
service's ASGI app (routes, token check, error bodies, outer middleware such as microversion
negotiation), and a handful of per-request helpers (the caller, the policy, the services, the
path and body) so that a handler reads: parse, validate, check one rule, make one call.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from starlette.requests import Request
from starlette.types import ASGIApp

from onestack.common import errors
from onestack.common.auth import RequireToken, get_context
from onestack.common.context import RequestContext
from onestack.common.http import READING, JsonReading, M, read_json, validate
from onestack.common.middleware import ServiceErrorMiddleware
from onestack.common.routing import CandidateRouter

if TYPE_CHECKING:
    from onestack.common.runtime import Runtime, ServiceSpec

T = TypeVar("T")

READS = frozenset({"GET", "HEAD"})


@dataclass(frozen=True)
class Public:
    """Requests a service answers without a token (version discovery, token issue)."""

    pattern: str  # a regular expression matched against the path below the service prefix
    methods: frozenset[str] = READS

    def matches(self, method: str, path: str) -> bool:
        return method in self.methods and re.match(self.pattern, path) is not None


def public_matcher(public: Sequence[Public]) -> Any:
    compiled = [(p.methods, re.compile(p.pattern)) for p in public]

    def is_public(method: str, path: str) -> bool:
        return any(method in methods and rx.match(path) for methods, rx in compiled)

    return is_public


def prefix_url(runtime: Runtime, spec: ServiceSpec) -> str:
    """The service's public root, e.g. ``http://127.0.0.1:8770/compute``."""
    return f"{runtime.public_url}{spec.prefix}"


def build_service_app(spec: ServiceSpec, runtime: Runtime) -> ASGIApp:
    """The service's app below its prefix: its routes, behind the token check (but for its
    public paths), inside its error body, wrapped by its outer middleware (first outermost)."""
    router: ASGIApp = (
        spec.app(runtime)
        if spec.app is not None
        else CandidateRouter(routes=list(spec.routes(runtime)), redirect_slashes=False)
    )
    www_authenticate = spec.www_authenticate.format(url=prefix_url(runtime, spec))
    app: ASGIApp = ServiceErrorMiddleware(
        RequireToken(router, public_matcher(spec.public), scoped=spec.scoped_tokens),
        spec.error_body,
        www_authenticate,
    )
    for wrap in reversed(spec.middleware):
        app = wrap(app)
    return app


# --- per request -------------------------------------------------------------------------


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def service(request: Request, kind: type[T]) -> T:
    """The service object provided as ``kind`` (503 ``ServiceNotRunning`` when absent)."""
    return runtime_of(request).service(kind)


def authorize(request: Request, rule: str, target: dict[str, Any] | None = None) -> RequestContext:
    """The caller's context once policy ``rule`` allows it on ``target`` (401/403 if not).
    Without a target the rule sees the caller's own project and user."""
    ctx = get_context(request)
    if target is None:
        target = {"project_id": ctx.project_id, "user_id": ctx.user_id}
    runtime_of(request).enforcer.enforce(ctx, rule, target)
    return ctx


def allowed(request: Request, rule: str, target: dict[str, Any] | None = None) -> bool:
    """Whether policy ``rule`` allows the caller on ``target``; each distinct question is
    answered once per request (a list of 1,000 servers asks the same few many times)."""
    ctx = get_context(request)
    if target is None:
        target = {"project_id": ctx.project_id, "user_id": ctx.user_id}
    try:
        key: Any = (rule, frozenset(target.items()))
    except TypeError:  # unhashable values: asked every time
        key = None
    answers: dict[Any, bool] | None = getattr(request.state, "policy_answers", None)
    if answers is None:
        answers = {}
        request.state.policy_answers = answers
    if key is not None and key in answers:
        return answers[key]
    ok = runtime_of(request).enforcer.allowed(ctx, rule, target)
    if key is not None:
        answers[key] = ok
    return ok


def param(request: Request, name: str) -> str:
    """A path parameter."""
    return str(request.path_params[name])


class ServiceHelpers(Generic[T]):
    """``service()``, ``authorize()``, ``allowed()`` and ``param()`` bound to one service: its
    service-layer object and the shape of its policy rules. A service's ``api/helpers.py``
    binds one (``service, authorize, allowed = kit.service, kit.authorize, kit.allowed``) and
    adds only what is its own (Nova's links, Glance's image target, Keystone's filters).

    ``rule_prefix`` goes before every rule a handler names (Nova's ``os_compute_api:``).
    ``caller_target``: a check without a target sees the caller's own project and user (Nova,
    ``common.api.authorize``); False: an empty target (Keystone and Glance rules match only
    what the handler names)."""

    def __init__(self, kind: type[T], *, rule_prefix: str = "", caller_target: bool = True):
        self.kind = kind
        self.rule_prefix = rule_prefix
        self.caller_target = caller_target

    def _target(self, target: dict[str, Any] | None) -> dict[str, Any] | None:
        return target if target is not None or self.caller_target else {}

    def service(self, request: Request) -> T:
        return service(request, self.kind)

    def authorize(
        self, request: Request, rule: str, target: dict[str, Any] | None = None
    ) -> RequestContext:
        return authorize(request, f"{self.rule_prefix}{rule}", self._target(target))

    def allowed(self, request: Request, rule: str, target: dict[str, Any] | None = None) -> bool:
        return allowed(request, f"{self.rule_prefix}{rule}", self._target(target))

    @staticmethod
    def param(request: Request, name: str) -> str:
        return param(request, name)


MISSING = "'{key}' is a required property"  # jsonschema's wording (Nova, Glance)


def require_member(data: Any, key: str, missing: str = MISSING) -> Any:
    """``data``'s ``key`` member (APIs that wrap a body in one key): one 400 naming ``key``
    with the ``missing`` reason when ``data`` has none."""
    if not isinstance(data, dict) or key not in data:
        raise errors.ValidationError(field=key, reason=missing.format(key=key))
    return data[key]


async def member(request: Request, key: str, missing: str = MISSING) -> Any:
    """The JSON body's ``key`` member, not yet validated."""
    return require_member(await read_json(request), key, missing)


async def body(
    request: Request,
    model: type[M],
    key: str | None = None,
    missing: str = MISSING,
    *,
    context: dict[str, Any] | None = None,
    reading: JsonReading = READING,
    optional: bool = False,
    limit: int | None = None,
    checked: bool = True,
) -> M:
    """The one way to take a request body: the JSON document (its ``key`` member when the API
    wraps bodies in one) validated against the schema ``model``, one 400 naming the first bad
    field (``Invalid input for field 'name': ...``). A model that words its refusals as its
    service does raises the service's error from its validators, which passes through.

    ``context`` reaches the model's validators; ``reading`` is the service's wording for a
    body that is no JSON document; ``optional``: no body is validated as None; ``limit`` and
    ``checked`` as for ``read_json``."""
    data = await read_json(
        request, checked=checked, optional=optional, limit=limit, reading=reading
    )
    if key is not None:
        data = require_member(data, key, missing)
    return validate(model, data, context)


def int_param(request: Request, name: str, not_found: errors.NotFound | None = None) -> int:
    """A path parameter that names a row by its integer id: 404 (``not_found``, or a plain
    one) when it is not an integer a column can hold, as for an id that does not exist."""
    raw = str(request.path_params[name])
    if raw.isascii() and raw.isdigit() and len(raw) < 19:
        return int(raw)
    raise not_found or errors.NotFound(f"{name} {raw} could not be found.")


def query_int(
    request: Request,
    name: str,
    default: int | None = None,
    *,
    minimum: int = 0,
    maximum: int = 2**31 - 1,
) -> int | None:
    """An integer query parameter within [minimum, maximum]; 400 when it is not one."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise errors.BadRequest(f"{name} must be an integer, got {raw!r}.") from None
    if not minimum <= value <= maximum:
        raise errors.BadRequest(f"{name} must be between {minimum} and {maximum}, got {value}.")
    return value
