"""Quotas of the block storage service (Cinder's quota sets, also per volume type), counted
from the tables at each request rather than kept as reservations."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from onestack.common import errors
from onestack.common.quota import lock_quota
from onestack.volume.errors import OverQuota
from onestack.volume.models import Backup, Quota, Snapshot, Volume, VolumeType
from onestack.volume.service.base import VolumeContext

PER_TYPE = ("volumes", "gigabytes", "snapshots")
# The ``default`` quota class is kept as the quotas of this reserved project id.
DEFAULT_CLASS = "__quota_class__default"


@dataclass(frozen=True)
class Usage:
    in_use: dict[str, int]


def defaults(context: VolumeContext) -> dict[str, int]:
    st = context.settings
    return {
        "volumes": st.quota_volumes,
        "snapshots": st.quota_snapshots,
        "gigabytes": st.quota_gigabytes,
        "backups": st.quota_backups,
        "backup_gigabytes": st.quota_backup_gigabytes,
        "groups": st.quota_groups,
        "per_volume_gigabytes": st.quota_per_volume_gigabytes,
    }


async def type_names(s: AsyncSession) -> list[str]:
    return list(await s.scalars(select(VolumeType.name).order_by(VolumeType.name)))


async def usage(s: AsyncSession, project_id: str, *, backups: bool = True) -> dict[str, int]:
    """What the project holds now: counts and GiB, overall and per volume type (the types'
    names joined in, not read by a statement of their own); ``backups``: theirs too."""
    used: dict[str, int] = {}
    # A volume whose type is gone counts under the type's id, as before the join.
    name = func.coalesce(VolumeType.name, Volume.volume_type_id)
    vols = await s.execute(
        select(name, func.count(), func.coalesce(func.sum(Volume.size), 0))
        .select_from(Volume)
        .outerjoin(VolumeType, VolumeType.id == Volume.volume_type_id)
        .where(Volume.project_id == project_id)
        .group_by(Volume.volume_type_id, VolumeType.name)
    )
    used["volumes"] = used["gigabytes"] = 0
    for type_name, count, size in vols:
        used["volumes"] += count
        used["gigabytes"] += int(size)
        used[f"volumes_{type_name}"] = count
        used[f"gigabytes_{type_name}"] = int(size)
    snaps = await s.execute(
        select(name, func.count(), func.coalesce(func.sum(Snapshot.size), 0))
        .select_from(Snapshot)
        .join(Volume, Volume.id == Snapshot.volume_id)
        .outerjoin(VolumeType, VolumeType.id == Volume.volume_type_id)
        .where(Snapshot.project_id == project_id)
        .group_by(Volume.volume_type_id, VolumeType.name)
    )
    used["snapshots"] = 0
    for type_name, count, size in snaps:
        used["snapshots"] += count
        used["gigabytes"] += int(size)
        used[f"snapshots_{type_name}"] = count
        used[f"gigabytes_{type_name}"] = used.get(f"gigabytes_{type_name}", 0) + int(size)
    if not backups:
        return used
    counted = await s.execute(
        select(func.count(), func.coalesce(func.sum(Backup.size), 0)).where(
            Backup.project_id == project_id
        )
    )
    count, size = counted.one()
    used["backups"] = int(count)
    used["backup_gigabytes"] = int(size)
    return used


class Quotas:
    def __init__(self, context: VolumeContext) -> None:
        self.context = context

    async def defaults_in(self, s: AsyncSession) -> dict[str, int]:
        """The configured defaults, as the ``default`` quota class overrides them."""
        limits = defaults(self.context)
        for name in await type_names(s):
            for res in PER_TYPE:
                limits[f"{res}_{name}"] = -1
        cls = await s.scalars(select(Quota).where(Quota.project_id == DEFAULT_CLASS))
        limits.update({q.resource: q.hard_limit for q in cls})
        return limits

    async def limits_in(self, s: AsyncSession, project_id: str) -> dict[str, int]:
        limits = await self.defaults_in(s)
        own = await s.scalars(select(Quota).where(Quota.project_id == project_id))
        limits.update({q.resource: q.hard_limit for q in own})
        return limits

    async def limits(self, project_id: str) -> dict[str, int]:
        async with self.context.db.session() as s:
            return await self.limits_in(s, project_id)

    async def defaults(self) -> dict[str, int]:
        async with self.context.db.session() as s:
            return await self.defaults_in(s)

    async def update_class(self, name: str, values: dict[str, int]) -> dict[str, int]:
        """Only the ``default`` class is used (Cinder's other classes are not)."""
        if name != "default":
            raise errors.BadRequest(f"Only the quota class 'default' is supported, not {name!r}.")
        return await self.update(DEFAULT_CLASS, values)

    async def usage(self, project_id: str) -> dict[str, int]:
        async with self.context.db.session() as s:
            return await usage(s, project_id)

    async def update(self, project_id: str, values: dict[str, int]) -> dict[str, int]:
        async with self.context.db.session() as s:
            known = await self.limits_in(s, project_id)
            for key, value in values.items():
                if key not in known:
                    raise errors.BadRequest(f"Bad key(s) in quota set: {key}")
                if value < -1:
                    raise errors.BadRequest(f"Quota limit {value} for {key} must be -1 or greater.")
                row = await s.get(Quota, (project_id, key))
                if row is None:
                    s.add(Quota(project_id=project_id, resource=key, hard_limit=value))
                else:
                    row.hard_limit = value
            await s.flush()
            return await self.limits_in(s, project_id)

    async def reset(self, project_id: str) -> None:
        async with self.context.db.session() as s:
            for row in await s.scalars(select(Quota).where(Quota.project_id == project_id)):
                await s.delete(row)

    @staticmethod
    async def lock(s: AsyncSession, project_id: str) -> None:
        """Hold the project's block storage quota lock until ``s`` ends (``common.quota``):
        the first statement of a quota-bearing write, so that what it counts after stays
        true until it commits (on SQLite: it holds the one write lock from its start)."""
        held: set[str] = s.info.setdefault("volume_quota_locks", set())
        if project_id in held:  # a create takes it first, then its check would again
            return
        await lock_quota(s, f"volume:{project_id}")
        held.add(project_id)

    async def _checked_limits(self, s: AsyncSession, project_id: str) -> dict[str, int]:
        """``limits_in`` as a check reads it, in one statement: the ``default`` class's rows
        and the project's together; a per-type limit no row sets is -1 (no limit) as there,
        without listing the types."""
        limits = defaults(self.context)
        own: dict[str, int] = {}
        rows = await s.execute(
            select(Quota.project_id, Quota.resource, Quota.hard_limit).where(
                Quota.project_id.in_((DEFAULT_CLASS, project_id))
            )
        )
        for owner, resource, hard_limit in rows:
            (limits if owner == DEFAULT_CLASS else own)[resource] = hard_limit
        limits.update(own)
        return limits

    async def check(
        self, s: AsyncSession, project_id: str, type_name: str, deltas: dict[str, int]
    ) -> None:
        """413 when adding ``deltas`` (``volumes``, ``gigabytes``, ``snapshots``) to the
        project's usage would pass a limit, overall or for the volume type. Counted under
        the project's quota lock (taken here too, for a project other than the caller's)."""
        await self.lock(s, project_id)
        limits = await self._checked_limits(s, project_id)
        size = deltas.get("gigabytes", 0)
        per_volume = limits.get("per_volume_gigabytes", -1)
        if "volumes" in deltas and per_volume >= 0 and size > per_volume:
            raise OverQuota(
                f"VolumeSizeExceedsLimit: Requested volume size {size}G is larger than "
                f"maximum allowed limit {per_volume}G."
            )
        used = await usage(s, project_id, backups=False)  # no check counts backups
        for res, delta in deltas.items():
            for key in (res, f"{res}_{type_name}"):
                limit = limits.get(key, -1)
                if limit < 0 or delta <= 0:
                    continue
                have = used.get(key, 0)
                if have + delta > limit:
                    raise OverQuota(over_message(res, delta, have, limit))


def over_message(res: str, delta: int, have: int, limit: int) -> str:
    if res == "gigabytes":
        return (
            f"VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed "
            f"gigabytes quota. Requested {delta}G, quota is {limit}G and {have}G has been "
            "consumed."
        )
    kind = {"volumes": "Volume", "snapshots": "Snapshot"}.get(res, res)
    return f"{kind}LimitExceeded: Maximum number of {res} allowed ({limit}) exceeded for quota."
