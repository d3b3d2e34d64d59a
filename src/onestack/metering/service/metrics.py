"""Metrics: a series with an archive policy, alone or a named metric of a resource."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from onestack.common.context import RequestContext
from onestack.metering import errors, models, views
from onestack.metering.archive import Policy
from onestack.metering.schemas import MetricCreate, MetricSpec
from onestack.metering.service.archive import ArchivePolicies
from onestack.metering.service.base import (
    Context,
    creator,
    may_see_resource,
    resource_uuid,
    sees_all,
)

MAX_LIMIT = 1000
LIST_FILTERS = ("name", "unit", "archive_policy_name", "resource_id", "creator")


def _uuid(value: str) -> str | None:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


class Metrics:
    def __init__(self, ctx: Context, policies: ArchivePolicies) -> None:
        self.ctx = ctx
        self.policies = policies

    async def _new_row(
        self,
        rc: RequestContext,
        spec: MetricSpec,
        resource_id: str | None,
        name: str | None,
        s: AsyncSession | None = None,
    ) -> models.Metric:
        """A new metric's row; its policy looked up in ``s``, the caller's transaction."""
        policy_name = spec.archive_policy_name
        if policy_name is None:
            policy_name = await self.policies.policy_for_metric(name, s)
        await self.policies.get(policy_name, s)
        return models.Metric(
            id=str(uuid.uuid4()),
            name=name,
            unit=spec.unit,
            archive_policy_name=policy_name,
            resource_id=resource_id,
            creator=creator(rc),
        )

    async def create(self, rc: RequestContext, body: MetricCreate) -> dict[str, Any]:
        name, resource_id = body.name, body.resource_id
        if resource_id is not None and name is not None:
            await self.create_named(rc, resource_id, {name: body.spec})
            return await self.show(rc, await self.named_id(rc, resource_id, name))
        row = await self._new_row(rc, body.spec, None, name)
        async with self.ctx.db.session() as s:
            s.add(row)
        return views.metric_view(row, await self.policies.get(row.archive_policy_name))

    async def attach(
        self,
        s: AsyncSession,
        rc: RequestContext,
        resource: models.Resource,
        metrics: Mapping[str, MetricSpec | str],
        replace: bool = False,
    ) -> dict[str, str]:
        """Add named metrics to ``resource`` in session ``s`` (a spec makes one, an id adopts
        it); their names and ids."""
        existing = {
            m.name: m
            for m in (
                await s.scalars(
                    select(models.Metric).where(models.Metric.resource_id == resource.id)
                )
            ).all()
        }
        for name, spec in metrics.items():
            if name in existing:
                if not replace:
                    raise errors.NamedMetricExists(name=name)
                continue
            if isinstance(spec, str):
                await self._adopt(s, rc, resource, name, spec)
                continue
            row = await self._new_row(rc, spec, resource.id, name, s)
            s.add(row)
            existing[name] = row
        await s.flush()
        rows = await s.scalars(
            select(models.Metric).where(models.Metric.resource_id == resource.id)
        )
        return {str(m.name): m.id for m in rows.all()}

    async def _adopt(
        self,
        s: AsyncSession,
        rc: RequestContext,
        resource: models.Resource,
        name: str,
        metric_id: str,
    ) -> None:
        row = await s.get(models.Metric, _uuid(metric_id) or metric_id)
        if row is None or not await self._visible(rc, row, s=s):
            raise errors.InvalidInput(reason=f"Metric {metric_id} does not exist")
        if row.resource_id is not None and row.resource_id != resource.id:
            raise errors.InvalidInput(reason=f"Metric {metric_id} belongs to another resource")
        row.resource_id, row.name = resource.id, name

    async def create_named(
        self, rc: RequestContext, resource_id: str, metrics: Mapping[str, MetricSpec | str]
    ) -> list[dict[str, Any]]:
        async with self.ctx.db.session() as s:
            res = await s.get(models.Resource, resource_uuid(resource_id))
            if res is None or not may_see_resource(rc, res.project_id, res.creator):
                raise errors.ResourceNotFound(id=resource_id)
            await self.attach(s, rc, res, metrics)
            rows = (
                await s.scalars(select(models.Metric).where(models.Metric.resource_id == res.id))
            ).all()
        all_policies = await self.policies.all()
        return [views.metric_view(m, all_policies.get(m.archive_policy_name)) for m in rows]

    async def ensure_named(
        self, rc: RequestContext, resource_id: str, metrics: Mapping[str, MetricSpec]
    ) -> dict[str, str]:
        """The resource's named metrics (names and ids), those of ``metrics`` it lacks made
        first, in one unit of work: a publisher met a new guest's nine metrics one by one,
        each costing three, and a boot storm's first poll kept the event loop busy (#19)."""
        async with self.ctx.db.session() as s:
            res = await s.get(models.Resource, resource_uuid(resource_id))
            if res is None or not may_see_resource(rc, res.project_id, res.creator):
                raise errors.ResourceNotFound(id=resource_id)
            rows = await s.execute(
                select(models.Metric.name, models.Metric.id).where(
                    models.Metric.resource_id == res.id
                )
            )
            names = {str(name): str(mid) for name, mid in rows.all()}
            for name, spec in metrics.items():
                if name not in names:
                    row = await self._new_row(rc, spec, res.id, name, s)
                    s.add(row)
                    names[name] = row.id
        return names

    async def names_of(self, resource_ids: Sequence[str]) -> dict[str, dict[str, str]]:
        out: dict[str, dict[str, str]] = {rid: {} for rid in resource_ids}
        if not resource_ids:
            return out
        async with self.ctx.db.session() as s:
            rows = await s.execute(
                select(models.Metric.resource_id, models.Metric.name, models.Metric.id).where(
                    models.Metric.resource_id.in_(list(resource_ids))
                )
            )
            for rid, name, mid in rows.all():
                out.setdefault(str(rid), {})[str(name)] = mid
        return out

    # --- lookup ---------------------------------------------------------------------------

    async def _visible(
        self,
        rc: RequestContext,
        row: models.Metric,
        resource: models.Resource | None = None,
        s: AsyncSession | None = None,
    ) -> bool:
        if sees_all(rc) or row.creator.partition(":")[2] == rc.project_id:
            return True
        if row.resource_id is None:
            return False
        if resource is None and s is not None:  # the caller's transaction (see ``_new_row``)
            resource = await s.get(models.Resource, row.resource_id)
        elif resource is None:
            async with self.ctx.db.session() as own:
                resource = await own.get(models.Resource, row.resource_id)
        return resource is not None and may_see_resource(rc, resource.project_id, resource.creator)

    async def row(self, rc: RequestContext, metric_id: str) -> models.Metric:
        mid = _uuid(metric_id)
        row = None
        if mid is not None:
            async with self.ctx.db.session() as s:
                row = await s.get(models.Metric, mid)
        if row is None or not await self._visible(rc, row, s=s):
            raise errors.MetricNotFound(id=metric_id)
        return row

    async def named_id(self, rc: RequestContext, resource_id: str, name: str) -> str:
        async with self.ctx.db.session() as s:
            res = await s.get(models.Resource, resource_uuid(resource_id))
            if res is None or not may_see_resource(rc, res.project_id, res.creator):
                raise errors.ResourceNotFound(id=resource_id)
            mid = await s.scalar(
                select(models.Metric.id).where(
                    models.Metric.resource_id == res.id, models.Metric.name == name
                )
            )
        if mid is None:
            raise errors.MetricNotFound(id=name)
        return mid

    async def target(self, row: models.Metric) -> dict[str, Any]:
        """The policy target of a metric: its creator and its resource's owner."""
        return (await self.targets([row]))[row.id]

    async def targets(self, rows: Sequence[models.Metric]) -> dict[str, dict[str, Any]]:
        """Each metric's policy target, its resources read in one query."""
        owners = {r.resource_id for r in rows if r.resource_id is not None}
        found: dict[str, dict[str, Any]] = {}
        if owners:
            async with self.ctx.db.session() as s:
                result = await s.execute(
                    select(
                        models.Resource.id, models.Resource.project_id, models.Resource.user_id
                    ).where(models.Resource.id.in_(list(owners)))
                )
                found = {rid: {"project_id": p, "user_id": u} for rid, p, u in result.all()}
        return {r.id: self._target(r, found.get(r.resource_id or "", {})) for r in rows}

    @staticmethod
    def _target(row: models.Metric, resource: dict[str, Any]) -> dict[str, Any]:
        user, _, project = row.creator.partition(":")
        return {
            "creator": row.creator,
            "created_by_user_id": user,
            "created_by_project_id": project or None,
            "resource": resource,
        }

    async def show(self, rc: RequestContext, metric_id: str) -> dict[str, Any]:
        row = await self.row(rc, metric_id)
        resource: dict[str, Any] | None = None
        if row.resource_id is not None:
            async with self.ctx.db.session() as s:
                res = await s.get(models.Resource, row.resource_id)
            if res is not None:
                resource = views.resource_view(res, None)
        return views.metric_view(row, await self.policies.get(row.archive_policy_name), resource)

    async def policy_of(self, row: models.Metric) -> Policy:
        return await self.policies.get(row.archive_policy_name)

    async def listing(
        self,
        rc: RequestContext,
        query: Mapping[str, str],
        limit: int | None,
        marker: str | None,
        sort: Sequence[tuple[str, str]],
    ) -> list[dict[str, Any]]:
        stmt = select(models.Metric)
        for key in LIST_FILTERS:
            if key in query:
                stmt = stmt.where(getattr(models.Metric, key) == query[key])
        if not sees_all(rc):
            owned = select(models.Resource.id).where(models.Resource.project_id == rc.project_id)
            stmt = stmt.where(
                or_(
                    models.Metric.creator.like(f"%:{rc.project_id}"),
                    models.Metric.resource_id.in_(owned),
                )
            )
        keys = [*sort, ("id", "asc")]
        for key, direction in keys:
            if key not in ("id", "name", "unit", "archive_policy_name", "resource_id", "creator"):
                raise errors.InvalidInput(reason=f"Invalid sort key {key!r}")
            col = getattr(models.Metric, key)
            stmt = stmt.order_by(col.desc() if direction.startswith("desc") else col.asc())
        async with self.ctx.db.session() as s:
            rows = list((await s.scalars(stmt)).all())
        if marker is not None:
            ids = [r.id for r in rows]
            if marker not in ids:
                raise errors.InvalidInput(reason=f"Invalid marker: `{marker}'")
            rows = rows[ids.index(marker) + 1 :]
        rows = rows[: min(limit or MAX_LIMIT, MAX_LIMIT)]
        policies = await self.policies.all()
        return [views.metric_view(r, policies.get(r.archive_policy_name)) for r in rows]

    async def delete(self, rc: RequestContext, metric_id: str) -> None:
        row = await self.row(rc, metric_id)
        async with self.ctx.db.session() as s:
            live = await s.get(models.Metric, row.id)
            if live is None:  # a concurrent delete won
                raise errors.MetricNotFound(id=metric_id)
            await s.delete(live)
        await self.drop_series([row.id])

    async def drop_series(self, metric_ids: Sequence[str]) -> None:
        def drop() -> None:
            for mid in metric_ids:
                self.ctx.incoming.delete(mid)
                self.ctx.store.delete_metric(mid)

        if metric_ids:
            await asyncio.to_thread(drop)

    async def visible_rows(
        self, rc: RequestContext, ids: Sequence[str]
    ) -> dict[str, models.Metric]:
        """The metrics of ``ids`` the caller may see, in two queries whatever their number."""
        wanted = [u for u in (_uuid(i) for i in ids) if u is not None]
        rows = await self.rows_by_id(wanted)
        if sees_all(rc):
            return rows
        owners = {r.resource_id for r in rows.values() if r.resource_id is not None}
        projects: dict[str, tuple[str | None, str]] = {}
        if owners:
            async with self.ctx.db.session() as s:
                found = await s.execute(
                    select(
                        models.Resource.id, models.Resource.project_id, models.Resource.creator
                    ).where(models.Resource.id.in_(list(owners)))
                )
                projects = {rid: (project, made_by) for rid, project, made_by in found.all()}
        out = {}
        for mid, row in rows.items():
            mine = row.creator.partition(":")[2] == rc.project_id
            owner = projects.get(row.resource_id or "")
            if mine or (owner is not None and may_see_resource(rc, *owner)):
                out[mid] = row
        return out

    async def rows_by_id(self, ids: Sequence[str]) -> dict[str, models.Metric]:
        async with self.ctx.db.session() as s:
            rows = await s.scalars(select(models.Metric).where(models.Metric.id.in_(list(ids))))
            return {r.id: r for r in rows.all()}
