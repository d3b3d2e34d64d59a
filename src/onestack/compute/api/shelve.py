"""The shelve actions (``shelve``, ``shelveOffload``, ``unshelve``)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from onestack.common.context import RequestContext
from onestack.common.http import empty
from onestack.compute import server_schemas as schemas
from onestack.compute.api.helpers import service, valid_member
from onestack.compute.api.server_actions import EXTRA_ACTIONS


async def shelve(request: Request, ctx: RequestContext, uuid: str, body: Any) -> Response:
    await service(request).shelve.shelve(ctx, uuid)
    return empty(202)


async def shelve_offload(request: Request, ctx: RequestContext, uuid: str, body: Any) -> Response:
    await service(request).shelve.shelve_offload(ctx, uuid)
    return empty(202)


async def unshelve(request: Request, ctx: RequestContext, uuid: str, body: Any) -> Response:
    valid_member(request, schemas.Unshelve, body)
    await service(request).shelve.unshelve(ctx, uuid)
    return empty(202)


EXTRA_ACTIONS.update(
    {
        "shelve": (shelve, "os-shelve:shelve"),
        "shelveOffload": (shelve_offload, "os-shelve:shelve_offload"),
        "unshelve": (unshelve, "os-shelve:unshelve"),
    }
)
