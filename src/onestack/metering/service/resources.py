"""Resources: what metrics are about (a server, a disk, a port), with attributes of their
type, history of changes, and search in Gnocchi's filter language."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from onestack.common import errors as common_errors
from onestack.common.context import RequestContext
from onestack.common.db import utcnow
from onestack.common.http import validate
from onestack.metering import errors, filters, models, resource_types, views
from onestack.metering.schemas import GnocchiBody, ResourceCreate, ResourceUpdate
from onestack.metering.service.base import (
    Context,
    creator,
    may_see_resource,
    resource_uuid,
    sees_all,
)
from onestack.metering.service.metrics import Metrics
from onestack.metering.service.types import GENERIC, ResourceTypes

B = TypeVar("B", bound=GnocchiBody)
MAX_LIMIT = 1000
DEFAULT_SORT = (("revision_start", "asc"), ("started_at", "asc"))


class Resources:
    def __init__(self, ctx: Context, types: ResourceTypes, metrics: Metrics) -> None:
        self.ctx = ctx
        self.types = types
        self.metrics = metrics

    # --- create / read ------------------------------------------------------------------

    async def parse(self, model: type[B], type_name: str, body: Any) -> B:
        """``body`` checked as ``model`` against the attributes of resource type
        ``type_name`` (the API's handlers take theirs through ``valid_body``)."""
        rtype = await self.types.get(type_name)
        return validate(model, body, {"attributes": rtype.attributes})

    async def create(
        self, rc: RequestContext, type_name: str, spec: ResourceCreate
    ) -> dict[str, Any]:
        raw_id = spec.id
        rid = resource_uuid(raw_id)
        row = models.Resource(
            id=rid,
            type=type_name,
            original_resource_id=raw_id,
            project_id=spec.project_id,
            user_id=spec.user_id,
            creator=creator(rc),
            started_at=spec.started_at,
            ended_at=spec.ended_at,
            revision_start=utcnow(),
            attributes=dict(spec.attributes),
        )
        try:
            async with self.ctx.db.session() as s:
                if await s.get(models.Resource, rid) is not None:
                    raise errors.ResourceExists(id=raw_id)
                s.add(row)
                await s.flush()
                names = await self.metrics.attach(s, rc, row, spec.metrics)
        except errors.ResourceExists:
            raise
        except common_errors.Conflict:  # a concurrent create of the same id committed first
            raise errors.ResourceExists(id=raw_id) from None
        return views.resource_view(row, names)

    async def row(self, rc: RequestContext, rid: str, type_name: str = GENERIC) -> models.Resource:
        async with self.ctx.db.session() as s:
            row = await s.get(models.Resource, resource_uuid(rid))
        if row is None or (type_name != GENERIC and row.type != type_name):
            raise errors.ResourceNotFound(id=rid)
        if not may_see_resource(rc, row.project_id, row.creator):
            raise errors.ResourceNotFound(id=rid)
        return row

    async def show(self, rc: RequestContext, rid: str, type_name: str) -> dict[str, Any]:
        row = await self.row(rc, rid, type_name)
        names = await self.metrics.names_of([row.id])
        return views.resource_view(row, names.get(row.id, {}))

    async def history(
        self, rc: RequestContext, rid: str, type_name: str, sort: Sequence[tuple[str, str]] = ()
    ) -> list[dict[str, Any]]:
        row = await self.row(rc, rid, type_name)
        async with self.ctx.db.session() as s:
            past = (
                await s.scalars(
                    select(models.ResourceHistory)
                    .where(models.ResourceHistory.resource_id == row.id)
                    .order_by(models.ResourceHistory.revision)
                )
            ).all()
        names = (await self.metrics.names_of([row.id])).get(row.id, {})
        out = [
            {**h.snapshot, "revision_end": views.iso(h.revision_end), "metrics": names}
            for h in past
        ]
        out.append(views.resource_view(row, names))
        return _sorted(out, sort) if sort else out

    # --- update / delete ------------------------------------------------------------------

    async def update(
        self, rc: RequestContext, rid: str, type_name: str, change: ResourceUpdate
    ) -> dict[str, Any]:
        async with self.ctx.db.session() as s:
            row = await s.get(models.Resource, resource_uuid(rid))
            if row is None or (type_name != GENERIC and row.type != type_name):
                raise errors.ResourceNotFound(id=rid)
            if not may_see_resource(rc, row.project_id, row.creator):
                raise errors.ResourceNotFound(id=rid)
            before = views.resource_view(row, None)
            if self._apply_update(row, change):
                before.pop("revision_end", None)
                s.add(
                    models.ResourceHistory(
                        resource_id=row.id, snapshot=before, revision_end=utcnow()
                    )
                )
                row.revision_start = utcnow()
            if change.metrics is not None:
                await self.metrics.attach(s, rc, row, change.metrics, replace=True)
        names = await self.metrics.names_of([row.id])
        return views.resource_view(row, names.get(row.id, {}))

    async def end(self, rid: str, ended_at: datetime) -> str | None:
        """The resource ended at ``ended_at`` (its history keeps what it was), unless it has
        ended already: its type, None when there is no such resource. One unit of work: a
        collector's ending of a volume or an image through ``row``, ``parse`` and ``update``
        was four, each a hand-off to the database's thread beside the service's own."""
        async with self.ctx.db.session() as s:
            row = await s.get(models.Resource, resource_uuid(rid))
            if row is None:
                return None
            if row.ended_at is None:
                if ended_at < row.started_at:
                    raise errors.InvalidInput(
                        reason="Start timestamp cannot be after end timestamp"
                    )
                before = views.resource_view(row, None)
                before.pop("revision_end", None)
                s.add(
                    models.ResourceHistory(
                        resource_id=row.id, snapshot=before, revision_end=utcnow()
                    )
                )
                row.ended_at = ended_at
                row.revision_start = utcnow()
            return row.type

    @staticmethod
    def _apply_update(row: models.Resource, change: ResourceUpdate) -> bool:
        changed = False
        for key, value in change.core.items():
            if value != getattr(row, key):
                setattr(row, key, value)
                changed = True
        if row.ended_at is not None and row.ended_at < row.started_at:
            raise errors.InvalidInput(reason="Start timestamp cannot be after end timestamp")
        merged = {**row.attributes, **change.attributes}
        if merged != row.attributes:
            row.attributes = merged
            changed = True
        return changed

    async def delete(self, rc: RequestContext, rid: str, type_name: str) -> None:
        row = await self.row(rc, rid, type_name)
        await self._delete_rows([row])

    async def _delete_rows(self, rows: Sequence[models.Resource]) -> None:
        ids = [r.id for r in rows]
        async with self.ctx.db.session() as s:
            metric_ids = list(
                (
                    await s.scalars(
                        select(models.Metric.id).where(models.Metric.resource_id.in_(ids))
                    )
                ).all()
            )
            for mid in metric_ids:
                metric = await s.get(models.Metric, mid)
                if metric is not None:  # else deleted on its own meanwhile
                    await s.delete(metric)
            for rid in ids:
                live = await s.get(models.Resource, rid)
                if live is None:  # a concurrent delete won
                    raise errors.ResourceNotFound(id=rid)
                await s.delete(live)
        await self.metrics.drop_series(metric_ids)

    async def delete_matching(self, rc: RequestContext, type_name: str, query: Any) -> int:
        rows, _ = await self._matching(rc, type_name, query, details=True)
        mine = [r for r, _ in rows]
        await self._delete_rows(mine)
        return len(mine)

    # --- list / search ----------------------------------------------------------------

    async def search(
        self,
        rc: RequestContext,
        type_name: str,
        query: Any,
        *,
        details: bool,
        sort: Sequence[tuple[str, str]],
        limit: int | None,
        marker: str | None,
        history: bool = False,
    ) -> list[dict[str, Any]]:
        """With ``history``, every revision the filter matches, not only the current ones:
        which resources ever had host X (Gnocchi's ``history=true``)."""
        rows, fields = await self._matching(rc, type_name, query, details, history)
        for key, _ in sort:
            if key not in fields and key != "id":
                raise errors.InvalidInput(reason=f"Invalid sort key {key!r}")
        views_ = [view for _, view in rows]
        ordered = _sorted(views_, [*(sort or DEFAULT_SORT), ("id", "asc")])
        if marker is not None:
            ids = [v["id"] for v in ordered]
            marker_id = resource_uuid(marker)
            if marker_id not in ids:
                raise errors.InvalidInput(reason=f"Invalid marker: `{marker}'")
            # A resource has several revisions with history: the next page starts after its
            # last one, so following the Link header always moves on.
            ordered = ordered[len(ids) - ids[::-1].index(marker_id) :]
        return ordered[: min(limit or MAX_LIMIT, MAX_LIMIT)]

    async def _matching(
        self, rc: RequestContext, type_name: str, query: Any, details: bool, history: bool = False
    ) -> tuple[list[tuple[models.Resource, dict[str, Any]]], dict[str, str]]:
        rtype = await self.types.get(type_name)
        fields = resource_types.filter_fields(rtype.attributes)
        predicate: Callable[[Mapping[str, Any]], bool] | None = None
        if query:
            if isinstance(query, str):
                query = filters.parse_string(query)
            predicate = filters.compile_filter(query, fields, type_name)
        stmt = select(models.Resource)
        if type_name != GENERIC:
            stmt = stmt.where(models.Resource.type == type_name)
        async with self.ctx.db.session() as s:
            rows = (await s.scalars(stmt)).all()
        if not sees_all(rc):
            rows = [r for r in rows if may_see_resource(rc, r.project_id, r.creator)]
        names = await self.metrics.names_of([r.id for r in rows])
        revisions = await self._revisions([r.id for r in rows]) if history else {}
        out: list[tuple[models.Resource, dict[str, Any]]] = []
        candidates = [
            (r, view)
            for r in rows
            for view in (
                *[{**past, "metrics": names.get(r.id, {})} for past in revisions.get(r.id, [])],
                views.resource_view(r, names.get(r.id, {})),
            )
        ]
        for r, view in candidates:
            if predicate is not None and not predicate(view):
                continue
            if type_name == GENERIC and not details:
                view = {k: v for k, v in view.items() if k not in r.attributes}
            out.append((r, view))
        return out, fields

    async def _revisions(self, ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        """The past revisions of each resource, oldest first, as their views were."""
        out: dict[str, list[dict[str, Any]]] = {}
        async with self.ctx.db.session() as s:
            past = await s.scalars(
                select(models.ResourceHistory)
                .where(models.ResourceHistory.resource_id.in_(ids))
                .order_by(models.ResourceHistory.revision)
            )
            for h in past.all():
                view = {**h.snapshot, "revision_end": views.iso(h.revision_end)}
                out.setdefault(h.resource_id, []).append(view)
        return out

    async def by_ids(self, session: AsyncSession, ids: Sequence[str]) -> dict[str, models.Resource]:
        rows = await session.scalars(select(models.Resource).where(models.Resource.id.in_(ids)))
        return {r.id: r for r in rows.all()}


def _sorted(items: list[dict[str, Any]], keys: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    """Stable sorts from the last key to the first; None first going up (Gnocchi's
    ``nullsfirst`` default on ascending sorts)."""
    out = list(items)
    for key, direction in reversed(keys):
        desc = direction.startswith("desc")
        present = [i for i in out if i.get(key) is not None]
        missing = [i for i in out if i.get(key) is None]
        present.sort(key=lambda i: _sort_value(i[key]), reverse=desc)
        out = present + missing if desc else missing + present
    return out


def _sort_value(value: Any) -> Any:
    return (0, value) if isinstance(value, int | float) else (1, str(value))
