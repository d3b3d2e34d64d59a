"""What every compute handler needs: the service, the caller, the version, the policy."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from onestack.common import api, errors
from onestack.common.auth import get_context
from onestack.common.context import RequestContext
from onestack.common.http import read_json
from onestack.common.microversion import APIVersion

if TYPE_CHECKING:
    from onestack.compute.service import ComputeService

P = "os_compute_api"


def service(request: Request) -> ComputeService:
    from onestack.compute.service import ComputeService

    return api.service(request, ComputeService)


def version(request: Request) -> APIVersion:
    v: APIVersion = request.scope["state"]["api_version"]
    return v


def at_least(request: Request, minor: int) -> bool:
    """True when the request's microversion is 2.``minor`` or newer."""
    return version(request) >= APIVersion(2, minor)


def authorize(request: Request, rule: str, target: dict[str, Any] | None = None) -> RequestContext:
    """Check ``os_compute_api:<rule>`` against ``target`` (default: the caller's project)."""
    ctx = get_context(request)
    if target is None:
        target = {"project_id": ctx.project_id, "user_id": ctx.user_id}
    request.app.state.runtime.enforcer.enforce(ctx, f"{P}:{rule}", target)
    return ctx


def allowed(request: Request, rule: str, target: dict[str, Any] | None = None) -> bool:
    ctx = get_context(request)
    if target is None:
        target = {"project_id": ctx.project_id, "user_id": ctx.user_id}
    # A server list asks the same few questions for each of its servers (their project and
    # user): each answered once per request (a tenth of the views of 1,000 servers).
    try:
        key = (rule, frozenset(target.items()))
    except TypeError:  # a target with unhashable values: asked every time
        key = None
    answers: dict[Any, bool] | None = getattr(request.state, "policy_answers", None)
    if answers is None:
        answers = {}
        request.state.policy_answers = answers
    if key is not None and key in answers:
        return answers[key]
    ok: bool = request.app.state.runtime.enforcer.allowed(ctx, f"{P}:{rule}", target)
    if key is not None:
        answers[key] = ok
    return ok


async def body_of(request: Request, key: str) -> Any:
    """The request's JSON body's ``key`` member (Nova wraps every body in one key)."""
    data = await read_json(request)
    if not isinstance(data, dict) or key not in data:
        raise errors.ValidationError(field=key, reason=f"'{key}' is a required property")
    return data[key]


def href(request: Request, *parts: str) -> str:
    """A self link under the compute endpoint (``/compute/v2.1/...``)."""
    base = request.app.state.runtime.public_url
    return "/".join([f"{base}/compute/v2.1", *parts])


def bookmark(request: Request, *parts: str) -> str:
    base = request.app.state.runtime.public_url
    return "/".join([f"{base}/compute", *parts])


def links(request: Request, collection: str, item_id: str) -> list[dict[str, str]]:
    return [
        {"rel": "self", "href": href(request, collection, item_id)},
        {"rel": "bookmark", "href": bookmark(request, collection, item_id)},
    ]
