"""Server actions (``POST /servers/{id}/action``): the dispatcher takes the body through
``common.api.body`` (one action, ``server_schemas.ServerAction``) and checks the action's policy
rule on the server; the action validates its member against its declared schema
(``server_schemas``) and makes one call into the service layer."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common import api, errors
from onestack.common.context import RequestContext
from onestack.common.http import empty, json_response
from onestack.compute import server_schemas as schemas
from onestack.compute import views
from onestack.compute.api.helpers import (
    allowed,
    at_least,
    authorize,
    param,
    service,
    valid_member,
)
from onestack.compute.service.actions import Backup, RebuildRequest
from onestack.compute.states import ACTIVE

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
    kind = valid_member(request, schemas.Reboot, body).type
    op = "reboot_hard" if kind == "HARD" else "reboot_soft"
    await service(request).actions.power(ctx, uuid, op)
    return empty(202)


async def lock(request: Request, ctx: RequestContext, uuid: str, body: Any) -> Response:
    reason = valid_member(request, schemas.Lock, body).locked_reason
    await service(request).actions.lock(ctx, uuid, reason)
    return empty(202)


async def unlock(request: Request, ctx: RequestContext, uuid: str, body: Any) -> Response:
    may = allowed(request, "os-lock-server:unlock:unlock_override")
    await service(request).actions.unlock(ctx, uuid, may_override=may)
    return empty(202)


async def resize(request: Request, ctx: RequestContext, uuid: str, body: Any) -> Response:
    req = valid_member(request, schemas.Resize, body)
    await service(request).actions.resize(ctx, uuid, req.flavor_ref, req.disk_config)
    return empty(202)


async def confirm_resize(request: Request, ctx: RequestContext, uuid: str, body: Any) -> Response:
    await service(request).actions.confirm_resize(ctx, uuid)
    return empty(204)


async def revert_resize(request: Request, ctx: RequestContext, uuid: str, body: Any) -> Response:
    await service(request).actions.revert_resize(ctx, uuid)
    return empty(202)


async def rebuild(request: Request, ctx: RequestContext, uuid: str, body: Any) -> Response:
    req = valid_member(request, schemas.Rebuild, body)
    srv = await service(request).actions.rebuild(ctx, uuid, rebuild_request(request, req))
    out = views.changed(request, srv, rebuild=True)
    # Nova answers a password either way (enable_instance_password), made up when none given.
    out["adminPass"] = req.admin_pass or secrets.token_urlsafe(9)
    return json_response({"server": out}, 202)


REBUILT = {
    "name": "display_name",
    "description": "display_description",
    "user_data": "user_data",
    "hostname": "hostname",
    "access_ip_v4": "access_ip_v4",
    "access_ip_v6": "access_ip_v6",
}


def rebuild_request(request: Request, req: schemas.Rebuild) -> RebuildRequest:
    sent = req.model_fields_set
    new_key = "key_name" in sent
    return RebuildRequest(
        image_ref=req.image_ref,
        changes={col: getattr(req, name) for name, col in REBUILT.items() if name in sent},
        new_key=new_key,
        key_name=None if not new_key or req.key_name is None else str(req.key_name),
        disk_config=req.disk_config,
        files=req.files,
        metadata=req.metadata,
        reimage=at_least(request, 93),
    )


async def create_image(request: Request, ctx: RequestContext, uuid: str, body: Any) -> Response:
    req = valid_member(request, schemas.CreateImage, body)
    image_id = await service(request).actions.create_image(ctx, uuid, req.name, req.metadata)
    if at_least(request, 45):
        return json_response({"image_id": image_id}, 202)
    base = request.app.state.runtime.public_url
    return empty(202, {"Location": f"{base}/image/v2/images/{image_id}"})


async def trigger_crash_dump(
    request: Request, ctx: RequestContext, uuid: str, body: Any
) -> Response:
    if not at_least(request, 17):  # the action is new in 2.17: before, Nova knows no such route
        raise errors.NotFound("The resource could not be found.")
    valid_member(request, schemas.TriggerCrashDump, body)
    await service(request).actions.trigger_crash_dump(ctx, uuid)
    return empty(202)


async def rescue(request: Request, ctx: RequestContext, uuid: str, body: Any) -> Response:
    req = valid_member(request, schemas.Rescue, body)
    password, ref = req.admin_pass, req.rescue_image_ref
    await service(request).actions.rescue(ctx, uuid, ref or None)
    # Nova answers the rescue system's password (enable_instance_password), made up when none.
    return json_response({"adminPass": password or secrets.token_urlsafe(9)}, 200)


async def unrescue(request: Request, ctx: RequestContext, uuid: str, body: Any) -> Response:
    await service(request).actions.unrescue(ctx, uuid)
    return empty(202)


async def create_backup(request: Request, ctx: RequestContext, uuid: str, body: Any) -> Response:
    req = valid_member(request, schemas.CreateBackup, body)
    rotation = req.rotation
    backup = Backup(type=req.backup_type, rotation=rotation)
    image_id = await service(request).actions.create_image(
        ctx, uuid, req.name, req.metadata, backup
    )
    if at_least(request, 45):
        return json_response({"image_id": image_id}, 202)
    if rotation == 0:  # Nova names no image that its own rotation deletes at once
        return empty(202)
    base = request.app.state.runtime.public_url
    return empty(202, {"Location": f"{base}/image/v2/images/{image_id}"})


async def console_output(request: Request, ctx: RequestContext, uuid: str, body: Any) -> Response:
    length = valid_member(request, schemas.ConsoleOutput, body).length
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
    model = schemas.AddSecurityGroup if add else schemas.RemoveSecurityGroup

    async def handler(request: Request, ctx: RequestContext, uuid: str, body: Any) -> Response:
        name = valid_member(request, model, body).name
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
    state = valid_member(request, schemas.ResetState, body).state
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
    password = valid_member(request, schemas.ChangePassword, body).admin_pass
    answer = await service(request).actions.ask(
        ctx, uuid, "set_admin_password", "changePassword", (ACTIVE,),
        password=password,
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
    body = await api.body(request, schemas.ServerAction)
    name = body.name
    entry = ACTIONS.get(name) or EXTRA_ACTIONS.get(name)
    if entry is None:
        raise errors.BadRequest(f"There is no such action: {name}")
    handler, rule = entry
    ctx, target = await _target(request, uuid)
    authorize(request, rule, target)
    return await handler(request, ctx, uuid, body.args)


routes = [Route("/servers/{server_id}/action", action, methods=["POST"])]
