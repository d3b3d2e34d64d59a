"""Server actions (``POST /servers/{id}/action``): each checks its body, and the dispatcher
checks the action's policy rule on the server before one call into the service layer."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common import errors
from onestack.common.context import RequestContext
from onestack.common.http import INT_RANGE, empty, json_response, read_json
from onestack.compute import validation, views
from onestack.compute.api import server_bodies as bodies
from onestack.compute.api.helpers import allowed, at_least, authorize, param, service
from onestack.compute.service.actions import Backup, RebuildRequest
from onestack.compute.states import ACTIVE
from onestack.compute.validation import invalid

ActionHandler = Callable[[Request, RequestContext, str, Any], Awaitable[Response]]


async def _target(request: Request, uuid: str) -> tuple[RequestContext, dict[str, str]]:
    ctx = authorize(request, "servers:show")
    row = await service(request).servers.visible_row(ctx, uuid)
    return ctx, {"project_id": row.project_id, "user_id": row.user_id}


def _power(op: str, rule: str) -> ActionHandler:
    async def handler(request: Request, ctx: RequestContext, uuid: str, body: Any) -> Response:
        await service(request).actions.power(ctx, uuid, op)
        return empty(202)

    handler.rule = rule  # type: ignore[attr-defined]
    return handler


async def reboot(request: Request, ctx: RequestContext, uuid: str, body: Any) -> Response:
    kind = body.get("type") if isinstance(body, dict) else None
    if not isinstance(kind, str) or kind.upper() not in ("SOFT", "HARD"):
        raise invalid(
            "reboot.type",
            f"{kind!r} is not one of ['HARD', 'Hard', 'hard', 'SOFT', 'Soft', 'soft']",
        )
    op = "reboot_hard" if kind.upper() == "HARD" else "reboot_soft"
    await service(request).actions.power(ctx, uuid, op)
    return empty(202)


async def lock(request: Request, ctx: RequestContext, uuid: str, body: Any) -> Response:
    reason = None
    if isinstance(body, dict) and "locked_reason" in body:
        if not at_least(request, 73):
            raise invalid("lock", "Additional properties are not allowed")
        reason = bodies.string(body, "locked_reason", empty_ok=True)
    await service(request).actions.lock(ctx, uuid, reason)
    return empty(202)


async def unlock(request: Request, ctx: RequestContext, uuid: str, body: Any) -> Response:
    may = allowed(request, "os-lock-server:unlock:unlock_override")
    await service(request).actions.unlock(ctx, uuid, may_override=may)
    return empty(202)


async def resize(request: Request, ctx: RequestContext, uuid: str, body: Any) -> Response:
    if not isinstance(body, dict) or "flavorRef" not in body:
        raise invalid("resize", "'flavorRef' is a required property")
    disk_config = validation.disk_config(body)
    await service(request).actions.resize(ctx, uuid, str(body["flavorRef"]), disk_config)
    return empty(202)


async def confirm_resize(request: Request, ctx: RequestContext, uuid: str, body: Any) -> Response:
    await service(request).actions.confirm_resize(ctx, uuid)
    return empty(204)


async def revert_resize(request: Request, ctx: RequestContext, uuid: str, body: Any) -> Response:
    await service(request).actions.revert_resize(ctx, uuid)
    return empty(202)


async def rebuild(request: Request, ctx: RequestContext, uuid: str, body: Any) -> Response:
    srv = await service(request).actions.rebuild(ctx, uuid, rebuild_request(request, body))
    out = views.changed(request, srv, rebuild=True)
    # Nova answers a password either way (enable_instance_password), made up when none given.
    out["adminPass"] = body.get("adminPass") or secrets.token_urlsafe(9)
    return json_response({"server": out}, 202)


def rebuild_request(request: Request, body: Any) -> RebuildRequest:
    if not isinstance(body, dict) or not body.get("imageRef"):
        raise invalid("rebuild", "'imageRef' is a required property")
    changes: dict[str, Any] = {}
    if "name" in body:
        changes["display_name"] = bodies.string(body, "name")
    if "description" in body and at_least(request, 19):
        changes["display_description"] = body["description"]
    if "user_data" in body and at_least(request, 57):
        changes["user_data"] = (
            None if body["user_data"] is None else bodies.user_data(body["user_data"])
        )
    if "hostname" in body and at_least(request, 90):
        changes["hostname"] = bodies.string(body, "hostname", bodies.hostname_max(request))
    for key, col in (("accessIPv4", "access_ip_v4"), ("accessIPv6", "access_ip_v6")):
        if key in body:
            changes[col] = validation.access_ip(body, key)
    new_key = "key_name" in body and at_least(request, 54)
    return RebuildRequest(
        image_ref=str(body["imageRef"]),
        changes=changes,
        new_key=new_key,
        key_name=None if not new_key or body["key_name"] is None else str(body["key_name"]),
        disk_config=validation.disk_config(body),
        files=bodies.personality(request, body) if "personality" in body else None,
        metadata=bodies.metadata(body["metadata"]) if "metadata" in body else None,
        reimage=at_least(request, 93),
    )


async def create_image(request: Request, ctx: RequestContext, uuid: str, body: Any) -> Response:
    if not isinstance(body, dict) or "name" not in body:
        raise invalid("createImage", "'name' is a required property")
    name = bodies.string(body, "name")
    metadata = bodies.metadata(body.get("metadata", {}))
    image_id = await service(request).actions.create_image(ctx, uuid, name, metadata)
    if at_least(request, 45):
        return json_response({"image_id": image_id}, 202)
    base = request.app.state.runtime.public_url
    return empty(202, {"Location": f"{base}/image/v2/images/{image_id}"})


async def trigger_crash_dump(
    request: Request, ctx: RequestContext, uuid: str, body: Any
) -> Response:
    if not at_least(request, 17):  # the action is new in 2.17: before, Nova knows no such route
        raise errors.NotFound("The resource could not be found.")
    if body is not None:
        raise invalid("trigger_crash_dump", f"{body!r} is not of type 'null'")
    await service(request).actions.trigger_crash_dump(ctx, uuid)
    return empty(202)


async def rescue(request: Request, ctx: RequestContext, uuid: str, body: Any) -> Response:
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise invalid("rescue", f"{body!r} is not of type 'object', 'null'")
    extra = sorted(set(body) - {"adminPass", "rescue_image_ref"})
    if extra:
        raise bodies.unexpected(extra[0], "rescue")
    password = body.get("adminPass")
    if password is not None and not isinstance(password, str):
        raise invalid("adminPass", f"{password!r} is not of type 'string'")
    ref = body.get("rescue_image_ref")
    if ref is not None and not isinstance(ref, str):
        raise invalid("rescue_image_ref", f"{ref!r} is not of type 'string'")
    await service(request).actions.rescue(ctx, uuid, ref or None)
    # Nova answers the rescue system's password (enable_instance_password), made up when none.
    return json_response({"adminPass": password or secrets.token_urlsafe(9)}, 200)


async def unrescue(request: Request, ctx: RequestContext, uuid: str, body: Any) -> Response:
    await service(request).actions.unrescue(ctx, uuid)
    return empty(202)


async def create_backup(request: Request, ctx: RequestContext, uuid: str, body: Any) -> Response:
    if not isinstance(body, dict):
        raise invalid("createBackup", f"{body!r} is not of type 'object'")
    for key in ("name", "backup_type", "rotation"):
        if key not in body:
            raise invalid("createBackup", f"'{key}' is a required property")
    extra = sorted(set(body) - {"name", "backup_type", "rotation", "metadata"})
    if extra:
        raise bodies.unexpected(extra[0], "createBackup")
    name = bodies.string(body, "name")
    if not isinstance(body["backup_type"], str):
        raise invalid("backup_type", f"{body['backup_type']!r} is not of type 'string'")
    rotation = body["rotation"]
    # Nova's non_negative_integer: an integer, or a string of digits.
    if isinstance(rotation, str) and rotation.isdigit():
        rotation = int(rotation)
    if isinstance(rotation, bool) or not isinstance(rotation, int) or rotation < 0:
        raise invalid("rotation", f"{body['rotation']!r} is not a non-negative integer")
    if rotation >= INT_RANGE:
        raise invalid("rotation", f"{rotation} is greater than the maximum of {INT_RANGE - 1}")
    metadata = bodies.metadata(body.get("metadata", {}))
    backup = Backup(type=body["backup_type"], rotation=rotation)
    image_id = await service(request).actions.create_image(ctx, uuid, name, metadata, backup)
    if at_least(request, 45):
        return json_response({"image_id": image_id}, 202)
    if rotation == 0:  # Nova names no image that its own rotation deletes at once
        return empty(202)
    base = request.app.state.runtime.public_url
    return empty(202, {"Location": f"{base}/image/v2/images/{image_id}"})


async def console_output(request: Request, ctx: RequestContext, uuid: str, body: Any) -> Response:
    length = body.get("length") if isinstance(body, dict) else None
    if length is not None:
        try:
            length = int(length)
        except (TypeError, ValueError):
            raise invalid("length", f"{length!r} is not of type 'integer'") from None
        if length < -1:
            raise invalid("length", f"{length} is less than the minimum of -1")
        if length >= INT_RANGE:
            raise invalid("length", f"{length} is greater than the maximum of {INT_RANGE - 1}")
        if length == -1:
            length = None
    answer = await service(request).actions.ask(
        ctx,
        uuid,
        "console_output",
        "get_console_output",
        ("active", "stopped", "paused", "suspended", "resized", "error", "rescued"),
        length=length,
    )
    return json_response({"output": answer.get("output", "")})


def _security_group(add: bool) -> ActionHandler:
    async def handler(request: Request, ctx: RequestContext, uuid: str, body: Any) -> Response:
        name = body.get("name") if isinstance(body, dict) else None
        if not isinstance(name, str) or not name:
            raise invalid("name", "'name' is a required property")
        await service(request).actions.security_group(ctx, uuid, name, add)
        return empty(202)

    handler.rule = "os-security-groups:add" if add else "os-security-groups:remove"  # type: ignore[attr-defined]
    return handler


async def force_delete(request: Request, ctx: RequestContext, uuid: str, body: Any) -> Response:
    await service(request).actions.delete(ctx, uuid, force=True)
    return empty(202)


def _single_host(action: str) -> ActionHandler:
    async def handler(request: Request, ctx: RequestContext, uuid: str, body: Any) -> Response:
        await service(request).actions.single_host_only(ctx, uuid, action)
        return empty(202)

    return handler


async def reset_state(request: Request, ctx: RequestContext, uuid: str, body: Any) -> Response:
    state = body.get("state") if isinstance(body, dict) else None
    if state not in ("active", "error"):
        raise invalid("state", f"{state!r} is not one of ['active', 'error']")
    await service(request).actions.reset_state(ctx, uuid, state)
    return empty(202)


async def restore(request: Request, ctx: RequestContext, uuid: str, body: Any) -> Response:
    # Deletes are never deferred here (Nova's reclaim_instance_interval of 0): no server is
    # ever soft-deleted, so none can be restored.
    await service(request).actions.restore(ctx, uuid)
    return empty(202)


async def inject_network_info(
    request: Request, ctx: RequestContext, uuid: str, body: Any
) -> Response:
    # Guests take their network settings from DHCP and the metadata service: nothing to push.
    return empty(202)


async def change_password(request: Request, ctx: RequestContext, uuid: str, body: Any) -> Response:
    """Through the guest agent (hw_qemu_guest_agent=yes); Nova's 409 without one."""
    if not isinstance(body, dict) or "adminPass" not in body:
        raise invalid("changePassword", "'adminPass' is a required property")
    if not isinstance(body["adminPass"], str):
        raise invalid("adminPass", f"{body['adminPass']!r} is not of type 'string'")
    answer = await service(request).actions.ask(
        ctx, uuid, "set_admin_password", "changePassword", (ACTIVE,),
        password=body["adminPass"],
    )  # fmt: skip
    if answer.get("error"):
        raise errors.Conflict(str(answer["error"]))
    return empty(202)


