"""Server actions (``POST /servers/{id}/action``) and their records (``os-instance-actions``)."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common import errors
from onestack.common.context import RequestContext
from onestack.common.http import empty, json_response, read_json
from onestack.compute import models as m
from onestack.compute import views
from onestack.compute.api import checks
from onestack.compute.api.helpers import allowed, at_least, authorize, service
from onestack.compute.api.servers import (
    _image,
    _metadata,
    _string,
    _user_data,
    bad,
    hostname_max,
    personality,
)
from onestack.compute.service.actions import Backup
from onestack.compute.service.records import InstanceNotFound
from onestack.compute.states import ACTIVE

ActionHandler = Callable[[Request, RequestContext, str, Any], Awaitable[Response]]


async def _target(request: Request, uuid: str) -> tuple[RequestContext, dict[str, str]]:
    ctx = authorize(request, "servers:show")
    srv = await service(request).servers.get(ctx, uuid)
    return ctx, {"project_id": srv.row.project_id, "user_id": srv.row.user_id}


def _power(op: str, rule: str) -> ActionHandler:
    async def handler(request: Request, ctx: RequestContext, uuid: str, body: Any) -> Response:
        await service(request).actions.power(ctx, uuid, op)
        return empty(202)

    handler.rule = rule  # type: ignore[attr-defined]
    return handler


async def reboot(request: Request, ctx: RequestContext, uuid: str, body: Any) -> Response:
    kind = body.get("type") if isinstance(body, dict) else None
    if not isinstance(kind, str) or kind.upper() not in ("SOFT", "HARD"):
        raise bad(
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
            raise bad("lock", "Additional properties are not allowed")
        reason = _string(body, "locked_reason", empty_ok=True)
    await service(request).actions.lock(ctx, uuid, reason)
    return empty(202)


async def unlock(request: Request, ctx: RequestContext, uuid: str, body: Any) -> Response:
    may = allowed(request, "os-lock-server:unlock:unlock_override")
    await service(request).actions.unlock(ctx, uuid, may_override=may)
    return empty(202)


async def resize(request: Request, ctx: RequestContext, uuid: str, body: Any) -> Response:
    if not isinstance(body, dict) or "flavorRef" not in body:
        raise bad("resize", "'flavorRef' is a required property")
    svc = service(request)
    flavor = await svc.flavors.for_boot(ctx, str(body["flavorRef"]))
    disk_config = checks.disk_config(body)
    await svc.actions.resize(ctx, uuid, flavor)
    if disk_config is not None:
        srv = await svc.servers.get(ctx, uuid)
        request_ = {**(srv.row.request or {}), "disk_config": disk_config}
        await svc.servers.update(ctx, uuid, {"request": request_})
    return empty(202)


async def confirm_resize(request: Request, ctx: RequestContext, uuid: str, body: Any) -> Response:
    await service(request).actions.confirm_resize(ctx, uuid)
    return empty(204)


async def revert_resize(request: Request, ctx: RequestContext, uuid: str, body: Any) -> Response:
    await service(request).actions.revert_resize(ctx, uuid)
    return empty(202)


async def rebuild(request: Request, ctx: RequestContext, uuid: str, body: Any) -> Response:
    if not isinstance(body, dict) or not body.get("imageRef"):
        raise bad("rebuild", "'imageRef' is a required property")
    svc = service(request)
    srv = await svc.servers.get(ctx, uuid)
    image = await _image(request, str(body["imageRef"]), srv.row.flavor)
    changes: dict[str, Any] = {"image_ref": image["id"]}
    if "name" in body:
        changes["display_name"] = _string(body, "name")
    if "description" in body and at_least(request, 19):
        changes["display_description"] = body["description"]
    if "user_data" in body and at_least(request, 57):
        changes["user_data"] = None if body["user_data"] is None else _user_data(body["user_data"])
    if "key_name" in body and at_least(request, 54):
        if body["key_name"] is None:
            changes["key_name"] = changes["key_data"] = None
        else:
            try:
                kp = await svc.keypairs.get(ctx.user_id, str(body["key_name"]))
            except errors.NotFound:
                raise errors.BadRequest("Invalid key_name provided.") from None
            changes["key_name"], changes["key_data"] = kp.name, kp.public_key
    if "hostname" in body and at_least(request, 90):
        changes["hostname"] = _string(body, "hostname", hostname_max(request))
    for key, col in (("accessIPv4", "access_ip_v4"), ("accessIPv6", "access_ip_v6")):
        if key in body:
            changes[col] = checks.access_ip(body, key)
    request_ = dict(srv.row.request or {})
    disk_config = checks.disk_config(body)
    if disk_config is not None:
        request_["disk_config"] = disk_config
    if "personality" in body:
        request_["files"] = await personality(request, body, srv.row.project_id)
    if request_ != (srv.row.request or {}):
        changes["request"] = request_
    if "metadata" in body:
        await svc.servers.replace_metadata(uuid, _metadata(body["metadata"]))
    await svc.actions.rebuild(ctx, uuid, changes)
    out = views.changed(request, await svc.servers.get(ctx, uuid), rebuild=True)
    # Nova answers a password either way (enable_instance_password), made up when none given.
    out["adminPass"] = body.get("adminPass") or secrets.token_urlsafe(9)
    return json_response({"server": out}, 202)


async def create_image(request: Request, ctx: RequestContext, uuid: str, body: Any) -> Response:
    if not isinstance(body, dict) or "name" not in body:
        raise bad("createImage", "'name' is a required property")
    name = _string(body, "name")
    metadata = _metadata(body.get("metadata", {}))
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
        raise bad("trigger_crash_dump", f"{body!r} is not of type 'null'")
    await service(request).actions.trigger_crash_dump(ctx, uuid)
    return empty(202)


async def rescue(request: Request, ctx: RequestContext, uuid: str, body: Any) -> Response:
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise bad("rescue", f"{body!r} is not of type 'object', 'null'")
    extra = sorted(set(body) - {"adminPass", "rescue_image_ref"})
    if extra:
        raise bad("rescue", f"Additional properties are not allowed ({extra[0]!r} was unexpected)")
    password = body.get("adminPass")
    if password is not None and not isinstance(password, str):
        raise bad("adminPass", f"{password!r} is not of type 'string'")
    svc = service(request)
    srv = await svc.servers.get(ctx, uuid)
    ref = body.get("rescue_image_ref")
    if ref is not None and not isinstance(ref, str):
        raise bad("rescue_image_ref", f"{ref!r} is not of type 'string'")
    # Nova rescues from the server's own image unless told otherwise.
    image_id = (await _image(request, ref, srv.row.flavor))["id"] if ref else srv.row.image_ref
    if not image_id:
        raise errors.BadRequest("Cannot rescue a volume-backed instance without a rescue image.")
    await svc.actions.rescue(ctx, uuid, image_id)
    # Nova answers the rescue system's password (enable_instance_password), made up when none.
    return json_response({"adminPass": password or secrets.token_urlsafe(9)}, 200)


async def unrescue(request: Request, ctx: RequestContext, uuid: str, body: Any) -> Response:
    await service(request).actions.unrescue(ctx, uuid)
    return empty(202)


async def create_backup(request: Request, ctx: RequestContext, uuid: str, body: Any) -> Response:
    if not isinstance(body, dict):
        raise bad("createBackup", f"{body!r} is not of type 'object'")
    for key in ("name", "backup_type", "rotation"):
        if key not in body:
            raise bad("createBackup", f"'{key}' is a required property")
    extra = sorted(set(body) - {"name", "backup_type", "rotation", "metadata"})
    if extra:
        raise bad(
            "createBackup", f"Additional properties are not allowed ({extra[0]!r} was unexpected)"
        )
    name = _string(body, "name")
    if not isinstance(body["backup_type"], str):
        raise bad("backup_type", f"{body['backup_type']!r} is not of type 'string'")
    rotation = body["rotation"]
    # Nova's non_negative_integer: an integer, or a string of digits.
    if isinstance(rotation, str) and rotation.isdigit():
        rotation = int(rotation)
    if isinstance(rotation, bool) or not isinstance(rotation, int) or rotation < 0:
        raise bad("rotation", f"{body['rotation']!r} is not a non-negative integer")
    metadata = _metadata(body.get("metadata", {}))
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
            raise bad("length", f"{length!r} is not of type 'integer'") from None
        if length < -1:
            raise bad("length", f"{length} is less than the minimum of -1")
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
            raise bad("name", "'name' is a required property")
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
        raise bad("state", f"{state!r} is not one of ['active', 'error']")
    await service(request).actions.reset_state(ctx, uuid, state)
    return empty(202)


async def restore(request: Request, ctx: RequestContext, uuid: str, body: Any) -> Response:
    # Deletes are never deferred here (Nova's reclaim_instance_interval of 0): no server is
    # ever soft-deleted, so none can be restored.
    srv = await service(request).servers.get(ctx, uuid)
    raise errors.Conflict(
        f"Cannot 'restore' instance {uuid} while it is in vm_state {srv.row.vm_state}"
    )


async def inject_network_info(
    request: Request, ctx: RequestContext, uuid: str, body: Any
) -> Response:
    # Guests take their network settings from DHCP and the metadata service: nothing to push.
    return empty(202)


async def change_password(request: Request, ctx: RequestContext, uuid: str, body: Any) -> Response:
    """Through the guest agent (hw_qemu_guest_agent=yes); Nova's 409 without one."""
    if not isinstance(body, dict) or "adminPass" not in body:
        raise bad("changePassword", "'adminPass' is a required property")
    if not isinstance(body["adminPass"], str):
        raise bad("adminPass", f"{body['adminPass']!r} is not of type 'string'")
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
    uuid = request.path_params["server_id"]
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


