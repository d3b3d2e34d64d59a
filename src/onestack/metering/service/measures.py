"""Measures: posted to the incoming queue at once (the write path never waits for
aggregation), read back from the aggregated series."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from onestack.common import errors as common_errors
from onestack.common.context import RequestContext
from onestack.metering import errors, models, processing, render, schemas, series, timeutil
from onestack.metering.archive import Policy
from onestack.metering.series import Floats, Int64s
from onestack.metering.service.base import Context, resource_uuid
from onestack.metering.service.metrics import Metrics

NS = timeutil.NS


class Measures:
    def __init__(self, ctx: Context, metrics: Metrics) -> None:
        self.ctx = ctx
        self.metrics = metrics

    async def add(self, metric_id: str, measures: schemas.Measures) -> None:
        ts, values = measures.timestamps, measures.values
        if ts.size:
            blob = series.serialize_points(ts, values)
            await asyncio.to_thread(self.ctx.incoming.add, metric_id, blob)
            self.ctx.wake.set()

    async def add_many(self, batches: list[tuple[str, Int64s, Floats]]) -> None:
        blobs = [(mid, series.serialize_points(ts, v)) for mid, ts, v in batches if ts.size]
        if blobs:
            await asyncio.to_thread(self.ctx.incoming.add_many, blobs)
            self.ctx.wake.set()

    async def batch_metrics(
        self, rc: RequestContext, body: schemas.MetricsMeasures, may_post: Any
    ) -> None:
        """``{metric_id: [measures]}``; unknown or unwritable metrics: one 400 naming them."""
        parsed = body.batches
        rows = await self.metrics.visible_rows(rc, list(parsed))
        unknown = [mid for mid in parsed if mid not in rows]
        if unknown:
            raise UnknownMetrics(unknown)
        await may_post(list(rows.values()))
        await self.add_many([(mid, ts, v) for mid, (ts, v) in parsed.items()])

    async def batch_resources(
        self, rc: RequestContext, body: schemas.ResourcesMeasures, create: bool, may_post: Any
    ) -> None:
        """``{resource_id: {name: [measures] | {archive_policy_name, unit, measures}}}``;
        with ``create``, missing named metrics are made of their specs."""
        batches: list[tuple[str, Int64s, Floats]] = []
        unknown_resources: list[dict[str, str]] = []
        unknown_metrics: list[str] = []
        for raw_id, named in body.batches.items():
            names = (await self.metrics.names_of([resource_uuid(raw_id)])).get(
                resource_uuid(raw_id), {}
            )
            if not await self._resource_visible(rc, raw_id):
                unknown_resources.append(
                    {"resource_id": resource_uuid(raw_id), "original_resource_id": raw_id}
                )
                continue
            missing = {n: spec for n, spec in named.items() if n not in names}
            if missing and create:
                specs = {n: schemas.metric_spec(m.spec, n) for n, m in missing.items()}
                await self.metrics.create_named(rc, raw_id, specs)
                names = (await self.metrics.names_of([resource_uuid(raw_id)]))[
                    resource_uuid(raw_id)
                ]
            elif missing:
                unknown_metrics.extend(f"{resource_uuid(raw_id)}/{n}" for n in missing)
                continue
            for name, measures in named.items():
                batches.append((names[name], measures.timestamps, measures.values))
        if unknown_resources:
            raise UnknownResources(unknown_resources)
        if unknown_metrics:
            raise UnknownMetrics(unknown_metrics)
        rows = await self.metrics.rows_by_id([b[0] for b in batches])
        await may_post(list(rows.values()))
        await self.add_many(batches)

    async def _resource_visible(self, rc: RequestContext, raw_id: str) -> bool:
        from onestack.metering.service.base import may_see_resource

        async with self.ctx.db.session() as s:
            res = await s.get(models.Resource, resource_uuid(raw_id))
        return res is not None and may_see_resource(rc, res.project_id, res.creator)

    # --- reading ----------------------------------------------------------------------

    async def read(
        self, row: models.Metric, policy: Policy, params: Mapping[str, str]
    ) -> list[list[Any]]:
        out: list[list[Any]] = []
        for gran, ts, values in await self.series(row, policy, params):
            g = gran / NS
            out.extend(
                [t, g, v] for t, v in zip(timeutil.format_many(ts), values.tolist(), strict=True)
            )
        return out

    async def rendered(
        self, row: models.Metric, policy: Policy, params: Mapping[str, str]
    ) -> bytes:
        """``read`` rendered as the response body at once."""
        return render.measures_json(await self.series(row, policy, params))

    async def series(
        self, row: models.Metric, policy: Policy, params: Mapping[str, str]
    ) -> list[tuple[int, Int64s, Floats]]:
        """(granularity shown, bucket starts, values) for each granularity, coarsest first."""
        method = params.get("aggregation") or "mean"
        if method not in policy.aggregation_methods:
            raise errors.AggregationNotFound(
                method=method, granularity=params.get("granularity", "any"), id=row.id
            )
        start = _stamp(params.get("start"), "start")
        stop = _stamp(params.get("stop"), "stop")
        grans = [d.granularity for d in reversed(policy.definition)]
        if params.get("granularity"):
            wanted = round(timeutil.parse_timespan(params["granularity"]) * NS)
            if wanted not in grans:
                raise errors.AggregationNotFound(
                    method=method, granularity=params["granularity"], id=row.id
                )
            grans = [wanted]
        resample = params.get("resample")
        resample_ns = round(timeutil.parse_timespan(resample) * NS) if resample else None
        if resample_ns is not None and not params.get("granularity"):
            raise errors.InvalidInput(reason="A granularity must be specified to resample")
        out: list[tuple[int, Int64s, Floats]] = []
        for gran in grans:
            since = None if start is None else (start // gran) * gran
            ts, values = await asyncio.to_thread(
                processing.read_series, self.ctx.store, row.id, gran, method, since, stop
            )
            shown = gran
            if resample_ns is not None:
                ts, values = series.resample(ts, values, resample_ns, method)
                shown = resample_ns
            out.append((shown, ts, values))
        return out


def _stamp(value: str | None, name: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        return timeutil.parse_timestamp(value)
    except common_errors.BadRequest:
        raise errors.InvalidInput(reason=f"Unable to parse `{name}' timestamp: {value}") from None


class UnknownMetrics(errors.InvalidInput):
    def __init__(self, ids: list[str]) -> None:
        super().__init__(f"Unknown metrics: {', '.join(ids)}")
        self.description: Any = {"cause": "Unknown metrics", "detail": ids}


class UnknownResources(errors.InvalidInput):
    def __init__(self, ids: list[dict[str, str]]) -> None:
        super().__init__("Unknown resources")
        self.description: Any = {"cause": "Unknown resources", "detail": ids}
