"""What every image handler needs: the service, policy checks with Glance's targets."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from onestack.common import api
from onestack.common.auth import get_context
from onestack.common.context import RequestContext
from onestack.image.service import ImageRecord, ImageService


def service(request: Request) -> ImageService:
    return api.service(request, ImageService)


def authorize(
    request: Request, action: str, target: dict[str, Any] | None = None
) -> RequestContext:
    """The caller's context, once policy ``action`` allows it on ``target`` (401/403 if not)."""
    ctx = get_context(request)
    request.app.state.runtime.enforcer.enforce(ctx, action, target or {})
    return ctx


def image_target(ctx: RequestContext, rec: ImageRecord) -> dict[str, Any]:
    """Glance's target for an image: ``member_id`` is the caller's project when it is a
    member of the image (so member-only rules can match it)."""
    return rec.policy_target(ctx.project_id if rec.caller_is_member else None)


async def visible_image(request: Request, action: str) -> tuple[RequestContext, ImageRecord]:
    """The path's image as the caller may see it (404 otherwise), once ``action`` allows it."""
    ctx = get_context(request)
    rec = await service(request).images.get(ctx, param(request, "image_id"))
    request.app.state.runtime.enforcer.enforce(ctx, action, image_target(ctx, rec))
    return ctx, rec


def param(request: Request, name: str) -> str:
    return str(request.path_params[name])