# -- os-instance-actions ------------------------------------------------------------------
def _action_view(request: Request, a: m.InstanceAction) -> dict[str, Any]:
    out: dict[str, Any] = {
        "action": a.action,
        "instance_uuid": a.instance_uuid,
        "message": a.message,
        "project_id": a.project_id,
        "request_id": a.request_id,
        "start_time": views.usg(a.start_time),
        "user_id": a.user_id,
    }
    if at_least(request, 58):
        out["updated_at"] = views.usg(a.updated_at)
    return out


async def _instance_for_actions(request: Request, uuid: str) -> m.Instance:
    ctx = authorize(request, "os-instance-actions:list")
    async with request.app.state.runtime.db.session() as s:
        row: m.Instance | None = await s.scalar(select(m.Instance).where(m.Instance.uuid == uuid))
        deleted_ok = at_least(request, 21)
        if row is None or (row.deleted and not deleted_ok):
            raise InstanceNotFound(id=uuid)
        if not ctx.is_admin and row.project_id != ctx.project_id:
            raise InstanceNotFound(id=uuid)
    authorize(request, "os-instance-actions:list", {"project_id": row.project_id})
    return row


async def list_actions(request: Request) -> Response:
    uuid = request.path_params["server_id"]
    await _instance_for_actions(request, uuid)
    async with request.app.state.runtime.db.session() as s:
        rows = list(
            await s.scalars(
                select(m.InstanceAction)
                .where(m.InstanceAction.instance_uuid == uuid)
                .order_by(m.InstanceAction.start_time.desc(), m.InstanceAction.id.desc())
            )
        )
    q = request.query_params
    if at_least(request, 58):
        marker = q.get("marker")
        if marker:
            index = next((i for i, r in enumerate(rows) if r.request_id == marker), None)
            if index is None:
                raise errors.BadRequest(f"Marker {marker} could not be found.")
            rows = rows[index + 1 :]
        if q.get("limit"):
            rows = rows[: int(q["limit"])]
    return json_response({"instanceActions": [_action_view(request, r) for r in rows]})


