"""The server a sub-resource request names, checked against the caller and a policy rule."""

from __future__ import annotations

from starlette.requests import Request

from onestack.common import errors
from onestack.common.auth import get_context
from onestack.common.context import RequestContext
from onestack.compute import models
from onestack.compute.api.helpers import at_least, authorize, param, service


async def server_row(request: Request, rule: str) -> tuple[RequestContext, models.Instance]:
    """The live server ``{server_id}`` if the caller may see it (404 otherwise, as Nova hides
    other projects' servers), after ``os_compute_api:<rule>`` on its project."""
    ctx = get_context(request)
    row = await service(request).servers.visible_row(ctx, param(request, "server_id"))
    authorize(request, rule, {"project_id": row.project_id, "user_id": row.user_id})
    return ctx, row


def require_version(request: Request, minor: int) -> None:
    """404, as Nova answers for a route of a newer microversion than the request's."""
    if not at_least(request, minor):
        raise errors.NotFound("The resource could not be found.")