# action key: (handler, policy rule)
ACTIONS: dict[str, tuple[ActionHandler, str]] = {
    "os-start": (_power("start", ""), "servers:start"),
    "os-stop": (_power("stop", ""), "servers:stop"),
    "reboot": (reboot, "servers:reboot"),
    "pause": (_power("pause", ""), "os-pause-server:pause"),
    "unpause": (_power("unpause", ""), "os-pause-server:unpause"),
    "suspend": (_power("suspend", ""), "os-suspend-server:suspend"),
    "resume": (_power("resume", ""), "os-suspend-server:resume"),
    "lock": (lock, "os-lock-server:lock"),
    "unlock": (unlock, "os-lock-server:unlock"),
    "resize": (resize, "servers:resize"),
    "confirmResize": (confirm_resize, "servers:confirm_resize"),
    "revertResize": (revert_resize, "servers:revert_resize"),
    "rebuild": (rebuild, "servers:rebuild"),
    "createImage": (create_image, "servers:create_image"),
    "createBackup": (create_backup, "os-create-backup"),
    "os-getConsoleOutput": (console_output, "os-console-output"),
    "addSecurityGroup": (_security_group(True), "os-security-groups:add"),
    "removeSecurityGroup": (_security_group(False), "os-security-groups:remove"),
    "forceDelete": (force_delete, "servers:delete"),
    "migrate": (_single_host("migrate"), "os-migrate-server:migrate"),
    "os-migrateLive": (_single_host("live-migrate"), "os-migrate-server:migrate_live"),
    "evacuate": (_single_host("evacuate"), "os-evacuate"),
    "os-resetState": (reset_state, "os-admin-actions:reset_state"),
    "injectNetworkInfo": (inject_network_info, "os-admin-actions:inject_network_info"),
    "restore": (restore, "os-deferred-delete:restore"),
    "changePassword": (change_password, "os-admin-password"),
    "rescue": (rescue, "os-rescue"),
    "unrescue": (unrescue, "os-unrescue"),
    "trigger_crash_dump": (trigger_crash_dump, "servers:trigger_crash_dump"),
}
# Other modules (consoles, shelve) add theirs here.
EXTRA_ACTIONS: dict[str, tuple[ActionHandler, str]] = {}


async def action(request: Request) -> Response:
    uuid = param(request, "server_id")
    data = await read_json(request)
    if not isinstance(data, dict) or len(data) != 1:
        raise errors.BadRequest("There is either no action or more than one action in the body.")
    ((name, body),) = data.items()
    entry = ACTIONS.get(name) or EXTRA_ACTIONS.get(name)
    if entry is None:
        raise errors.BadRequest(f"There is no such action: {name}")
    handler, rule = entry
    ctx, target = await _target(request, uuid)
    authorize(request, rule, target)
    return await handler(request, ctx, uuid, body)


routes = [Route("/servers/{server_id}/action", action, methods=["POST"])]
