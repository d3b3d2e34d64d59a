"""Quotas: defaults from the settings (or the ``default`` quota class), per-project limits,
and the checks a boot or resize makes against the project's usage."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Text, cast, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from onestack.common import errors
from onestack.common.db import json_loads
from onestack.common.quota import lock_quota
from onestack.compute import models
from onestack.compute.service.base import ComputeContext

RESOURCES = (
    "instances",
    "cores",
    "ram",
    "key_pairs",
    "server_groups",
    "server_group_members",
    "metadata_items",
    "injected_files",
    "injected_file_content_bytes",
    "injected_file_path_bytes",
)


# nova-network's quotas: gone from Nova, still shown (at these values) before 2.36.
LEGACY = {"fixed_ips": -1, "floating_ips": 10, "security_group_rules": 20, "security_groups": 10}
# Quotas a user (not only a project) may have.
PER_USER = ("instances", "cores", "ram", "key_pairs", "metadata_items")


class OverQuota(errors.Forbidden):
    """Nova's 403 for a boot beyond the quota."""

    template = (
        "Quota exceeded for {resources}: Requested {req}, but already used {used} of "
        "{limit} {resources}"
    )


class Quotas:
    def __init__(self, context: ComputeContext) -> None:
        self.context = context

    async def defaults(self) -> dict[str, int]:
        async with self.context.db.session() as s:
            return await self._defaults(s)

    async def _defaults(self, s: AsyncSession) -> dict[str, int]:
        c = self.context.settings.compute
        out = {r: int(getattr(c, f"quota_{r}")) for r in RESOURCES}
        out.update(LEGACY)
        for row in await s.scalars(
            select(models.QuotaClass).where(models.QuotaClass.class_name == "default")
        ):
            out[row.resource] = row.hard_limit
        return out

    async def limits(self, project_id: str) -> dict[str, int]:
        async with self.context.db.session() as s:
            return await self.limits_in(s, project_id)

    async def limits_in(self, s: AsyncSession, project_id: str) -> dict[str, int]:
        """The project's limits, read in the caller's session."""
        out = await self._defaults(s)
        for row in await s.scalars(
            select(models.Quota).where(
                models.Quota.project_id == project_id, models.Quota.user_id == ""
            )
        ):
            out[row.resource] = row.hard_limit
        return out

    async def instance_usage(
        self, project_id: str, session: AsyncSession | None = None
    ) -> dict[str, int]:
        """Servers, cores and RAM the project's live servers hold (resizes count the new
        flavor, as Nova's counting does); read in ``session`` when given (under its lock)."""
        # Counted by distinct flavor text: a project's servers share a few flavors, and
        # decoding each server's (1,000 of them) made every /limits and boot pay for them all.
        flavor, new_flavor = (
            cast(models.Instance.flavor, Text),
            cast(models.Instance.new_flavor, Text),
        )
        stmt = (
            select(flavor, new_flavor, func.count())
            .where(models.Instance.project_id == project_id, models.Instance.deleted.is_(False))
            .group_by(flavor, new_flavor)
        )
        if session is not None:
            rows = (await session.execute(stmt)).all()
        else:
            async with self.context.db.session() as s:
                rows = (await s.execute(stmt)).all()
        used = {"instances": 0, "cores": 0, "ram": 0}
        for text, new_text, count in rows:
            # SQL's NULL or JSON's null: no resize under way.
            f: dict[str, Any] = (json_loads(new_text) if new_text else None) or json_loads(text)
            used["instances"] += count
            used["cores"] += int(f["vcpus"]) * count
            used["ram"] += int(f["memory_mb"]) * count
        return used

    async def check_instances(
        self,
        project_id: str,
        count: int,
        vcpus: int,
        memory_mb: int,
        *,
        existing: bool = False,
        limits: dict[str, int] | None = None,
        session: AsyncSession | None = None,
    ) -> None:
        """403 when ``count`` more servers of this size would exceed the project's quota
        (``existing``: a resize, which adds cores and RAM but no server); ``limits``: the
        project's, when the caller has just read them; ``session``: one holding the
        project's quota lock (``lock``), so that the answer holds until it commits."""
        if limits is None and session is not None:
            # In the lock holder's transaction: another session would want a second
            # connection while this one holds the database's write lock (SQLite).
            limits = await self.limits_in(session, project_id)
        elif limits is None:
            limits = await self.limits(project_id)
        used = await self.instance_usage(project_id, session)
        wanted = {
            "instances": 0 if existing else count,
            "cores": vcpus * count,
            "ram": memory_mb * count,
        }
        over = [r for r, n in wanted.items() if n and limits[r] >= 0 and used[r] + n > limits[r]]
        if over:
            names = ", ".join(over)
            raise OverQuota(
                resources=names,
                req=", ".join(str(wanted[r]) for r in over),
                used=", ".join(str(used[r]) for r in over),
                limit=", ".join(str(limits[r]) for r in over),
            )

    async def instances_within(
        self,
        project_id: str,
        min_count: int,
        max_count: int,
        vcpus: int,
        memory_mb: int,
        limits: dict[str, int],
        session: AsyncSession | None = None,
    ) -> int:
        """As many servers of this size as the quota allows, up to ``max_count``; Nova's 403
        (for ``min_count``) when not even ``min_count`` fit. ``session``: as for
        ``check_instances``."""
        used = await self.instance_usage(project_id, session)
        count = max_count
        for resource, each in (("instances", 1), ("cores", vcpus), ("ram", memory_mb)):
            if limits[resource] >= 0 and each > 0:
                count = min(count, (limits[resource] - used[resource]) // each)
        if count < min_count:
            await self.check_instances(
                project_id, min_count, vcpus, memory_mb, limits=limits, session=session
            )
        return max(count, min_count)

    @staticmethod
    async def lock(session: AsyncSession, project_id: str) -> None:
        """Hold the project's compute quota lock until ``session`` ends: the counts read in
        it after this stay true until it commits (``common.quota``)."""
        await lock_quota(session, f"compute:{project_id}")

    async def user_limits(self, project_id: str, user_id: str) -> dict[str, int]:
        """The project's limits overridden by the user's own."""
        out = await self.limits(project_id)
        async with self.context.db.session() as s:
            for row in await s.scalars(
                select(models.Quota).where(
                    models.Quota.project_id == project_id, models.Quota.user_id == user_id
                )
            ):
                out[row.resource] = row.hard_limit
        return out

    async def class_limits(self, class_name: str) -> dict[str, int]:
        """A quota class: the defaults overridden by the class's own rows."""
        out = await self.defaults()
        async with self.context.db.session() as s:
            for row in await s.scalars(
                select(models.QuotaClass).where(models.QuotaClass.class_name == class_name)
            ):
                out[row.resource] = row.hard_limit
        return out

    async def usage(self, project_id: str, user_id: str | None = None) -> dict[str, int]:
        """What the project (or the user) holds of each countable resource."""
        used = {r: 0 for r in (*RESOURCES, *LEGACY)}
        used.update(await self.instance_usage(project_id))
        async with self.context.db.session() as s:
            used["server_groups"] = int(
                await s.scalar(
                    select(func.count())
                    .select_from(models.ServerGroup)
                    .where(models.ServerGroup.project_id == project_id)
                )
                or 0
            )
            if user_id:
                used["key_pairs"] = int(
                    await s.scalar(
                        select(func.count())
                        .select_from(models.KeyPair)
                        .where(models.KeyPair.user_id == user_id)
                    )
                    or 0
                )
        return used

    async def update(
        self,
        project_id: str,
        values: dict[str, int],
        *,
        user_id: str | None = None,
        force: bool = False,
    ) -> None:
        """Set the project's (or user's) limits; 400 below the current usage unless forced."""
        for resource, limit in values.items():
            if limit < -1:
                raise errors.BadRequest(
                    f"Quota limit {limit} for {resource} must be -1 or greater."
                )
        if not force:
            used = await self.usage(project_id, user_id)
            for resource, limit in values.items():
                if limit != -1 and limit < used.get(resource, 0):
                    raise errors.BadRequest(
                        f"Quota limit {limit} for {resource} must be greater than or equal to "
                        f"already used and reserved {used[resource]}."
                    )
        async with self.context.db.session() as s:
            for resource, limit in values.items():
                key = (project_id, user_id or "", resource)
                row = await s.get(models.Quota, key)
                if row is None:
                    s.add(
                        models.Quota(
                            project_id=project_id,
                            user_id=user_id or "",
                            resource=resource,
                            hard_limit=limit,
                        )
                    )
                else:
                    row.hard_limit = limit

    async def delete(self, project_id: str, user_id: str | None = None) -> None:
        """Back to the defaults (a project's delete also drops its users' quotas)."""
        async with self.context.db.session() as s:
            stmt = delete(models.Quota).where(models.Quota.project_id == project_id)
            if user_id:
                stmt = stmt.where(models.Quota.user_id == user_id)
            await s.execute(stmt)

    async def update_class(self, class_name: str, values: dict[str, int]) -> None:
        async with self.context.db.session() as s:
            for resource, limit in values.items():
                row = await s.get(models.QuotaClass, (class_name, resource))
                if row is None:
                    s.add(
                        models.QuotaClass(
                            class_name=class_name, resource=resource, hard_limit=limit
                        )
                    )
                else:
                    row.hard_limit = limit

    async def verify_project(self, project_id: str) -> None:
        """400 for a project the identity service does not know, as Nova asks Keystone."""
        identity = self.context.identity
        if identity is None:
            return
        if not await identity.project_exists(project_id):
            raise errors.BadRequest(f"Project ID {project_id} is not a valid project.")
