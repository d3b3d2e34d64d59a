"""``POST /v1/aggregates``: the operations language over metrics named by id, or by name
over the resources a search finds (optionally grouped by resource attributes)."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from onestack.common.context import RequestContext
from onestack.metering import errors, models, operations, processing, schemas, timeutil
from onestack.metering.archive import Policy
from onestack.metering.service.base import Context
from onestack.metering.service.metrics import Metrics
from onestack.metering.service.resources import Resources

NS = timeutil.NS


@dataclass(frozen=True)
class Ref:
    metric: models.Metric
    policy: Policy
    aggregation: str
    key: tuple[str, str]  # as written in the operations (id or name, aggregation)
    resource_id: str | None = None


@dataclass(frozen=True)
class Query:
    start: int | None
    stop: int | None
    granularity: int | None
    needed_overlap: float
    fill: Any  # None, a number, "null", "dropna", "ffill", "bfill", "full_ffill", "full_bfill"


def query_of(params: Mapping[str, str]) -> Query:
    def stamp(name: str) -> int | None:
        value = params.get(name)
        return timeutil.parse_timestamp(value) if value else None

    gran = params.get("granularity")
    overlap = params.get("needed_overlap")
    fill: Any = params.get("fill")
    if fill is None and overlap is None:
        fill = "dropna"
    if fill is not None and fill not in (
        "null",
        "dropna",
        "ffill",
        "bfill",
        "full_ffill",
        "full_bfill",
    ):
        try:
            fill = float(fill)
        except ValueError:
            raise errors.InvalidInput(reason=f"Invalid fill value {fill!r}") from None
    try:
        needed = float(overlap) if overlap is not None else 100.0
    except ValueError:
        raise errors.InvalidInput(reason=f"Invalid needed_overlap {overlap!r}") from None
    return Query(
        stamp("start"),
        stamp("stop"),
        round(timeutil.parse_timespan(gran) * NS) if gran else None,
        needed,
        fill,
    )


class Aggregates:
    def __init__(self, ctx: Context, metrics: Metrics, resources: Resources) -> None:
        self.ctx = ctx
        self.metrics = metrics
        self.resources = resources

    async def fetch(
        self,
        rc: RequestContext,
        body: schemas.Aggregates,
        params: Mapping[str, str],
        groupby: Sequence[str],
        details: bool,
    ) -> Any:
        tree, keys = body.operations, body.references
        q = query_of(params)
        if not body.by_resources:
            refs = await self._refs_by_id(rc, keys)
            result = await self._measures(tree, refs, q, by_resource=False)
            out: dict[str, Any] = {"measures": result}
            if details:
                out["references"] = [await self.metrics.show(rc, r.metric.id) for r in refs]
            return out
        found = await self.resources.search(
            rc, body.resource_type, body.search, details=True, sort=(), limit=None, marker=None
        )
        if not groupby:
            return await self._by_name(rc, tree, keys, found, q, details)
        groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
        for res in found:
            groups.setdefault(tuple(str(res.get(g)) for g in groupby), []).append(res)
        out_groups = []
        for key in sorted(groups):
            members = groups[key]
            measures = await self._by_name(rc, tree, keys, members, q, details, strict=False)
            if measures is not None:
                group = {g: members[0].get(g) for g in groupby}
                out_groups.append({"group": group, "measures": measures})
        return out_groups

    async def _by_name(
        self,
        rc: RequestContext,
        tree: Any,
        keys: list[tuple[str, str]],
        found: list[dict[str, Any]],
        q: Query,
        details: bool,
        strict: bool = True,
    ) -> Any:
        wanted = {name for name, _ in keys}
        rows = await self.metrics.rows_by_id(
            [mid for r in found for n, mid in r.get("metrics", {}).items() if n in wanted]
        )
        refs: list[Ref] = []
        for res in found:
            for name, agg in keys:
                mid = res.get("metrics", {}).get(name)
                if mid in rows:
                    policy = await self.metrics.policy_of(rows[mid])
                    refs.append(Ref(rows[mid], policy, agg, (name, agg), res["id"]))
        if not refs:
            if not strict:
                return None
            names = sorted(wanted)
            raise errors.MetricNotFound(id=", ".join(names))
        result = await self._measures(tree, refs, q, by_resource=True)
        out: dict[str, Any] = {"measures": result}
        if details:
            out["references"] = [r for r in found if any(x.resource_id == r["id"] for x in refs)]
        return out

    async def _refs_by_id(self, rc: RequestContext, keys: list[tuple[str, str]]) -> list[Ref]:
        refs: list[Ref] = []
        missing: list[str] = []
        rows = await self.metrics.visible_rows(rc, [mid for mid, _ in keys])
        by_text = {mid: rows.get(str(_as_uuid(mid))) for mid, _ in keys}
        for mid, agg in keys:
            row = by_text[mid]
            if row is None:
                missing.append(mid)
                continue
            refs.append(Ref(row, await self.metrics.policy_of(row), agg, (mid, agg)))
        if missing:
            raise errors.described(
                errors.MetricNotFound(id=", ".join(missing)),
                {"cause": "Unknown metrics", "detail": missing},
            )
        return refs

    async def _measures(self, tree: Any, refs: list[Ref], q: Query, by_resource: bool) -> Any:
        for ref in refs:
            if ref.aggregation not in ref.policy.aggregation_methods:
                raise errors.described(
                    errors.AggregationNotFound(
                        method=ref.aggregation, granularity="any", id=ref.metric.id
                    ),
                    {
                        "cause": "Metrics with unknown aggregation",
                        "detail": [[ref.metric.id, ref.aggregation]],
                    },
                )
        grans = self._granularities(refs, q.granularity)
        series_by_gran: dict[int, list[tuple[Any, Any]]] = {}
        for gran in grans:
            since = None if q.start is None else (q.start // gran) * gran
            series_by_gran[gran] = await asyncio.to_thread(
                self._read_all, refs, gran, since, q.stop
            )
        keys = [r.key for r in refs]
        if by_resource:  # the same (name, agg) of several resources: one column each
            keys = [(f"{r.resource_id}/{r.key[0]}", r.key[1]) for r in refs]
            tree = _expand(tree, refs)
        aggregated: list[list[Any]] = []
        columns: dict[int, list[Any]] = {}
        is_agg = False
        for gran in sorted(grans, reverse=True):
            times, grid = _grid(series_by_gran[gran], q, keys)
            g, t, values, is_agg = operations.evaluate(tree, gran, times, grid, keys)
            values = np.asarray(values, dtype=np.float64)
            if values.ndim == 0:
                values = np.full((len(t), 1), float(values))
            if is_agg:
                aggregated.extend(_rows(t, g, values[:, 0], q.fill))
            else:
                columns[gran] = [(t, g, values[:, i]) for i in range(values.shape[1])]
        if is_agg:
            return {"aggregated": aggregated}
        return _by_ref(refs, columns, q.fill, by_resource)

    def _read_all(
        self, refs: list[Ref], gran: int, start: int | None, stop: int | None
    ) -> list[tuple[Any, Any]]:
        """Every reference's series in one thread hand-off (1,000 metrics: one, not 1,000)."""
        return [
            processing.read_series(self.ctx.store, r.metric.id, gran, r.aggregation, start, stop)
            for r in refs
        ]

    @staticmethod
    def _granularities(refs: list[Ref], wanted: int | None) -> list[int]:
        if wanted is not None:
            missing = [r for r in refs if r.policy.granularity(wanted) is None]
            if missing:
                raise errors.InvalidInput(
                    reason=f"Granularities are missing: {[r.key for r in missing]}"
                )
            return [wanted]
        counts = Counter(d.granularity for r in refs for d in r.policy.definition)
        common = [g for g, n in counts.items() if n == len(refs)]
        if not common:
            raise errors.InvalidInput(reason="No granularity match")
        return common


