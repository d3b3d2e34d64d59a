"""Stack preview, update preview, abandon, export, snapshots and restore, resource mark
unhealthy (Heat's routes and response shapes)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from onestack.common import errors
from onestack.common.api import authorize
from onestack.common.http import empty, json_response, read_json
from onestack.orchestration import lifecycle, views
from onestack.orchestration.api.common import base_url, caller, service, stack_of
from onestack.orchestration.errors import StackValidationFailed


async def _body(request: Request) -> dict[str, object]:
    body = await read_json(request)
    if not isinstance(body, dict):
        raise StackValidationFailed(message="The request body must be a JSON object")
    return body


async def preview(request: Request) -> Response:
    """``POST /stacks/preview``: the stack and its resources as a create would make them."""
    ctx = caller(request)
    authorize(request, "stacks:preview")
    found = await lifecycle.preview(service(request), ctx, await _body(request))
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
        service(request), caller(request), stack, await _body(request), patch
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
    body = await read_json(request) if await request.body() else {}
    if not isinstance(body, dict):
        raise StackValidationFailed(message="The request body must be a JSON object")
    name = body.get("name")
    snap = await lifecycle.snapshot(service(request), stack, str(name) if name else None)
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
    body = await _body(request)
    unknown = set(body) - {"mark_unhealthy", "resource_status_reason"}
    if unknown:
        raise errors.BadRequest(f"Invalid keys in resource mark unhealthy {sorted(unknown)}")
    flag = body.get("mark_unhealthy")
    if not isinstance(flag, bool):
        raise errors.BadRequest("mark_unhealthy must be a boolean")
    reason = body.get("resource_status_reason") or ""
    await lifecycle.mark_unhealthy(
        service(request), stack, request.path_params["resource_name"], flag, str(reason)
    )
    return empty(200)
