"""Archive policies and archive policy rules (which policy a new metric gets by its name)."""

from __future__ import annotations

import fnmatch

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from onestack.metering import archive, errors, models
from onestack.metering.archive import Granularity, Policy
from onestack.metering.schemas import ArchivePolicyRuleCreate
from onestack.metering.service.base import Context


def _policy(row: models.ArchivePolicy) -> Policy:
    return Policy.from_row(row.name, row.back_window, row.definition, row.aggregation_methods)


class ArchivePolicies:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._cache: dict[str, Policy] = {}

    async def ensure_defaults(self) -> None:
        async with self.ctx.db.session() as s:
            have = set((await s.scalars(select(models.ArchivePolicy.name))).all())
            for p in archive.DEFAULT_POLICIES:
                if p.name not in have:
                    s.add(_row(p))
            rules = await s.scalar(select(func.count()).select_from(models.ArchivePolicyRule))
            if not rules and "low" not in have:
                s.add(
                    models.ArchivePolicyRule(
                        name="default", metric_pattern="*", archive_policy_name="low"
                    )
                )

    async def create(self, policy: Policy) -> Policy:
        name = policy.name
        async with self.ctx.db.session() as s:
            if await s.get(models.ArchivePolicy, name) is not None:
                raise errors.ArchivePolicyExists(name=name)
            s.add(_row(policy))
        return policy

    async def get(self, name: str, s: AsyncSession | None = None) -> Policy:
        """The policy ``name``, read in ``s`` when given: a write transaction's own lookups
        stay on its connection (see ``rules``)."""
        cached = self._cache.get(name)
        if cached is not None:
            return cached
        if s is not None:
            row = await s.get(models.ArchivePolicy, name)
        else:
            async with self.ctx.db.session() as own:
                row = await own.get(models.ArchivePolicy, name)
        if row is None:
            raise errors.ArchivePolicyNotFound(id=name)
        policy = self._cache[name] = _policy(row)
        return policy

    async def all(self) -> dict[str, Policy]:
        async with self.ctx.db.session() as s:
            rows = (await s.scalars(select(models.ArchivePolicy))).all()
        self._cache = {r.name: _policy(r) for r in rows}
        return dict(self._cache)

    async def update(self, name: str, definition: tuple[Granularity, ...]) -> Policy:
        """Only the definition changes, with the same granularities (Gnocchi's rule)."""
        async with self.ctx.db.session() as s:
            row = await s.get(models.ArchivePolicy, name)
            if row is None:
                raise errors.ArchivePolicyNotFound(id=name)
            old = {int(d["granularity"]) for d in row.definition}
            if old != {d.granularity for d in definition}:
                raise errors.InvalidInput(
                    reason=f"Archive policy {name} does not support change: "
                    "Cannot add or drop granularities"
                )
            row.definition = [
                {"granularity": d.granularity, "points": d.points} for d in definition
            ]
            policy = _policy(row)
        self._cache[name] = policy
        return policy

    async def delete(self, name: str) -> None:
        async with self.ctx.db.session() as s:
            row = await s.get(models.ArchivePolicy, name)
            if row is None:
                raise errors.ArchivePolicyNotFound(id=name)
            used = await s.scalar(
                select(func.count()).where(models.Metric.archive_policy_name == name)
            )
            ruled = await s.scalar(
                select(func.count()).where(models.ArchivePolicyRule.archive_policy_name == name)
            )
            if used or ruled:
                raise errors.ArchivePolicyInUse(name=name)
            await s.delete(row)
        self._cache.pop(name, None)

    # --- rules ----------------------------------------------------------------------

    async def create_rule(self, rule: ArchivePolicyRuleCreate) -> models.ArchivePolicyRule:
        await self.get(rule.archive_policy_name)
        async with self.ctx.db.session() as s:
            if await s.get(models.ArchivePolicyRule, rule.name) is not None:
                raise errors.ArchivePolicyRuleExists(name=rule.name)
            row = models.ArchivePolicyRule(**rule.model_dump())
            s.add(row)
        return row

    async def rules(self, s: AsyncSession | None = None) -> list[models.ArchivePolicyRule]:
        """The rules, read in ``s`` when given. A write transaction that read through another
        session needed a second pooled connection while holding SQLite's write lock."""
        if s is not None:
            return list((await s.scalars(select(models.ArchivePolicyRule))).all())
        async with self.ctx.db.session() as own:
            return list((await own.scalars(select(models.ArchivePolicyRule))).all())

    async def rule(self, name: str) -> models.ArchivePolicyRule:
        async with self.ctx.db.session() as s:
            row = await s.get(models.ArchivePolicyRule, name)
        if row is None:
            raise errors.ArchivePolicyRuleNotFound(id=name)
        return row

    async def rename_rule(self, name: str, new: str) -> models.ArchivePolicyRule:
        async with self.ctx.db.session() as s:
            row = await s.get(models.ArchivePolicyRule, name)
            if row is None:
                raise errors.ArchivePolicyRuleNotFound(id=name)
            if new != name and await s.get(models.ArchivePolicyRule, new) is not None:
                raise errors.ArchivePolicyRuleExists(name=new)
            renamed = models.ArchivePolicyRule(
                name=new,
                metric_pattern=row.metric_pattern,
                archive_policy_name=row.archive_policy_name,
                created_at=row.created_at,
            )
            await s.delete(row)
            await s.flush()
            s.add(renamed)
        return renamed

    async def delete_rule(self, name: str) -> None:
        async with self.ctx.db.session() as s:
            row = await s.get(models.ArchivePolicyRule, name)
            if row is None:
                raise errors.ArchivePolicyRuleNotFound(id=name)
            await s.delete(row)

    async def policy_for_metric(self, name: str | None, s: AsyncSession | None = None) -> str:
        """The policy of the rule with the longest pattern matching ``name`` (Gnocchi)."""
        rules = sorted(await self.rules(s), key=lambda r: len(r.metric_pattern), reverse=True)
        for rule in rules:
            if name is not None and fnmatch.fnmatchcase(name, rule.metric_pattern):
                return rule.archive_policy_name
        raise errors.InvalidInput(
            reason="No archive policy name specified and no archive policy rule found "
            f"matching the metric name {name}"
        )


def _row(policy: Policy) -> models.ArchivePolicy:
    return models.ArchivePolicy(
        name=policy.name,
        back_window=policy.back_window,
        definition=[{"granularity": d.granularity, "points": d.points} for d in policy.definition],
        aggregation_methods=list(policy.aggregation_methods),
    )
