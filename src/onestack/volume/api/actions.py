"""``POST /volumes/{id}/action``: one action per body, named by its only key."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from onestack.common import errors
from onestack.common.api import authorize, body, param
from onestack.common.context import RequestContext
from onestack.common.http import json_response, validate
from onestack.volume.api.helpers import both, context, svc, version
from onestack.volume.microversions import at_least
from onestack.volume.schemas import Extend
from onestack.volume.schemas.actions import (
    Bootable,
    ImageMetadataSet,
    ImageMetadataUnset,
    Readonly,
    Reimage,
    ResetStatus,
    Retype,
    Revert,
    UploadImage,
    VolumeAction,
)
from onestack.volume.views import iso

Action = Callable[[Request, RequestContext, str, Any], Awaitable[Response]]
ACTIONS: dict[str, tuple[str, Action]] = {}
VA = "volume_extension:volume_actions"


def action(name: str, rule: str) -> Callable[[Action], Action]:
    def register(fn: Action) -> Action:
        ACTIONS[name] = (rule, fn)
        return fn

    return register


@action("os-extend", "volume:extend")
async def extend(request: Request, ctx: RequestContext, volume_id: str, data: Any) -> Response:
    req = validate(Extend, data)
    attached_ok = at_least(version(request), "3.42")
    await svc(request).actions.extend(ctx, volume_id, req.new_size, attached_ok=attached_ok)
    return Response(status_code=202)


@action("os-reimage", "volume:reimage")
async def reimage(request: Request, ctx: RequestContext, volume_id: str, data: Any) -> Response:
    if not at_least(version(request), "3.68"):
        raise errors.BadRequest("There is no such action: os-reimage")
    req = validate(Reimage, data)
    if req.reimage_reserved:
        authorize(request, "volume:reimage_reserved")
    await svc(request).volumes.reimage(ctx, volume_id, req.image_id, reserved=req.reimage_reserved)
    return Response(status_code=202)


@action("os-reset_status", "volume_extension:volume_admin_actions:reset_status")
async def reset_status(
    request: Request, ctx: RequestContext, volume_id: str, data: Any
) -> Response:
    req = validate(ResetStatus, data)
    await svc(request).actions.reset_status(ctx, volume_id, req.fields)
    return Response(status_code=202)


@action("os-force_delete", "volume_extension:volume_admin_actions:force_delete")
async def force_delete(
    request: Request, ctx: RequestContext, volume_id: str, data: Any
) -> Response:
    await svc(request).volumes.delete(ctx, volume_id, force=True)
    return Response(status_code=202)


@action("os-set_bootable", "volume_extension:volume_actions:set_bootable")
async def set_bootable(
    request: Request, ctx: RequestContext, volume_id: str, data: Any
) -> Response:
    req = validate(Bootable, data)
    await svc(request).actions.set_flag(ctx, volume_id, bootable=req.bootable)
    return Response(status_code=200)


@action("os-update_readonly_flag", "volume:update_readonly_flag")
async def readonly(request: Request, ctx: RequestContext, volume_id: str, data: Any) -> Response:
    req = validate(Readonly, data)
    await svc(request).actions.set_flag(ctx, volume_id, readonly=req.readonly)
    return Response(status_code=202)


@action("os-set_image_metadata", "volume_extension:volume_image_metadata:set")
async def set_image_metadata(
    request: Request, ctx: RequestContext, volume_id: str, data: Any
) -> Response:
    req = validate(ImageMetadataSet, data)
    out = await svc(request).actions.set_image_metadata(ctx, volume_id, req.metadata)
    return json_response({"metadata": out})


@action("os-unset_image_metadata", "volume_extension:volume_image_metadata:remove")
async def unset_image_metadata(
    request: Request, ctx: RequestContext, volume_id: str, data: Any
) -> Response:
    req = validate(ImageMetadataUnset, data)
    await svc(request).actions.set_image_metadata(ctx, volume_id, None, remove=req.key)
    return Response(status_code=200)


@action("os-show_image_metadata", "volume_extension:volume_image_metadata:show")
async def show_image_metadata(
    request: Request, ctx: RequestContext, volume_id: str, data: Any
) -> Response:
    row = (await svc(request).volumes.get(ctx, volume_id)).rows[0]
    return json_response({"metadata": dict(row.image_metadata or {})})


async def volume_action(request: Request) -> Response:
    ctx = context(request)
    volume_id = param(request, "volume_id")
    envelope = await body(request, VolumeAction)
    name, args = envelope.name, envelope.args
    if name not in ACTIONS:
        raise errors.BadRequest(f"There is no such action: {name}")
    rule, fn = ACTIONS[name]
    row = (await svc(request).volumes.get(ctx, volume_id)).rows[0]
    authorize(request, rule, {"project_id": row.project_id})
    return await fn(request, ctx, volume_id, args)


@action("os-retype", "volume:retype")
async def retype(request: Request, ctx: RequestContext, volume_id: str, data: Any) -> Response:
    req = validate(Retype, data)
    await svc(request).actions.retype(ctx, volume_id, req.new_type, req.migration_policy)
    return Response(status_code=202)


@action("revert", "volume:revert_to_snapshot")
async def revert(request: Request, ctx: RequestContext, volume_id: str, data: Any) -> Response:
    if not at_least(version(request), "3.40"):
        raise errors.BadRequest("There is no such action: revert")
    req = validate(Revert, data)
    await svc(request).snapshots.revert(ctx, volume_id, req.snapshot_id)
    return Response(status_code=202)


@action("os-volume_upload_image", f"{VA}:upload_image")
async def upload_image(
    request: Request, ctx: RequestContext, volume_id: str, data: Any
) -> Response:
    req = validate(UploadImage, data)
    name, disk_format, container = req.image_name, req.disk_format, req.container_format
    force = req.force
    if req.visibility == "public":
        authorize(request, f"{VA}:upload_public")
    row, image_id = await svc(request).actions.begin_upload(
        ctx, volume_id, name, disk_format, container, force
    )
    out = {
        "id": row.id, "updated_at": iso(row.updated_at),
        "status": "uploading", "display_description": row.description, "size": row.size,
        "volume_type": None, "image_id": image_id, "container_format": container,
        "disk_format": disk_format, "image_name": name,
    }  # fmt: skip
    return json_response({"os-volume_upload_image": out}, 202)


def _old(name: str, rule: str, status: int) -> None:
    async def run(request: Request, ctx: RequestContext, volume_id: str, data: Any) -> Response:
        await svc(request).attachments.action(ctx, volume_id, name, data)
        return Response(status_code=status)

    ACTIONS[name] = (rule, run)


for _name, _rule in (
    ("os-reserve", f"{VA}:reserve"),
    ("os-unreserve", f"{VA}:unreserve"),
    ("os-begin_detaching", f"{VA}:begin_detaching"),
    ("os-roll_detaching", f"{VA}:roll_detaching"),
    ("os-attach", f"{VA}:attach"),
    ("os-detach", f"{VA}:detach"),
    ("os-force_detach", "volume_extension:volume_admin_actions:force_detach"),
):
    _old(_name, _rule, 202)


@action("os-initialize_connection", f"{VA}:initialize_connection")
async def initialize_connection(
    request: Request, ctx: RequestContext, volume_id: str, data: Any
) -> Response:
    where = await svc(request).attachments.where(volume_id)
    info = {
        "driver_volume_type": "file",
        "data": {"device_path": where["path"], "format": where["format"], "volume_id": volume_id},
    }
    return json_response({"connection_info": info})


@action("os-terminate_connection", f"{VA}:terminate_connection")
async def terminate_connection(
    request: Request, ctx: RequestContext, volume_id: str, data: Any
) -> Response:
    return Response(status_code=202)


routes = both([("/volumes/{volume_id}/action", volume_action, ["POST"])])