def _as_uuid(text: str) -> str | None:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return None


def _expand(tree: Any, refs: list[Ref]) -> Any:
    """``(metric cpu mean)`` over resources: ``(metric (R1/cpu mean) (R2/cpu mean))``."""
    if not isinstance(tree, list):
        return tree
    if tree[0] == "metric":
        pairs = set(operations.metric_pairs(tree))
        expanded = [[f"{r.resource_id}/{r.key[0]}", r.key[1]] for r in refs if r.key in pairs]
        return ["metric", *expanded] if expanded else ["metric", ["-", "-"]]
    return [tree[0], *(_expand(n, refs) for n in tree[1:])]


def _grid(parts: list[tuple[Any, Any]], q: Query, keys: list[tuple[str, str]]) -> tuple[Any, Any]:
    times = np.unique(np.concatenate([p[0] for p in parts])) if parts else np.empty(0, np.int64)
    filler = np.nan if q.fill is None or isinstance(q.fill, str) else float(q.fill)
    grid = np.full((times.size, len(parts)), filler)
    for i, (ts, values) in enumerate(parts):
        grid[np.searchsorted(times, ts), i] = values
    if q.fill in ("ffill", "full_ffill", "full_bfill"):
        grid = _ffill(grid) if q.fill != "full_bfill" else _ffill(_ffill(grid[::-1])[::-1])
    if q.fill in ("bfill", "full_ffill"):
        grid = _ffill(grid[::-1])[::-1]
    if q.fill is None and times.size:
        full = np.flatnonzero(~np.isnan(grid).any(axis=1))
        if full.size == 0 and q.needed_overlap > 0:
            raise errors.InvalidInput(reason=f"No overlap between {keys}")
        if full.size:
            if q.stop is None:
                times, grid = times[: full[-1] + 1], grid[: full[-1] + 1]
            if q.start is None:
                times, grid = times[full[0] :], grid[full[0] :]
            percent = np.count_nonzero(~np.isnan(grid).any(axis=1)) * 100.0 / times.size
            if percent < q.needed_overlap:
                raise errors.InvalidInput(
                    reason=f"Less than {q.needed_overlap}% of datapoints overlap in this "
                    f"timespan ({percent:.2f}%)"
                )
    return times, grid


def _ffill(grid: Any) -> Any:
    out = grid.copy()
    for row in range(1, out.shape[0]):
        missing = np.isnan(out[row])
        out[row, missing] = out[row - 1, missing]
    return out


def _rows(times: Any, gran: int, values: Any, fill: Any) -> list[list[Any]]:
    if fill in ("dropna", "ffill", "bfill", "full_ffill", "full_bfill"):
        keep = np.isfinite(values)
        times, values = times[keep], values[keep]
    g = gran / NS
    return [
        [t, g, None if v != v else v]
        for t, v in zip(timeutil.format_many(times), values.tolist(), strict=True)
    ]


def _by_ref(
    refs: list[Ref], columns: dict[int, list[Any]], fill: Any, by_resource: bool
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for gran in sorted(columns, reverse=True):
        for ref, (t, g, values) in zip(refs, columns[gran], strict=False):
            rows = _rows(t, g, values, fill)
            if by_resource:
                assert ref.resource_id is not None
                slot = out.setdefault(ref.resource_id, {}).setdefault(ref.key[0], {})
            else:
                slot = out.setdefault(ref.metric.id, {})
            slot.setdefault(ref.aggregation, []).extend(rows)
    return out
