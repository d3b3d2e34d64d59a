"""Server actions: each checks the server's state (409 when it cannot happen now), marks the
task, records the action and hands the work to the host's agent."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from onestack.common import errors
from onestack.common.context import RequestContext
from onestack.common.logging import get_logger
from onestack.compute import models, states
from onestack.compute import scheduler_glue as claims
from onestack.compute.scheduler_glue import release
from onestack.compute.service.base import ComputeContext, compute_topic
from onestack.compute.service.block_devices import root_attachment
from onestack.compute.service.boot import Boot
from onestack.compute.service.create import boot_image, check_injected_files
from onestack.compute.service.flavors import Flavors
from onestack.compute.service.imagefit import check_flavor_fits_image
from onestack.compute.service.keypairs import Keypairs
from onestack.compute.service.migrations import Migrations
from onestack.compute.service.networking import Networking
from onestack.compute.service.quotas import Quotas
from onestack.compute.service.records import (
    get_row,
    start_action,
    touch,
)
from onestack.compute.service.servers import Server, Servers, check_lock, check_state
from onestack.compute.service.shelve import Shelve
from onestack.compute.service.volume_snapshots import snapshot_volume_backed

log = get_logger(__name__)

A, S, P, U = states.ACTIVE, states.STOPPED, states.PAUSED, states.SUSPENDED
E, R = states.ERROR, states.RESIZED

# op: (Nova's action name, vm_states it may start from, task_state while it runs)
POWER_OPS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "stop": ("stop", (A, E, states.RESCUED), states.POWERING_OFF),
    "start": ("start", (S,), states.POWERING_ON),
    "reboot_soft": ("reboot", (A,), states.REBOOTING),
    "reboot_hard": ("reboot", (A, S, P, U, E), states.REBOOTING_HARD),
    "pause": ("pause", (A,), states.PAUSING),
    "unpause": ("unpause", (P,), states.UNPAUSING),
    "suspend": ("suspend", (A,), states.SUSPENDING),
    "resume": ("resume", (U,), states.RESUMING),
}


class Backup(NamedTuple):
    """``createBackup``'s type and rotation: how many backups of that type to keep."""

    type: str
    rotation: int


@dataclass
class RebuildRequest:
    """A rebuild checked for shape: the image it starts from and what else it changes."""

    image_ref: str
    changes: dict[str, Any]  # server columns set as given (name, user data, hostname...)
    new_key: bool = False  # whether the key pair changes (2.54): to ``key_name``, or none
    key_name: str | None = None
    disk_config: str | None = None
    files: list[dict[str, str]] | None = None  # personality, base64 contents
    metadata: dict[str, str] | None = None  # replaces the server's metadata
    reimage: bool = False  # 2.93: a volume-backed server's root volume is rewritten


