"""What every compute handler needs: the service, the caller, the version, the policy (the
``os_compute_api:`` rules, through ``common.api``), the path, and Nova's links."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from onestack.common import api, errors
from onestack.common.api import param
from onestack.common.context import RequestContext
from onestack.common.http import read_json
from onestack.common.microversion import APIVersion

if TYPE_CHECKING:
    from onestack.compute.service import ComputeService

P = "os_compute_api"

__all__ = [
    "allowed",
    "at_least",
    "authorize",
    "body_of",
    "bookmark",
    "href",
    "links",
    "param",
    "service",
    "version",
]


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
    """``common.api.authorize`` of ``os_compute_api:<rule>`` (default target: the caller's
    project)."""
    return api.authorize(request, f"{P}:{rule}", target)


def allowed(request: Request, rule: str, target: dict[str, Any] | None = None) -> bool:
    """``common.api.allowed`` of ``os_compute_api:<rule>``, answered once per request and
    target (a server list asks the same few questions for each of its servers)."""
    return api.allowed(request, f"{P}:{rule}", target)


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
