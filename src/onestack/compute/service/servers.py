"""Servers: the rows a boot creates, lists with Nova's filters, updates and deletes."""

from __future__ import annotations

import functools
import re
import uuid as uuidlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import (
    BindParameter,
    CompoundSelect,
    Row,
    bindparam,
    case,
    cast,
    func,
    literal_column,
    null,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from onestack.common import errors
from onestack.common.context import RequestContext
from onestack.common.db import utcnow
from onestack.common.logging import get_logger
from onestack.compute import models, states
from onestack.compute.service.base import NOTIFICATIONS, ComputeContext
from onestack.compute.service.groups import GroupMembersQuotaExceeded
from onestack.compute.service.networking import NicRequest
from onestack.compute.service.quotas import Quotas
from onestack.compute.service.records import (
    InstanceInvalidState,
    InstanceLocked,
    get_row,
    start_action,
    touch,
)
from onestack.compute.service.server_lists import (
    PAGE_FIRST,
    ListedServer,
    ListFilters,
    after_marker,
    filter_in_python,
    filter_ip,
    list_query,
    listed,
    page_rows,
)
from onestack.network.facade import NetworkAPI

log = get_logger(__name__)

REDRIVE_DELETE = 30  # seconds


@dataclass
class BootRequest:
    """A validated ``POST /servers``: names resolved to rows and ids."""

    name: str
    flavor: dict[str, Any]
    image: dict[str, Any] | None  # id, min_disk, min_ram, disk_format, properties; None: BFV
    nics: list[NicRequest]
    security_groups: list[str]  # names, as the server shows them
    security_group_ids: list[str] | None
    availability_zone: str | None = None
    forced_host: str | None = None
    key_name: str | None = None
    key_data: str | None = None
    user_data: str | None = None
    config_drive: bool = False
    metadata: dict[str, str] = field(default_factory=dict)
    min_count: int = 1
    max_count: int = 1
    group: str | None = None
    tags: list[str] = field(default_factory=list)
    description: str | None = None
    hostname: str | None = None
    access_ip_v4: str | None = None
    access_ip_v6: str | None = None
    block_devices: list[dict[str, Any]] = field(default_factory=list)
    trusted_certs: list[str] | None = None
    disk_config: str = "MANUAL"
    files: list[dict[str, str]] = field(default_factory=list)  # personality, base64 contents


def sanitize_hostname(name: str, default: str = "") -> str:
    """Nova's hostname from a display name: lower case, [a-z0-9-], at most 63 characters."""
    host = re.sub(r"[ _.]", "-", name.lower())
    host = re.sub(r"[^a-z0-9-]+", "", host).strip("-")[:63].strip("-")
    return host or default


# A server's row: the ORM object, or in lists one of the plain rows above.
ServerRow = models.Instance | ListedServer | Row[Any]


@dataclass
class Server:
    """A server with what its views need beside the row."""

    row: ServerRow
    metadata: dict[str, str]
    tags: list[str]
    volumes: list[dict[str, Any]]
    group_uuids: list[str] = field(default_factory=list)
    # What ``addresses`` shows of its ports (NetworkService.device_addresses)
    ports: list[dict[str, Any]] = field(default_factory=list)


def _add_parts(s: AsyncSession, req: BootRequest, uuid: str, group_id: int | None) -> None:
    """A new server's metadata, tags and group membership (its volumes come with its boot,
    ``block_devices.py``)."""
    for key, value in req.metadata.items():
        s.add(models.InstanceMetadata(instance_uuid=uuid, key=key, value=value))
    for tag in dict.fromkeys(req.tags):
        s.add(models.InstanceTag(instance_uuid=uuid, tag=tag))
    if group_id is not None:
        s.add(models.ServerGroupMember(group_id=group_id, instance_uuid=uuid))


class Servers:
    def __init__(self, context: ComputeContext, quotas: Quotas) -> None:
        self.context = context
        self.quotas = quotas

    # -- create ------------------------------------------------------------------------
    async def create_rows(
        self,
        ctx: RequestContext,
        req: BootRequest,
        count: int | Callable[[AsyncSession], Awaitable[int]],
    ) -> list[models.Instance]:
        """The BUILD rows of a boot (``count`` servers, or as many as ``count(session)``
        answers first thing in the rows' transaction), each with its ``create`` action."""
        reservation = f"r-{uuidlib.uuid4().hex[:8]}"
        zone = req.availability_zone or None
        rows: list[models.Instance] = []
        async with self.context.db.session() as s:
            if not isinstance(count, int):
                count = await count(s)
            group_id = None
            if req.group:
                group_id = await s.scalar(
                    select(models.ServerGroup.id).where(models.ServerGroup.uuid == req.group)
                )
                if group_id is not None:
                    await self._check_members(s, ctx.project_id or "", group_id, count)
            for index in range(count):
                name = req.name if count == 1 else f"{req.name}-{index + 1}"
                uuid = str(uuidlib.uuid4())
                host_name = req.hostname or sanitize_hostname(name, f"server-{uuid}")
                if count > 1 and req.hostname:
                    host_name = f"{req.hostname}-{index + 1}"
                row = models.Instance(
                    uuid=uuid,
                    display_name=name,
                    display_description=req.description,
                    hostname=host_name,
                    project_id=ctx.project_id or "",
                    user_id=ctx.user_id,
                    availability_zone=zone,
                    flavor=req.flavor,
                    image_ref=req.image["id"] if req.image else "",
                    vm_state=states.BUILDING,
                    task_state=states.SCHEDULING,
                    power_state=0,
                    key_name=req.key_name,
                    key_data=req.key_data,
                    user_data=req.user_data,
                    config_drive=req.config_drive,
                    access_ip_v4=req.access_ip_v4,
                    access_ip_v6=req.access_ip_v6,
                    launch_index=index,
                    reservation_id=reservation,
                    network_info=[],
                    security_groups=req.security_groups,
                    request={
                        "nics": [n.__dict__ for n in req.nics],
                        "security_group_ids": req.security_group_ids,
                        "forced_host": req.forced_host,
                        "group": req.group,
                        "image": req.image,
                        "block_devices": req.block_devices,
                        "disk_config": req.disk_config,
                        "files": req.files,
                    },
                    trusted_image_certificates=req.trusted_certs,
                )
                s.add(row)
                await s.flush()
                _add_parts(s, req, uuid, group_id)
                await start_action(s, ctx, row, "create")
                rows.append(row)
        return rows

    async def _check_members(
        self, s: AsyncSession, project_id: str, group_id: int, adding: int
    ) -> None:
        """Nova's ``server_group_members`` check: 403 when ``adding`` more servers would pass
        it, counted under the project's quota lock (concurrent boots into one group count one
        after the other)."""
        limit = (await self.quotas.limits_in(s, project_id))["server_group_members"]
        if limit < 0:
            return
        await self.quotas.lock(s, project_id)
        members = await s.scalar(
            select(func.count())
            .select_from(models.ServerGroupMember)
            .where(models.ServerGroupMember.group_id == group_id)
        )
        if int(members or 0) + adding > limit:
            raise GroupMembersQuotaExceeded()

    # -- reads -------------------------------------------------------------------------
    async def get(self, ctx: RequestContext | None, uuid: str) -> Server:
        async with self.context.db.session() as s:
            row = await get_row(s, ctx, uuid)
            return (await self._servers(s, [row]))[0]

    async def visible_row(self, ctx: RequestContext | None, uuid: str) -> models.Instance:
        """The live server's row as the caller may see it (404 otherwise; ``ctx`` None: any)."""
        async with self.context.db.session() as s:
            return await get_row(s, ctx, uuid)

    async def get_any(self, uuid: str, *, deleted: bool = True) -> models.Instance | None:
        """The row of ``uuid`` whatever its project (deleted ones too, by default)."""
        async with self.context.db.session() as s:
            stmt = select(models.Instance).where(models.Instance.uuid == uuid)
            if not deleted:
                stmt = stmt.where(models.Instance.deleted.is_(False))
            row: models.Instance | None = await s.scalar(stmt)
            return row

    async def _servers(self, s: AsyncSession, rows: Sequence[ServerRow]) -> list[Server]:
        uuids = [r.uuid for r in rows]
        # Only the servers that have extras get entries: four dictionaries of every server of a
        # 1,000-server list, mostly empty, were a twelfth of its time.
        meta: dict[str, dict[str, str]] = {}
        tags: dict[str, list[str]] = {}
        vols: dict[str, list[dict[str, Any]]] = {}
        groups: dict[str, list[str]] = {}
        if uuids:
            conn = await s.connection()
            for kind, uuid, value, extra, _at in await conn.execute(_extras(), {"uuids": uuids}):
                if kind == "m":
                    meta.setdefault(uuid, {})[value] = extra
                elif kind == "t":
                    tags.setdefault(uuid, []).append(value)
                elif kind == "v":
                    vol = {"id": value, "delete_on_termination": extra == "1"}
                    vols.setdefault(uuid, []).append(vol)
                else:
                    groups.setdefault(uuid, []).append(value)
        ports = await self._ports(rows)
        return [
            Server(
                row=r,
                metadata=meta.get(r.uuid) or {},
                tags=sorted(tags[r.uuid]) if r.uuid in tags else [],
                volumes=vols.get(r.uuid) or [],
                group_uuids=groups.get(r.uuid) or [],
                ports=ports.get(r.uuid) or [],
            )
            for r in rows
        ]

    async def _ports(self, rows: Sequence[ServerRow]) -> dict[str, list[dict[str, Any]]]:
        """The servers' ports as their ``addresses`` show them. Only servers with network info
        have ports (Nova too shows its network info cache): none asked for the others."""
        uuids = [r.uuid for r in rows if r.network_info]
        if not uuids or self.context.runtime.optional(NetworkAPI) is None:
            return {}
        return await self.context.network.device_addresses(uuids)

    async def listing(
        self,
        ctx: RequestContext,
        f: ListFilters,
        sort: list[tuple[str, str]],
        limit: int,
        marker: str | None,
        *,
        detail: bool,
    ) -> list[Server]:
        """One page of servers, Nova's way: filters in SQL where it can, the name as a
        regular expression, ``created_at desc`` by default, ``marker`` a server uuid."""
        async with self.context.db.session() as s:
            # The address filters read the network info, which the summary columns leave out.
            full = detail or bool(f.ip or f.ip6)
            # Plain columns through the session's connection: the ORM's result handling
            # (it loads no objects here) was a fifth of the query's time for 1,000 rows.
            conn = await s.connection()
            if full and not (f.ip or f.ip6) and limit <= PAGE_FIRST:
                rows = await page_rows(conn, ctx, f, sort, limit, marker)
            else:
                result = await conn.execute(list_query(ctx, f, sort, full=full))
                rows = [*listed(result)] if full else list(result)
                rows = after_marker(filter_in_python(rows, f), marker)
            if f.ip or f.ip6:
                rows = filter_ip(rows, await self._ports(rows), f.ip, f.ip6)
            rows = rows[:limit]
            if not detail:
                return [Server(row=r, metadata={}, tags=[], volumes=[]) for r in rows]
            return await self._servers(s, rows)

    # -- update and delete --------------------------------------------------------------
    async def update(self, ctx: RequestContext, uuid: str, changes: dict[str, Any]) -> Server:
        async with self.context.db.session() as s:
            row = await get_row(s, ctx, uuid)
            for key, value in changes.items():
                setattr(row, key, value)
            touch(row)
            owner = (row.project_id, row.user_id, row.host)
        if "display_name" in changes:
            await self._announce_update(uuid, owner, changes["display_name"])
        return await self.get(ctx, uuid)

    async def _announce_update(
        self, uuid: str, owner: tuple[str, str, str | None], name: str
    ) -> None:
        """Nova's ``compute.instance.update``: a rename reaches metering's resource (its
        display_name) the way the agents' ``.end`` notifications do."""
        payload = {"instance_id": uuid, "tenant_id": owner[0], "user_id": owner[1]}
        payload.update(host=owner[2] or "", display_name=name)
        try:
            await self.context.bus.publish(NOTIFICATIONS, "compute.instance.update", payload)
        except Exception:
            log.exception("cannot publish compute.instance.update")

    async def metadata_any(self, uuid: str) -> dict[str, str]:
        """The metadata of ``uuid`` whatever its project (the agent's pollsters read it)."""
        async with self.context.db.session() as s:
            return {key: row.value for key, row in (await _metadata_rows(s, uuid)).items()}

    async def replace_metadata(self, uuid: str, metadata: dict[str, str]) -> dict[str, str]:
        return await self.set_metadata(None, uuid, metadata, replace=True)

    async def set_metadata(
        self,
        ctx: RequestContext | None,
        uuid: str,
        metadata: dict[str, str],
        *,
        replace: bool = False,
    ) -> dict[str, str]:
        """Merge (or, ``replace``, swap in) metadata items; 403 past the project's quota."""
        quotas = self.quotas
        async with self.context.db.session() as s:
            row = await get_row(s, ctx, uuid)
            limit = (await quotas.limits(row.project_id))["metadata_items"]
            if ctx is not None:
                check_lock(ctx, row)
            current = await _metadata_rows(s, uuid)
            final = (
                dict(metadata)
                if replace
                else {**{k: r.value for k, r in current.items()}, **metadata}
            )
            if 0 <= limit < len(final):
                raise errors.Forbidden(
                    f"Quota exceeded for metadata_items: Maximum number of metadata items "
                    f"exceeds {limit}"
                )
            for key, rec in current.items():
                if key not in final:
                    await s.delete(rec)
            for key, value in final.items():
                if key in current:
                    current[key].value = value
                else:
                    s.add(models.InstanceMetadata(instance_uuid=uuid, key=key, value=value))
            touch(row)
            return final

    async def delete_metadata(self, ctx: RequestContext, uuid: str, key: str) -> None:
        async with self.context.db.session() as s:
            row = await get_row(s, ctx, uuid)
            check_lock(ctx, row)
            current = await _metadata_rows(s, uuid)
            if key not in current:
                raise errors.NotFound("Metadata item was not found")
            await s.delete(current[key])
            touch(row)

    async def mark_deleting(
        self, ctx: RequestContext, uuid: str, *, force: bool
    ) -> tuple[models.Instance, bool]:
        """Start a delete: 409 for a server locked by someone else (Nova lets an admin
        through), otherwise ``task_state`` deleting and the ``delete`` action. The server
        and whether this call started its delete: of concurrent deletes exactly one does
        (a compare-and-set of the task state); the others answer as a repeated delete does
        in Nova, with nothing more to do. A delete still under way after
        ``REDRIVE_DELETE`` seconds (its message lost) is driven again by the next one."""
        async with self.context.db.session() as s:
            row = await get_row(s, ctx, uuid)
            if row.locked and not ctx.is_admin:
                raise InstanceLocked(id=uuid)
            now = utcnow()
            where = [models.Instance.uuid == uuid, models.Instance.deleted.is_(False)]
            if not force:
                where.append(
                    or_(
                        models.Instance.task_state.is_(None),
                        models.Instance.task_state != states.DELETING,
                        models.Instance.updated_at < now - timedelta(seconds=REDRIVE_DELETE),
                    )
                )
            won = await s.execute(
                update(models.Instance)
                .where(*where)
                .values(task_state=states.DELETING, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            if won.rowcount != 1:  # type: ignore[attr-defined]
                return row, False
            row.task_state = states.DELETING
            row.updated_at = now
            await start_action(s, ctx, row, "delete")
            return row, True

    async def finish_delete(self, uuid: str) -> None:
        async with self.context.db.session() as s:
            row = await s.scalar(select(models.Instance).where(models.Instance.uuid == uuid))
            if row is None:
                return
            now = utcnow()
            row.vm_state = states.DELETED
            row.task_state = None
            row.power_state = 0
            row.deleted = True
            row.deleted_at = now
            row.terminated_at = now
            row.updated_at = now
            for member in await s.scalars(
                select(models.ServerGroupMember).where(
                    models.ServerGroupMember.instance_uuid == uuid
                )
            ):
                await s.delete(member)
            volumes = list(
                await s.scalars(
                    select(models.VolumeAttachment).where(
                        models.VolumeAttachment.instance_uuid == uuid
                    )
                )
            )
            for att in volumes:
                await s.delete(att)
        await self._release_volumes(uuid, volumes)

    async def _release_volumes(self, uuid: str, volumes: list[models.VolumeAttachment]) -> None:
        """A deleted server's volumes are ``available`` again (deleted with
        ``delete_on_termination``)."""
        backend = self.context.volume
        if backend is None:
            return
        for att in volumes:
            try:
                await backend.detached(att.volume_id, att.id)
                if att.delete_on_termination:
                    await backend.delete(att.volume_id)
            except errors.OneStackError as exc:
                log.warning("server %s: releasing volume %s: %s", uuid, att.volume_id, exc)

    async def check_state(
        self,
        ctx: RequestContext,
        uuid: str,
        action: str,
        vm_states: tuple[str, ...],
        task_states: tuple[str | None, ...] = (None,),
    ) -> models.Instance:
        """The server, if an ``action`` is allowed in its state (409 otherwise) and it is not
        locked against the caller."""
        async with self.context.db.session() as s:
            row = await get_row(s, ctx, uuid)
            check_lock(ctx, row)
            check_state(row, action, vm_states, task_states)
            return row


@functools.cache
def _extras() -> CompoundSelect[Any]:
    """The metadata, tags, volumes and server groups of the servers bound as ``uuids`` in
    one query, as (kind, server uuid, value, extra, attached at) rows: kind "m" (key,
    value), "t" (tag), "v" (volume id, "1" to delete on termination; in attachment order),
    "g" (group uuid). The uuids are bound once, in a CTE: four lists of 1,000 of them took
    twice as long. Built once: making it (the ``case``'s argument checks alone repr a column)
    was a tenth of a 1,000-server list."""
    M, T, V = models.InstanceMetadata, models.InstanceTag, models.VolumeAttachment
    G, GM = models.ServerGroup, models.ServerGroupMember
    uuids: BindParameter[str] = bindparam("uuids", expanding=True)
    page = select(models.Instance.uuid).where(models.Instance.uuid.in_(uuids)).cte("page")
    ids = select(page.c.uuid)
    delete_on_termination = case(
        (V.delete_on_termination, literal_column("'1'")), else_=literal_column("'0'")
    )
    # PostgreSQL types a bare NULL as text, which no UNION matches with a timestamp.
    no_time = cast(null(), V.created_at.type)
    return union_all(
        select(
            literal_column("'m'").label("kind"),
            M.instance_uuid.label("uuid"),
            M.key.label("value"),
            M.value.label("extra"),
            no_time.label("at"),
        ).where(M.instance_uuid.in_(ids)),
        select(literal_column("'t'"), T.instance_uuid, T.tag, null(), no_time).where(
            T.instance_uuid.in_(ids)
        ),
        select(
            literal_column("'v'"), V.instance_uuid, V.volume_id, delete_on_termination, V.created_at
        ).where(V.instance_uuid.in_(ids)),
        select(literal_column("'g'"), GM.instance_uuid, G.uuid, null(), no_time)
        .join(G, G.id == GM.group_id)
        .where(GM.instance_uuid.in_(ids)),
    ).order_by(literal_column("kind"), literal_column("at"), literal_column("value"))


def check_lock(ctx: RequestContext, row: models.Instance) -> None:
    if row.locked and not ctx.is_admin:
        raise InstanceLocked(id=row.uuid)


def check_state(
    row: models.Instance,
    action: str,
    vm_states: tuple[str, ...],
    task_states: tuple[str | None, ...] = (None,),
) -> None:
    if vm_states and row.vm_state not in vm_states:
        raise InstanceInvalidState(action=action, id=row.uuid, attr="vm_state", state=row.vm_state)
    if row.task_state not in task_states:
        raise InstanceInvalidState(
            action=action, id=row.uuid, attr="task_state", state=row.task_state
        )


async def _metadata_rows(s: AsyncSession, uuid: str) -> dict[str, models.InstanceMetadata]:
    rows = await s.scalars(
        select(models.InstanceMetadata).where(models.InstanceMetadata.instance_uuid == uuid)
    )
    return {r.key: r for r in rows}
