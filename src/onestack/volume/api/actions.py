"""``POST /volumes/{id}/action``: one action per body, named by its only key."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from onestack.common import errors
from onestack.common.api import authorize, param
from onestack.common.context import RequestContext
from onestack.common.http import json_response, read_json, validate
from onestack.volume.api.helpers import both, context, svc, version
from onestack.volume.microversions import at_least
from onestack.volume.schemas import Extend
from onestack.volume.views import iso

Action = Callable[[Request, RequestContext, str, Any], Awaitable[Response]]
ACTIONS: dict[str, tuple[str, Action]] = {}
VA = "volume_extension:volume_actions"


def action(name: str, rule: str) -> Callable[[Action], Action]:
    def register(fn: Action) -> Action:
        ACTIONS[name] = (rule, fn)
        return fn

    return register


def as_bool(value: Any, field: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
        return value.lower() in ("true", "1", "yes")
    raise errors.ValidationError(field=field, reason=f"{value!r} is not a boolean")


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
    image_id = data.get("image_id") if isinstance(data, dict) else None
    if not isinstance(image_id, str) or not image_id:
        raise errors.ValidationError(field="image_id", reason="'image_id' is a required property")
    reserved = as_bool(data.get("reimage_reserved", False), "reimage_reserved")
    if reserved:
        authorize(request, "volume:reimage_reserved")
    await svc(request).volumes.reimage(ctx, volume_id, image_id, reserved=reserved)
    return Response(status_code=202)


@action("os-reset_status", "volume_extension:volume_admin_actions:reset_status")
async def reset_status(
    request: Request, ctx: RequestContext, volume_id: str, data: Any
) -> Response:
    if not isinstance(data, dict):
        raise errors.ValidationError(field="os-reset_status", reason="must be an object")
    await svc(request).actions.reset_status(ctx, volume_id, data)
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
    if not isinstance(data, dict) or "bootable" not in data:
        raise errors.ValidationError(field="bootable", reason="'bootable' is a required property")
    flag = as_bool(data["bootable"], "bootable")
    await svc(request).actions.set_flag(ctx, volume_id, bootable=flag)
    return Response(status_code=200)


@action("os-update_readonly_flag", "volume:update_readonly_flag")
async def readonly(request: Request, ctx: RequestContext, volume_id: str, data: Any) -> Response:
    if not isinstance(data, dict) or "readonly" not in data:
        raise errors.ValidationError(field="readonly", reason="'readonly' is a required property")
    flag = as_bool(data["readonly"], "readonly")
    await svc(request).actions.set_flag(ctx, volume_id, readonly=flag)
    return Response(status_code=202)


@action("os-set_image_metadata", "volume_extension:volume_image_metadata:set")
async def set_image_metadata(
    request: Request, ctx: RequestContext, volume_id: str, data: Any
) -> Response:
    meta = data.get("metadata") if isinstance(data, dict) else None
    if not isinstance(meta, dict):
        raise errors.ValidationError(field="metadata", reason="'metadata' is a required property")
    out = await svc(request).actions.set_image_metadata(
        ctx, volume_id, {str(k): str(v) for k, v in meta.items()}
    )
    return json_response({"metadata": out})


@action("os-unset_image_metadata", "volume_extension:volume_image_metadata:remove")
async def unset_image_metadata(
    request: Request, ctx: RequestContext, volume_id: str, data: Any
) -> Response:
    key = data.get("key") if isinstance(data, dict) else None
    if not isinstance(key, str):
        raise errors.ValidationError(field="key", reason="'key' is a required property")
    await svc(request).actions.set_image_metadata(ctx, volume_id, None, remove=key)
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
    data = await read_json(request)
    if not isinstance(data, dict) or len(data) != 1:
        raise errors.BadRequest("There is no such action: the body must name one action.")
    ((name, args),) = data.items()
    if name not in ACTIONS:
        raise errors.BadRequest(f"There is no such action: {name}")
    rule, fn = ACTIONS[name]
    row = (await svc(request).volumes.get(ctx, volume_id)).rows[0]
    authorize(request, rule, {"project_id": row.project_id})
    return await fn(request, ctx, volume_id, args)


@action("os-retype", "volume:retype")
async def retype(request: Request, ctx: RequestContext, volume_id: str, data: Any) -> Response:
    new_type = data.get("new_type") if isinstance(data, dict) else None
    if not isinstance(new_type, str):
        raise errors.ValidationError(field="new_type", reason="'new_type' is required")
    policy = data.get("migration_policy", "never")
    if policy not in ("never", "on-demand"):
        raise errors.ValidationError(field="migration_policy", reason="never or on-demand")
    await svc(request).actions.retype(ctx, volume_id, new_type, policy)
    return Response(status_code=202)


@action("revert", "volume:revert_to_snapshot")
async def revert(request: Request, ctx: RequestContext, volume_id: str, data: Any) -> Response:
    if not at_least(version(request), "3.40"):
        raise errors.BadRequest("There is no such action: revert")
    snap = data.get("snapshot_id") if isinstance(data, dict) else None
    if not isinstance(snap, str):
        raise errors.ValidationError(field="snapshot_id", reason="'snapshot_id' is required")
    await svc(request).snapshots.revert(ctx, volume_id, snap)
    return Response(status_code=202)


@action("os-volume_upload_image", f"{VA}:upload_image")
async def upload_image(
    request: Request, ctx: RequestContext, volume_id: str, data: Any
) -> Response:
    data = data if isinstance(data, dict) else {}
    name = data.get("image_name")
    if not isinstance(name, str) or not name:
        raise errors.ValidationError(field="image_name", reason="'image_name' is required")
    disk_format = data.get("disk_format", "raw")
    if disk_format not in ("raw", "qcow2"):
        raise errors.BadRequest(
            f"Invalid disk-format '{disk_format}' is specified. Allowed disk-formats are "
            "raw, qcow2."
        )
    container = data.get("container_format", "bare")
    force = as_bool(data.get("force", False), "force")
    if data.get("visibility") == "public":
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
