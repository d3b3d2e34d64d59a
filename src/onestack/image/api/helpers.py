"""What every image handler needs: the service, policy checks with Glance's targets."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from onestack.common import api
from onestack.common.auth import get_context
from onestack.common.context import RequestContext
from onestack.image.service import ImageRecord, ImageService

kit = api.ServiceHelpers(ImageService, caller_target=False)
service = kit.service
authorize = kit.authorize  # without a target: an empty one, as Glance's
param = api.param


def image_target(ctx: RequestContext, rec: ImageRecord) -> dict[str, Any]:
    """Glance's target for an image: ``member_id`` is the caller's project when it is a
    member of the image (so member-only rules can match it)."""
    return rec.policy_target(ctx.project_id if rec.caller_is_member else None)


async def visible_image(request: Request, action: str) -> tuple[RequestContext, ImageRecord]:
    """The path's image as the caller may see it (404 otherwise), once ``action`` allows it."""
    ctx = get_context(request)
    rec = await service(request).images.get(ctx, param(request, "image_id"))
    authorize(request, action, image_target(ctx, rec))
    return ctx, rec
