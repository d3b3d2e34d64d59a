"""What every orchestration handler shares: the URL's project, the stack a path names, the
public base URL of the caller's project."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from onestack.common import errors
from onestack.common.api import ServiceHelpers, authorize, runtime_of
from onestack.common.auth import get_context
from onestack.common.context import RequestContext
from onestack.orchestration.models import Stack
from onestack.orchestration.service import StackService

kit = ServiceHelpers(StackService)
service = kit.service


def base_url(request: Request) -> str:
    project = request.path_params["project_id"]
    return f"{runtime_of(request).public_url}/orchestration/v1/{project}"


def caller(request: Request) -> RequestContext:
    """The caller, once the URL's project is its own (Heat's ``tenant_local``: 403)."""
    ctx = get_context(request)
    if request.path_params.get("project_id") != ctx.project_id:
        raise errors.Forbidden("Access was denied to this resource.")
    return ctx


def target(stack: Stack) -> dict[str, Any]:
    return {"project_id": stack.project_id, "user_id": stack.user_id}


async def stack_of(request: Request, rule: str) -> Stack:
    """The stack ``{stack_name}/{stack_id}`` names, once ``rule`` allows the caller on it."""
    ctx = caller(request)
    stack = await service(request).find(
        ctx, request.path_params["stack_name"], request.path_params["stack_id"]
    )
    authorize(request, rule, target(stack))
    return stack