class Actions:
    def __init__(
        self,
        context: ComputeContext,
        *,
        servers: Servers,
        networking: Networking,
        quotas: Quotas,
        boot: Boot,
        shelve: Shelve,
        flavors: Flavors,
        keypairs: Keypairs,
    ) -> None:
        self.context = context
        self.servers = servers
        self.networking = networking
        self.quotas = quotas
        self.boot = boot
        self.shelve = shelve
        self.flavors = flavors
        self.keypairs = keypairs
        self.migrations = Migrations(context)

    async def _begin(
        self,
        ctx: RequestContext,
        uuid: str,
        action: str,
        vm_states: tuple[str, ...],
        task_state: str | None,
        task_states: tuple[str | None, ...] = (None,),
        check: Callable[[AsyncSession, models.Instance], Awaitable[None]] | None = None,
        **values: Any,
    ) -> models.Instance:
        """Start ``action``: the state checked, the task set and recorded, in one transaction
        (with ``check``'s own, such as a quota counted under its lock)."""
        async with self.context.db.session() as s:
            row = await get_row(s, ctx, uuid, lock=True)
            check_lock(ctx, row)
            check_state(row, action, vm_states, task_states)
            if row.host is None:
                raise errors.Conflict(f"Instance {uuid} has no host yet.")
            if check is not None:
                await check(s, row)
            row.task_state = task_state
            for key, value in values.items():
                setattr(row, key, value)
            touch(row)
            await start_action(s, ctx, row, action)
            return row

    async def _cast(self, row: models.Instance, method: str, **payload: Any) -> None:
        await self.context.wait_local_host()  # this process's agent may still be registering
        await self.context.bus.cast(
            compute_topic(row.host or ""), method, {"uuid": row.uuid, **payload}
        )

    # -- power -------------------------------------------------------------------------
    async def power(self, ctx: RequestContext, uuid: str, op: str) -> None:
        action, vm_states, task = POWER_OPS[op]
        task_states: tuple[str | None, ...] = (None,)
        if op == "reboot_hard":
            # Nova lets a hard reboot cut short a soft one that hangs.
            task_states = (None, states.REBOOTING)
        row = await self._begin(ctx, uuid, action, vm_states, task, task_states)
        await self._cast(row, "power", op=op)

    async def lock(self, ctx: RequestContext, uuid: str, reason: str | None) -> None:
        async with self.context.db.session() as s:
            row = await get_row(s, ctx, uuid)
            row.locked = True
            row.locked_by = (
                "admin" if ctx.is_admin and ctx.project_id != row.project_id else "owner"
            )
            row.locked_reason = reason
            touch(row)
            await start_action(s, ctx, row, "lock")

    async def unlock(self, ctx: RequestContext, uuid: str, *, may_override: bool) -> None:
        async with self.context.db.session() as s:
            row = await get_row(s, ctx, uuid)
            if row.locked and row.locked_by == "admin" and not may_override:
                raise errors.Forbidden(
                    "Policy doesn't allow os_compute_api:os-lock-server:unlock:unlock_override "
                    "to be performed."
                )
            row.locked = False
            row.locked_by = None
            row.locked_reason = None
            touch(row)
            await start_action(s, ctx, row, "unlock")

    # -- delete ------------------------------------------------------------------------
    async def delete(self, ctx: RequestContext, uuid: str, *, force: bool = False) -> None:
        async with self.boot.networking_lock(uuid):
            row, started = await self.servers.mark_deleting(ctx, uuid, force=force)
        if not started:
            return  # another request is deleting it
        if row.host is None:
            # Not on a host yet, never placed, or shelved: nothing to stop there.
            shelved_image = row.request.get("shelved_image_id")
            if shelved_image:
                await self.shelve.forget_image(shelved_image)
            await self.networking.release(uuid, row.network_info, row.request)
            await release(self.context, uuid)
            await self.servers.finish_delete(uuid)
            return
        await self._cast(row, "delete_instance")

    # -- resize ------------------------------------------------------------------------
    async def resize(
        self, ctx: RequestContext, uuid: str, flavor_ref: str, disk_config: str | None = None
    ) -> None:
        """Resize to the flavor ``flavor_ref`` names (400 when the caller cannot use it),
        setting the server's disk config too when given."""
        flavor = await self.flavors.for_boot(ctx, flavor_ref)
        await self._resize(ctx, uuid, flavor)
        if disk_config is not None:
            srv = await self.servers.get(ctx, uuid)
            request = {**(srv.row.request or {}), "disk_config": disk_config}
            await self.servers.update(ctx, uuid, {"request": request})

    async def _resize(self, ctx: RequestContext, uuid: str, flavor: dict[str, Any]) -> None:
        async with self.context.db.session() as s:
            row = await get_row(s, ctx, uuid)
            check_lock(ctx, row)
            check_state(row, "resize", (A, S))
            current = row.flavor
        if flavor["flavorid"] == current.get("flavorid"):
            raise errors.BadRequest("When resizing, instances must change flavor!")
        if flavor["root_gb"] < current.get("root_gb", 0):
            raise errors.BadRequest("Unable to resize disk down.")
        # As Nova: a volume-backed server's image (its boot metadata, if any) sizes no disk.
        if await root_attachment(self.context, uuid) is None:
            await self._check_image_fits(row.image_ref, flavor)
        dv = flavor["vcpus"] - current["vcpus"]
        dr = flavor["memory_mb"] - current["memory_mb"]

        async def within_quota(s: AsyncSession, row: models.Instance) -> None:
            """The bigger flavor's cores and RAM, counted under the project's quota lock in
            the transaction that gives the server its new flavor."""
            if dv > 0 or dr > 0:
                await self.quotas.lock(s, row.project_id)
                await self.quotas.check_instances(
                    row.project_id, 1, max(dv, 0), max(dr, 0), existing=True, session=s
                )

        if dv > 0 or dr > 0:  # refused at once, before a claim on a host is made
            await self.quotas.check_instances(
                row.project_id, 1, max(dv, 0), max(dr, 0), existing=True
            )
        async with self.context.db.session() as s:
            row = await get_row(s, ctx, uuid)
        try:
            await claims.resize_claim(self.context, row, flavor)
        except errors.OneStackError as exc:
            reason = getattr(exc, "reason", "") or exc.message
            raise errors.BadRequest(f"No valid host was found. {reason}") from None
        try:
            row = await self._begin(
                ctx,
                uuid,
                "resize",
                (A, S),
                states.RESIZE_PREP,
                check=within_quota,
                old_flavor=current,
                new_flavor=flavor,
            )
        except BaseException:
            await claims.revert_resize(self.context, uuid)
            raise
        await self.migrations.resize_started(row, current, flavor)
        await self._cast(row, "resize")

    async def _check_image_fits(self, image_ref: str | None, flavor: dict[str, Any]) -> None:
        """The new flavor must still fit the server's image (Nova reads it from the system
        metadata it kept at boot; we ask the image service, and skip a deleted image)."""
        if not image_ref:
            return
        try:
            image = await self.context.image.get_image(None, image_ref)
        except errors.NotFound:
            return
        check_flavor_fits_image(flavor, image)

    async def confirm_resize(self, ctx: RequestContext, uuid: str) -> None:
        row = await self._begin(ctx, uuid, "confirmResize", (R,), None)
        await self.migrations.set_status(uuid, "confirming")
        await self._cast(row, "confirm_resize")

    async def revert_resize(self, ctx: RequestContext, uuid: str) -> None:
        row = await self._begin(ctx, uuid, "revertResize", (R,), states.RESIZE_REVERTING)
        await self.migrations.set_status(uuid, "reverting")
        await self._cast(row, "revert_resize")

    async def resize_confirmed(self, uuid: str) -> None:
        async with self.context.db.session() as s:
            row = await s.scalar(select(models.Instance).where(models.Instance.uuid == uuid))
            if row is None:
                return
            if row.new_flavor:
                row.flavor = row.new_flavor
            row.old_flavor = row.new_flavor = None
            row.vm_state = states.ACTIVE if row.power_state == 1 else states.STOPPED
            row.task_state = None
            touch(row)
        await claims.confirm_resize(self.context, uuid)
        await self.migrations.set_status(uuid, "confirmed")

    async def resize_reverted(self, uuid: str, status: str = "reverted") -> None:
        async with self.context.db.session() as s:
            row = await s.scalar(select(models.Instance).where(models.Instance.uuid == uuid))
            if row is None:
                return
            if row.old_flavor:
                row.flavor = row.old_flavor
            row.old_flavor = row.new_flavor = None
            row.vm_state = states.ACTIVE
            row.power_state = 1
            row.task_state = None
            touch(row)
        await claims.revert_resize(self.context, uuid)
        await self.migrations.set_status(uuid, status)

    async def resize_failed(self, uuid: str) -> None:
        await self.resize_reverted(uuid, "error")

    # -- crash dump -----------------------------------------------------------------------
    async def trigger_crash_dump(self, ctx: RequestContext, uuid: str) -> None:
        vm_states = (A, P, states.RESCUED, R, E)
        row = await self._begin(ctx, uuid, "trigger_crash_dump", vm_states, None)
        await self._cast(row, "crash_dump")

    # -- rescue ---------------------------------------------------------------------------
    async def rescue(self, ctx: RequestContext, uuid: str, image_ref: str | None) -> None:
        """Rescue from the image ``image_ref`` names, or (as Nova does) the server's own."""
        srv = await self.servers.get(ctx, uuid)
        image_id = srv.row.image_ref
        if image_ref:
            image_id = (await boot_image(self.context, ctx, image_ref, srv.row.flavor))["id"]
        if not image_id:
            raise errors.BadRequest(
                "Cannot rescue a volume-backed instance without a rescue image."
            )
        row = await self._begin(ctx, uuid, "rescue", (A, S, E), states.RESCUING)
        await self._cast(row, "rescue", image_id=image_id)

    async def unrescue(self, ctx: RequestContext, uuid: str) -> None:
        row = await self._begin(ctx, uuid, "unrescue", (states.RESCUED,), states.UNRESCUING)
        await self._cast(row, "unrescue")

    # -- rebuild and snapshot ------------------------------------------------------------
    async def rebuild(self, ctx: RequestContext, uuid: str, req: RebuildRequest) -> Server:
        """Rebuild from the image ``req`` names (400 when it cannot boot the server's
        flavor); the server as it is now."""
        srv = await self.servers.get(ctx, uuid)
        image = await boot_image(self.context, ctx, req.image_ref, srv.row.flavor)
        changes: dict[str, Any] = {"image_ref": image["id"], **req.changes}
        root = await root_attachment(self.context, uuid)
        reimage: dict[str, str] | None = None
        if root is not None and self.context.volume is not None:
            # Nova before 2.93: the volume stays the root disk; only its own image may be named.
            meta = (await self.context.volume.get(None, root.volume_id))["image_metadata"]
            if req.reimage:
                reimage = {"volume_id": root.volume_id, "image_id": image["id"]}
            elif image["id"] != meta.get("image_id"):
                raise errors.BadRequest(
                    "Unable to rebuild with a different image for a volume-backed server."
                )
            # Nova keeps a volume-backed server's image_ref over a rebuild ("" stays "").
            del changes["image_ref"]
        if req.new_key:
            changes["key_name"] = changes["key_data"] = None
            if req.key_name is not None:
                try:
                    kp = await self.keypairs.get(ctx.user_id, req.key_name)
                except errors.NotFound:
                    raise errors.BadRequest("Invalid key_name provided.") from None
                changes["key_name"], changes["key_data"] = kp.name, kp.public_key
        request = dict(srv.row.request or {})
        if req.disk_config is not None:
            request["disk_config"] = req.disk_config
        if req.files is not None:
            check_injected_files(req.files, await self.quotas.limits(srv.row.project_id))
            request["files"] = req.files
        if request != (srv.row.request or {}):
            changes["request"] = request
        if req.metadata is not None:
            await self.servers.replace_metadata(uuid, req.metadata)
        row = await self._begin(ctx, uuid, "rebuild", (A, S, E), states.REBUILDING, **changes)
        await self._cast(row, "rebuild", reimage=reimage)
        return await self.servers.get(ctx, uuid)

    async def restore(self, ctx: RequestContext, uuid: str) -> None:
        """Deletes are never deferred here (Nova's reclaim_instance_interval of 0): no server
        is ever soft-deleted, so none can be restored."""
        srv = await self.servers.get(ctx, uuid)
        raise errors.Conflict(
            f"Cannot 'restore' instance {uuid} while it is in vm_state {srv.row.vm_state}"
        )

    async def create_image(
        self,
        ctx: RequestContext,
        uuid: str,
        name: str,
        metadata: dict[str, str],
        backup: Backup | None = None,
    ) -> str:
        """Snapshot the server into a new image; its id. A ``backup`` is a snapshot marked
        with its type, after which the oldest backups of that type beyond its rotation go."""
        action = "createImage" if backup is None else "createBackup"
        async with self.context.db.session() as s:
            row = await get_row(s, ctx, uuid)
            check_state(row, action, (A, S, P, U))
        volume_backed = await root_attachment(self.context, uuid) is not None
        if backup is not None and volume_backed:
            raise errors.BadRequest("Backup is not supported for volume-backed instances.")
        # As Nova: the caller's metadata may set image_type, never a backup's backup_type.
        kind = "snapshot" if backup is None else "backup"
        fixed = {} if backup is None else {"backup_type": backup.type}
        props = {
            "image_type": kind,
            **metadata,
            **fixed,
            "instance_uuid": uuid,
            "base_image_ref": row.image_ref,
            "owner_project_name": ctx.project_name or "",
            "owner_user_name": ctx.user_name,
            "user_id": ctx.user_id,
        }
        if volume_backed:
            return await snapshot_volume_backed(self.context, ctx, row, name, props)
        image_id: str = await self.context.image.create_queued_image(
            name=name, owner=row.project_id, disk_format="qcow2", properties=props
        )
        task = states.IMAGE_SNAPSHOT if backup is None else states.IMAGE_BACKUP
        try:
            row = await self._begin(ctx, uuid, action, (A, S, P, U), task)
        except BaseException:
            await self.context.image.delete_image(image_id)
            raise
        extra = {} if backup is None else {"backup": backup._asdict()}
        await self._cast(row, "snapshot", image_id=image_id, **extra)
        return image_id

    # -- synchronous asks ----------------------------------------------------------------
    async def ask(
        self,
        ctx: RequestContext,
        uuid: str,
        method: str,
        action: str | None = None,
        vm_states: tuple[str, ...] = (),
        **payload: Any,
    ) -> dict[str, Any]:
        async with self.context.db.session() as s:
            row = await get_row(s, ctx, uuid)
            if vm_states:
                check_state(row, action or method, vm_states, (None, *_ALL_TASKS))
            if row.host is None:
                raise errors.Conflict(f"Instance {uuid} is not ready yet (no host).")
        await self.context.wait_local_host()
        answer = await self.context.bus.call(
            compute_topic(row.host), method, {"uuid": uuid, **payload}, timeout=120
        )
        return dict(answer or {})

    async def security_group(self, ctx: RequestContext, uuid: str, name: str, add: bool) -> None:
        async with self.context.db.session() as s:
            row = await get_row(s, ctx, uuid)
        ids = await self.networking.security_group_ids(ctx, row.project_id, [name])
        ports = (await self.networking.ports_of([uuid])).get(uuid, [])
        if not add and not any(ids[0] in (p.get("security_groups") or []) for p in ports):
            raise errors.BadRequest(
                f"Security group {name} not associated with the instance {uuid}"
            )
        await self.networking.set_security_groups(
            uuid, row.project_id, "add" if add else "remove", ids[0]
        )
        async with self.context.db.session() as s:
            row = await get_row(s, None, uuid)
            names = list(row.security_groups or [])
            if add and name not in names:
                names.append(name)
            if not add and name in names:
                names.remove(name)
            row.security_groups = names
            touch(row)

    async def reset_state(self, ctx: RequestContext, uuid: str, state: str) -> None:
        async with self.context.db.session() as s:
            row = await get_row(s, ctx, uuid)
            row.vm_state = states.ERROR if state == "error" else states.ACTIVE
            row.task_state = None
            touch(row)
            await start_action(s, ctx, row, "resetState")

    async def single_host_only(self, ctx: RequestContext, uuid: str, action: str) -> None:
        """Nova's lock and state checks come first (409), then: one host, nowhere to go."""
        allowed = {"migrate": (A, S), "live-migrate": (A, P), "evacuate": (A, S, E)}
        async with self.context.db.session() as s:
            row = await get_row(s, ctx, uuid)
            check_lock(ctx, row)
            check_state(row, action, allowed.get(action, ()))
        raise errors.BadRequest(
            f"Cannot {action} instance {uuid}: this cloud has a single compute host; "
            "migrations need a second host (scale-out)."
        )


_ALL_TASKS = (
    states.IMAGE_SNAPSHOT,
    states.IMAGE_UPLOADING,
    states.REBOOTING,
    states.POWERING_OFF,
)