async def show_action(request: Request) -> Response:
    uuid = request.path_params["server_id"]
    row = await _instance_for_actions(request, uuid)
    target = {"project_id": row.project_id}
    authorize(request, "os-instance-actions:show", target)
    async with request.app.state.runtime.db.session() as s:
        action_row = await s.scalar(
            select(m.InstanceAction)
            .where(
                m.InstanceAction.instance_uuid == uuid,
                m.InstanceAction.request_id == request.path_params["request_id"],
            )
            .order_by(m.InstanceAction.id.desc())
            .limit(1)
        )
        if action_row is None:
            raise errors.NotFound(
                f"Action {request.path_params['request_id']} on instance {uuid} could not be found."
            )
        events = list(
            await s.scalars(
                select(m.InstanceActionEvent)
                .where(m.InstanceActionEvent.action_id == action_row.id)
                .order_by(m.InstanceActionEvent.id)
            )
        )
    out = _action_view(request, action_row)
    show_events = allowed(request, "os-instance-actions:events", target)
    if show_events or at_least(request, 51):
        items = []
        for e in events:
            item: dict[str, Any] = {
                "event": e.event,
                "start_time": views.usg(e.start_time),
                "finish_time": views.usg(e.finish_time),
                "result": e.result,
            }
            if show_events:
                item["traceback"] = e.traceback
            if at_least(request, 62):
                item["hostId"] = views.host_id(row.project_id, e.host)
                if show_events:
                    item["host"] = e.host or ""
            if at_least(request, 84) and allowed(
                request, "os-instance-actions:events:details", target
            ):
                item["details"] = e.details
            items.append(item)
        out["events"] = items
    return json_response({"instanceAction": out})


routes = [
    Route("/servers/{server_id}/action", action, methods=["POST"]),
    Route("/servers/{server_id}/os-instance-actions", list_actions, methods=["GET"]),
    Route("/servers/{server_id}/os-instance-actions/{request_id}", show_action, methods=["GET"]),
]
