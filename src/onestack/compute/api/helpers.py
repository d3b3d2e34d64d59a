"""What every compute handler needs: the service, the caller, the version, the policy (the
``os_compute_api:`` rules, through ``common.api``), the path, and Nova's links."""

from __future__ import annotations

from typing import Any, TypeVar

from starlette.requests import Request

from onestack.common import api
from onestack.common.api import param
from onestack.common.http import validate
from onestack.common.microversion import APIVersion
from onestack.compute.service import ComputeService
from onestack.compute.validation import NovaBody

B = TypeVar("B", bound=NovaBody)

P = "os_compute_api"

__all__ = [
    "allowed",
    "at_least",
    "authorize",
    "bookmark",
    "context",
    "href",
    "links",
    "param",
    "service",
    "valid_body",
    "valid_member",
    "version",
    "versioned",
]


kit = api.ServiceHelpers(ComputeService, rule_prefix=f"{P}:")
service = kit.service
# ``common.api.authorize``/``allowed`` of ``os_compute_api:<rule>`` (default target: the
# caller's project), each question answered once per request.
authorize = kit.authorize
allowed = kit.allowed


def version(request: Request) -> APIVersion:
    v: APIVersion = request.scope["state"]["api_version"]
    return v


def at_least(request: Request, minor: int) -> bool:
    """True when the request's microversion is 2.``minor`` or newer."""
    return version(request) >= APIVersion(2, minor)


async def valid_body(request: Request, model: type[B]) -> B:
    """The request's body, unwrapped from its key and validated against its declared schema
    (``compute.schemas``) with Nova's wording, through ``common.api.body``."""
    return await api.body(request, model, model.wrapper, context=context(request))


def valid_member(request: Request, model: type[B], member: Any) -> B:
    """An action's member (the dispatcher took the body through ``common.api.body``)
    validated against its declared schema for the request's microversion."""
    return validate(model, member, context(request))


def context(request: Request) -> dict[str, Any]:
    """What a body's checks see: the request's microversion (``validation.Since``)."""
    return {"version": version(request)}


def versioned(request: Request, *bodies: tuple[int, type[B]]) -> type[B]:
    """The schema for the request's microversion: the first of ``bodies`` (each with the
    minor version 2.x it starts at, newest first) the request reaches, as Nova picks one."""
    return next(body for since, body in bodies if at_least(request, since))


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
