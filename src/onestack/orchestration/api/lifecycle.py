"""Stack preview, update preview, abandon, export, snapshots and restore, resource mark
unhealthy (Heat's routes and response shapes)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from onestack.common.api import authorize, body
from onestack.common.http import empty, json_response
from onestack.orchestration import lifecycle, views
from onestack.orchestration.api.common import base_url, caller, service, stack_of
from onestack.orchestration.schemas import MarkUnhealthy, SnapshotCreate, StackBody, StackCreate


async def preview(request: Request) -> Response:
    """``POST /stacks/preview``: the stack and its resources as a create would make them."""
    ctx = caller(request)
    authorize(request, "stacks:preview")
    found = await lifecycle.preview(service(request), ctx, await body(request, StackCreate))
    stack = found["stack"]
    out = views.stack_detail(base_url(request), stack, None)
    out["resources"] = found["resources"]
    return json_response({"stack": out})


async def preview_update(request: Request) -> Response:
    """``PUT``/``PATCH .../preview``: what an update would do to each resource."""
    patch = request.method == "PATCH"
    stack = await stack_of(
        request, "stacks:preview_update_patch" if patch else "stacks:preview_update"
    )
    changes = await lifecycle.preview_update(
        service(request), caller(request), stack, await body(request, StackBody), patch
    )
    return json_response({"resource_changes": changes})


async def abandon(request: Request) -> Response:
    stack = await stack_of(request, "stacks:abandon")
    return json_response(await lifecycle.abandon(service(request), stack))


async def export(request: Request) -> Response:
    stack = await stack_of(request, "stacks:export")
    return json_response(await lifecycle.export(service(request), stack))


async def snapshot(request: Request) -> Response:
    stack = await stack_of(request, "stacks:snapshot")
    name = (await body(request, SnapshotCreate, optional=True)).name
    snap = await lifecycle.snapshot(service(request), stack, name)
    return json_response(lifecycle.snapshot_view(snap))


async def snapshots(request: Request) -> Response:
    stack = await stack_of(request, "stacks:list_snapshots")
    found = await lifecycle.snapshots(service(request), stack)
    return json_response({"snapshots": [lifecycle.snapshot_view(s) for s in found]})


async def show_snapshot(request: Request) -> Response:
    stack = await stack_of(request, "stacks:show_snapshot")
    snap = await lifecycle.get_snapshot(service(request), stack, request.path_params["snapshot_id"])
    return json_response({"snapshot": lifecycle.snapshot_view(snap)})


async def delete_snapshot(request: Request) -> Response:
    stack = await stack_of(request, "stacks:delete_snapshot")
    await lifecycle.delete_snapshot(service(request), stack, request.path_params["snapshot_id"])
    return empty()


async def restore(request: Request) -> Response:
    stack = await stack_of(request, "stacks:restore_snapshot")
    await lifecycle.restore(service(request), stack, request.path_params["snapshot_id"])
    return empty(202)


async def mark_unhealthy(request: Request) -> Response:
    """``PATCH .../resources/{name}`` ``{"mark_unhealthy": bool, "resource_status_reason"}``."""
    stack = await stack_of(request, "resource:mark_unhealthy")
    mark = await body(request, MarkUnhealthy)
    await lifecycle.mark_unhealthy(
        service(request), stack, request.path_params["resource_name"], mark.mark_unhealthy,
        mark.resource_status_reason,
    )  # fmt: skip
    return empty(200)
