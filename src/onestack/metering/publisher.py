"""Ceilometer's Gnocchi publisher: samples become resources, named metrics and measures.
Known resources and metrics are remembered, so a steady poll costs one queue write."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from onestack.common import errors as common_errors
from onestack.common.logging import get_logger
from onestack.metering import errors, timeutil
from onestack.metering.facade import SERVICE_CONTEXT, Sample
from onestack.metering.service import MeteringService
from onestack.metering.service.base import resource_uuid

log = get_logger(__name__)


class Publisher:
    def __init__(self, svc: MeteringService) -> None:
        self.svc = svc
        self.metric_ids: dict[tuple[str, str], str] = {}
        self.attributes: dict[str, dict[str, Any]] = {}

    async def publish(self, samples: Sequence[Sample]) -> None:
        batches: dict[str, tuple[list[int], list[float]]] = {}
        for sample in samples:
            try:
                mid = await self._metric(sample)
            except errors.InvalidInput:
                log.exception("metering: sample %s of %s refused", sample.name, sample.resource_id)
                continue
            ts, values = batches.setdefault(mid, ([], []))
            ts.append(int(sample.timestamp * timeutil.NS))
            values.append(float(sample.value))
        await self.svc.measures.add_many(
            [
                (mid, np.array(ts, dtype=np.int64), np.array(v, dtype=np.float64))
                for mid, (ts, v) in batches.items()
            ]
        )

    async def _metric(self, sample: Sample) -> str:
        rid = resource_uuid(sample.resource_id)
        key = (rid, sample.name)
        await self._resource(sample, rid)
        known = self.metric_ids.get(key)
        if known is not None:
            return known
        names = (await self.svc.metrics.names_of([rid])).get(rid, {})
        if sample.name not in names:
            policy = sample.archive_policy or await self._policy(sample.cumulative)
            spec = {sample.name: {"archive_policy_name": policy, "unit": sample.unit}}
            # Another notification's handler may make the same metric at the same moment.
            with contextlib.suppress(errors.NamedMetricExists, common_errors.Conflict):
                await self.svc.metrics.create_named(SERVICE_CONTEXT, rid, spec)
            names = (await self.svc.metrics.names_of([rid])).get(rid, {})
        self.metric_ids[key] = names[sample.name]
        return names[sample.name]

    async def _policy(self, cumulative: bool) -> str:
        """``[metering] archive_policy``, its ``-rate`` variant for counters when it has one."""
        name = self.svc.ctx.settings.archive_policy
        if cumulative:
            try:
                await self.svc.policies.get(f"{name}-rate")
                return f"{name}-rate"
            except errors.ArchivePolicyNotFound:
                pass
        return name

    async def _resource(self, sample: Sample, rid: str) -> None:
        await self.ensure_resource(
            sample.resource_type,
            sample.resource_id,
            sample.project_id,
            sample.user_id,
            sample.attributes,
        )

    async def ensure_resource(
        self,
        rtype: str,
        resource_id: str,
        project_id: str | None,
        user_id: str | None,
        attributes: Mapping[str, Any],
    ) -> None:
        """The resource exists with these attributes: created, or updated where they
        changed (a resize's flavor, a migration's host, a rename); an ended one stays so."""
        rid = resource_uuid(resource_id)
        wanted = dict(attributes)
        if self.attributes.get(rid) == wanted:
            return
        try:
            row = await self.svc.resources.row(SERVICE_CONTEXT, rid)
        except errors.ResourceNotFound:
            body = {"id": resource_id, "project_id": project_id, "user_id": user_id, **wanted}
            with contextlib.suppress(errors.ResourceExists):
                await self.svc.resources.create(SERVICE_CONTEXT, rtype, body)
        else:
            changed = {k: v for k, v in wanted.items() if row.attributes.get(k) != v}
            if changed and row.ended_at is None:
                await self.svc.resources.update(SERVICE_CONTEXT, rid, row.type, changed)
        self.attributes[rid] = wanted

    async def end_resource(self, resource_id: str, ended_at: float) -> None:
        rid = resource_uuid(resource_id)
        ended = timeutil.format_timestamp(int(ended_at * timeutil.NS))
        children = await self.svc.resources.search(
            SERVICE_CONTEXT,
            "generic",
            {"or": [{"=": {"id": rid}}]},
            details=True,
            sort=(),
            limit=None,
            marker=None,
        )
        for instance_type in ("instance_disk", "instance_network_interface"):
            children += await self.svc.resources.search(
                SERVICE_CONTEXT,
                instance_type,
                {"=": {"instance_id": rid}},
                details=True,
                sort=(),
                limit=None,
                marker=None,
            )
        for res in children:
            if res.get("ended_at") is None:
                await self.svc.resources.update(
                    SERVICE_CONTEXT, res["id"], res["type"], {"ended_at": ended}
                )
            self.attributes.pop(res["id"], None)
