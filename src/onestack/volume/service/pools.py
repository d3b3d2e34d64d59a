"""Backend pools as Cinder's scheduler tracks them: each host reports its pools' capacity;
the scheduler places a volume on the pool that fits (availability zone, backend name,
capacity with thin-provisioning overcommit) with the most free space, and counts what it
placed in ``allocated_capacity_gb``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from onestack.volume.errors import InvalidVolume
from onestack.volume.models import Pool, Volume
from onestack.volume.service.base import VolumeContext, now


@dataclass(frozen=True)
class PoolReport:
    pool: str
    total_capacity_gb: float
    free_capacity_gb: float
    thin: bool


class NoValidBackend(Exception):
    """No pool can take the volume (the volume goes to error with a user message)."""


def pool_name(host: str, backend: str, pool: str) -> str:
    return f"{host}@{backend}#{pool}"


def fits(pool: Pool, size: int) -> bool:
    """Cinder's CapacityFilter: room for ``size`` GiB after the reserved share, thin pools
    overcommitted up to ``max_over_subscription_ratio`` of their total."""
    total = pool.total_capacity_gb
    if total <= 0:
        return False
    reserved = math.floor(total * pool.reserved_percentage / 100.0)
    free = pool.free_capacity_gb - reserved
    if pool.thin and pool.max_over_subscription_ratio >= 1:
        provisioned_ratio = (pool.allocated_capacity_gb + size) / total
        if provisioned_ratio > pool.max_over_subscription_ratio:
            return False
        adjusted_free_virtual = free * pool.max_over_subscription_ratio
        return adjusted_free_virtual >= size
    return free >= size


def virtual_free(pool: Pool) -> float:
    """Cinder's CapacityWeigher for thin pools: the free space left for provisioning."""
    total = pool.total_capacity_gb
    reserved = math.floor(total * pool.reserved_percentage / 100.0)
    if pool.thin:
        return total * pool.max_over_subscription_ratio - pool.allocated_capacity_gb - reserved
    return pool.free_capacity_gb - reserved


# The capabilities a pool reports (``get_pools``) that a type's extra specs may ask for, as
# Cinder's CapabilitiesFilter matches them (plain or ``capabilities:``-scoped keys).
MATCHED_CAPABILITIES = ("vendor_name", "storage_protocol")


def capabilities(pool: Pool) -> dict[str, str]:
    return {"vendor_name": "OneStack",
            "storage_protocol": "file" if pool.driver != "fake" else "fake"}  # fmt: skip


def satisfies(pool: Pool, specs: dict[str, str]) -> bool:
    caps = capabilities(pool)
    for key, wanted in specs.items():
        name = key.removeprefix("capabilities:")
        if name in MATCHED_CAPABILITIES and caps[name] != wanted.removeprefix("<in> ").strip():
            return False
    return True


def choose(
    pools: Sequence[Pool], size: int, zone: str | None, backend: str | None, down_before: object,
    specs: dict[str, str] | None = None,
) -> Pool:  # fmt: skip
    candidates = [
        p
        for p in pools
        if not p.disabled
        and satisfies(p, specs or {})
        and p.updated_at >= down_before  # type: ignore[operator]
        and (zone is None or p.availability_zone == zone)
        and (backend is None or p.backend == backend)
    ]
    if not candidates:
        raise NoValidBackend("No valid backend was found. No weighed backends available")
    fitting = [p for p in candidates if fits(p, size)]
    if not fitting:
        raise NoValidBackend(
            f"No valid backend was found. Insufficient free space for volume creation on "
            f"any pool (requested / avail): {size}/{max(virtual_free(p) for p in candidates):.2f}"
        )
    return max(fitting, key=lambda p: (virtual_free(p), p.name))


class Pools:
    def __init__(self, context: VolumeContext) -> None:
        self.context = context

    async def report(
        self, host: str, backend: str, driver: str, zone: str, reports: Sequence[PoolReport]
    ) -> None:
        st = self.context.settings
        async with self.context.db.session() as s:
            for r in reports:
                name = pool_name(host, backend, r.pool)
                row = await s.get(Pool, name)
                if row is None:
                    row = Pool(name=name, host=host, backend=backend, allocated_capacity_gb=0)
                    s.add(row)
                row.driver = driver
                row.availability_zone = zone
                row.total_capacity_gb = r.total_capacity_gb
                row.free_capacity_gb = r.free_capacity_gb
                row.thin = r.thin
                row.reserved_percentage = st.reserved_percentage
                row.max_over_subscription_ratio = st.max_over_subscription_ratio
                row.disabled = bool(row.disabled)  # an admin's disable outlives reports
                row.updated_at = now()

    async def listing(self) -> list[Pool]:
        async with self.context.db.session() as s:
            return list(await s.scalars(select(Pool).order_by(Pool.name)))

    def down_before(self) -> object:
        return now() - timedelta(seconds=self.context.settings.service_down_time)

    async def place(
        self, s: AsyncSession, size: int, zone: str | None, backend: str | None,
        specs: dict[str, str] | None = None,
    ) -> Pool:  # fmt: skip
        """Choose a pool (one whose capabilities the type's ``specs`` ask for) and count
        ``size`` GiB on it, in the caller's transaction."""
        pools = list(await s.scalars(select(Pool).with_for_update()))
        pool = choose(pools, size, zone, backend, self.down_before(), specs)
        pool.allocated_capacity_gb += size
        return pool

    async def release(self, s: AsyncSession, name: str | None, size: int) -> None:
        if name is None:
            return
        pool = await s.get(Pool, name)
        if pool is not None:
            pool.allocated_capacity_gb = max(0, pool.allocated_capacity_gb - size)

    async def zones(self) -> list[tuple[str, bool]]:
        """Each zone and whether a live pool serves it."""
        out: dict[str, bool] = {}
        down_before = self.down_before()
        for p in await self.listing():
            out[p.availability_zone] = out.get(p.availability_zone, False) or (
                p.updated_at >= down_before  # type: ignore[operator]
            )
        return sorted(out.items())

    async def place_on(self, s: AsyncSession, name: str, size: int) -> None:
        """Count ``size`` more GiB on the pool a volume is on (an extend); 400 when the pool
        cannot take them."""
        pool = await s.get(Pool, name)
        if pool is None:
            return
        if not fits(pool, size):
            raise InvalidVolume(reason=f"The pool {name} has no room for {size}G more.")
        pool.allocated_capacity_gb += size

    async def host_usage(self, name: str) -> dict[str, tuple[int, int]] | None:
        """Volumes and GiB per project on the host ``host@backend`` ("(total)" too)."""
        async with self.context.db.session() as s:
            known = await s.scalar(select(Pool.name).where(Pool.name.like(f"{name}#%")))
            if known is None:
                return None
            rows = await s.execute(
                select(Volume.project_id, func.count(), func.coalesce(func.sum(Volume.size), 0))
                .where(Volume.host.like(f"{name}#%"))
                .group_by(Volume.project_id)
            )
            usage = {project: (int(count), int(size)) for project, count, size in rows}
        total = (sum(c for c, _ in usage.values()), sum(g for _, g in usage.values()))
        return {"(total)": total, **usage}

    async def set_disabled(self, host: str, disabled: bool, reason: str | None) -> list[Pool]:
        """``os-services`` enable/disable of the volume service ``host@backend``: its pools
        take no new volumes while disabled."""
        async with self.context.db.session() as s:
            rows = list(await s.scalars(select(Pool).where(Pool.name.like(f"{host}#%"))))
            for row in rows:
                row.disabled = disabled
                row.disabled_reason = reason if disabled else None
            return rows
