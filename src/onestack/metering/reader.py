"""``MeteringAPI`` for the other services: the publisher's writes and the reads the alarm
evaluator makes, with the caller's visibility (an alarm sees its project's resources)."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import ImmutableMultiDict

from onestack.common.context import RequestContext
from onestack.common.http import validate
from onestack.metering import errors, timeutil
from onestack.metering.facade import Point
from onestack.metering.publisher import Publisher
from onestack.metering.schemas import Aggregates
from onestack.metering.service.base import may_see_resource


def _params(**values: Any) -> ImmutableMultiDict[str, str]:
    return ImmutableMultiDict({k: str(v) for k, v in values.items() if v is not None})


def _points(rows: list[list[Any]]) -> list[Point]:
    return [
        Point(timeutil.parse_timestamp(t) / timeutil.NS, float(g), float(v))
        for t, g, v in rows
        if v is not None
    ]


class MeteringFacade(Publisher):
    async def resource_visible(self, ctx: RequestContext, resource_id: str) -> bool:
        try:
            row = await self.svc.resources.row(ctx, resource_id)
        except errors.ResourceNotFound:
            return False
        return may_see_resource(ctx, row.project_id, row.creator)

    async def metric_visible(self, ctx: RequestContext, metric_id: str) -> bool:
        try:
            await self.svc.metrics.row(ctx, metric_id)
        except errors.MetricNotFound:
            return False
        return True

    async def measures(
        self,
        ctx: RequestContext,
        resource_id: str,
        metric: str,
        *,
        aggregation: str,
        granularity: float,
        start: float | None = None,
        stop: float | None = None,
    ) -> list[Point]:
        mid = await self.svc.metrics.named_id(ctx, resource_id, metric)
        row = await self.svc.metrics.row(ctx, mid)
        policy = await self.svc.metrics.policy_of(row)
        await self.svc.processor.refresh(row.id, policy)
        params = _params(aggregation=aggregation, granularity=granularity, start=start, stop=stop)
        return _points(await self.svc.measures.read(row, policy, params))

    async def aggregate(
        self,
        ctx: RequestContext,
        operations: Any,
        *,
        granularity: float,
        start: float | None = None,
        stop: float | None = None,
        search: Any = None,
        resource_type: str | None = None,
    ) -> list[Point]:
        body: dict[str, Any] = {"operations": operations}
        if search is not None or resource_type is not None:
            body["search"] = search
            body["resource_type"] = resource_type or "generic"
        params = _params(granularity=granularity, start=start, stop=stop, needed_overlap=0)
        query = validate(Aggregates, body)
        result = await self.svc.aggregates.fetch(ctx, query, params, [], False)
        measures = result["measures"]
        if "aggregated" in measures:
            return _points(measures["aggregated"])
        rows: list[list[Any]] = []
        _collect(measures, rows)
        return _points(rows)


def _collect(tree: Any, out: list[list[Any]]) -> None:
    for value in tree.values():
        if isinstance(value, list):
            out.extend(value)
        elif isinstance(value, dict):
            _collect(value, out)
