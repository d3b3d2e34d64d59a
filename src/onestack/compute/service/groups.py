"""Server groups: a policy (affinity, anti-affinity and their soft forms) over member servers,
which the scheduler honours."""

from __future__ import annotations

import builtins
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, select

from onestack.common import errors
from onestack.common.context import RequestContext
from onestack.common.db import utcnow
from onestack.compute import models
from onestack.compute.service.base import ComputeContext
from onestack.compute.service.quotas import Quotas

POLICIES = ("affinity", "anti-affinity", "soft-affinity", "soft-anti-affinity")


class GroupNotFound(errors.NotFound):
    template = "Instance group {id} could not be found."


class GroupQuotaExceeded(errors.Forbidden):
    template = "Quota exceeded, too many server groups."


class GroupMembersQuotaExceeded(errors.Forbidden):
    template = "Quota exceeded, too many servers in group"


@dataclass
class Group:
    uuid: str
    name: str
    project_id: str
    user_id: str
    policy: str
    rules: dict[str, Any]
    members: list[str] = field(default_factory=list)  # live instances' uuids

    def as_dict(self) -> dict[str, Any]:
        return {
            "uuid": self.uuid,
            "name": self.name,
            "project_id": self.project_id,
            "user_id": self.user_id,
            "policy": self.policy,
            "rules": dict(self.rules),
            "members": list(self.members),
        }


class Groups:
    def __init__(self, context: ComputeContext, quotas: Quotas) -> None:
        self.context = context
        self.quotas = quotas

    async def _members(self, s: Any, group_ids: list[int]) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {g: [] for g in group_ids}
        if not group_ids:
            return out
        rows = await s.execute(
            select(models.ServerGroupMember.group_id, models.ServerGroupMember.instance_uuid)
            .join(models.Instance, models.Instance.uuid == models.ServerGroupMember.instance_uuid)
            .where(
                models.ServerGroupMember.group_id.in_(group_ids), models.Instance.deleted.is_(False)
            )
            .order_by(models.Instance.created_at, models.Instance.id)
        )
        for gid, instance_uuid in rows:
            out[gid].append(instance_uuid)
        return out

    @staticmethod
    def _view(row: models.ServerGroup, members: list[str]) -> Group:
        return Group(
            row.uuid, row.name, row.project_id, row.user_id, row.policy, row.rules or {}, members
        )

    async def _row(self, s: Any, ctx: RequestContext | None, group_uuid: str) -> models.ServerGroup:
        row = await s.scalar(
            select(models.ServerGroup).where(models.ServerGroup.uuid == group_uuid)
        )
        # Another project's group is as good as absent (an admin sees every group).
        if row is None or (
            ctx is not None and not ctx.is_admin and row.project_id != ctx.project_id
        ):
            raise GroupNotFound(id=group_uuid)
        return row  # type: ignore[no-any-return]

    async def get(self, ctx: RequestContext | None, group_uuid: str) -> dict[str, Any]:
        """The group as a dict (``uuid``, ``name``, ``policy``, ``rules``, ``members``,
        ``project_id``, ``user_id``); 404 when ``ctx`` may not see it (None: no check)."""
        return (await self.show(ctx, group_uuid)).as_dict()

    async def show(self, ctx: RequestContext | None, group_uuid: str) -> Group:
        async with self.context.db.session() as s:
            row = await self._row(s, ctx, group_uuid)
            return self._view(row, (await self._members(s, [row.id]))[row.id])

    async def list(
        self,
        ctx: RequestContext,
        *,
        all_projects: bool = False,
        limit: int | None = None,
        offset: int = 0,
    ) -> builtins.list[Group]:
        stmt = select(models.ServerGroup).order_by(models.ServerGroup.id)
        if not all_projects:
            stmt = stmt.where(models.ServerGroup.project_id == (ctx.project_id or ""))
        if offset:
            stmt = stmt.offset(offset)
        if limit is not None:
            stmt = stmt.limit(limit)
        async with self.context.db.session() as s:
            rows = list(await s.scalars(stmt))
            members = await self._members(s, [r.id for r in rows])
        return [self._view(r, members[r.id]) for r in rows]

    async def create(
        self, ctx: RequestContext, name: str, policy: str, rules: dict[str, Any]
    ) -> Group:
        project_id = ctx.project_id or ""
        limit = (await self.quotas.user_limits(project_id, ctx.user_id))["server_groups"]
        async with self.context.db.session() as s:
            await self.quotas.lock(s, project_id)
            count = await s.scalar(
                select(func.count())
                .select_from(models.ServerGroup)
                .where(models.ServerGroup.project_id == project_id)
            )
            if limit >= 0 and int(count or 0) + 1 > limit:
                raise GroupQuotaExceeded()
            row = models.ServerGroup(
                uuid=str(uuid.uuid4()),
                name=name,
                project_id=project_id,
                user_id=ctx.user_id,
                policy=policy,
                rules=rules,
                created_at=utcnow(),
            )
            s.add(row)
        return self._view(row, [])

    async def delete(self, ctx: RequestContext, group_uuid: str) -> None:
        async with self.context.db.session() as s:
            row = await self._row(s, ctx, group_uuid)
            await s.execute(
                delete(models.ServerGroupMember).where(models.ServerGroupMember.group_id == row.id)
            )
            await s.delete(row)

    async def add_member(self, group_uuid: str, instance_uuid: str) -> None:
        """Put a server in the group; 403 beyond the group's project's
        ``server_group_members`` quota, 404 for an unknown group."""
        async with self.context.db.session() as s:
            row = await self._row(s, None, group_uuid)
            limit = (await self.quotas.limits(row.project_id))["server_group_members"]
            if limit >= 0:
                await self.quotas.lock(s, row.project_id)
            members = (await self._members(s, [row.id]))[row.id]
            if instance_uuid in members:
                return
            if limit >= 0 and len(members) + 1 > limit:
                raise GroupMembersQuotaExceeded()
            existing = await s.get(models.ServerGroupMember, (row.id, instance_uuid))
            if existing is None:
                s.add(models.ServerGroupMember(group_id=row.id, instance_uuid=instance_uuid))

    async def remove_member(self, instance_uuid: str) -> None:
        """Take a (deleted) server out of every group it is in."""
        async with self.context.db.session() as s:
            await s.execute(
                delete(models.ServerGroupMember).where(
                    models.ServerGroupMember.instance_uuid == instance_uuid
                )
            )

    async def group_of(self, instance_uuid: str) -> str | None:
        """The uuid of the group the server is in, if any."""
        async with self.context.db.session() as s:
            found = await s.scalar(
                select(models.ServerGroup.uuid)
                .join(
                    models.ServerGroupMember,
                    models.ServerGroupMember.group_id == models.ServerGroup.id,
                )
                .where(models.ServerGroupMember.instance_uuid == instance_uuid)
            )
            return str(found) if found is not None else None
