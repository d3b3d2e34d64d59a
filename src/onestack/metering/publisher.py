"""Ceilometer's Gnocchi publisher: samples become resources, named metrics and measures.
A resource is made with every metric its type's definition names (``definitions``), so
they read as empty series before the first sample. Known resources and metrics are
remembered, so a steady poll costs one queue write."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from onestack.common import errors as common_errors
from onestack.common.agent import KeyedLocks
from onestack.common.logging import get_logger
from onestack.metering import errors, timeutil
from onestack.metering.definitions import metrics_of
from onestack.metering.facade import SERVICE_CONTEXT, Sample
from onestack.metering.schemas import ResourceCreate, ResourceUpdate, metric_spec
from onestack.metering.service import MeteringService
from onestack.metering.service.base import resource_uuid

log = get_logger(__name__)


class Publisher:
    def __init__(self, svc: MeteringService) -> None:
        self.svc = svc
        self.metric_ids: dict[tuple[str, str], str] = {}
        self.attributes: dict[str, dict[str, Any]] = {}
        self.locks = KeyedLocks()

    async def publish(self, samples: Sequence[Sample], *, new: bool = False) -> None:
        """``new``: the samples are of resources just made (a create notification's), which
        are then made at once, read only when they exist already."""
        by_resource: dict[str, list[Sample]] = {}
        for sample in samples:
            by_resource.setdefault(resource_uuid(sample.resource_id), []).append(sample)
        batches: dict[str, tuple[list[int], list[float]]] = {}
        for rid, group in by_resource.items():
            for sample, mid in await self._metrics(rid, group, new):
                ts, values = batches.setdefault(mid, ([], []))
                ts.append(int(sample.timestamp * timeutil.NS))
                values.append(float(sample.value))
        await self.svc.measures.add_many(
            [
                (mid, np.array(ts, dtype=np.int64), np.array(v, dtype=np.float64))
                for mid, (ts, v) in batches.items()
            ]
        )

    async def _metrics(self, rid: str, group: list[Sample], new: bool) -> list[tuple[Sample, str]]:
        """Each sample of resource ``rid`` with its metric's id. A new resource is made with
        all their metrics, and the metrics a known one lacks are made together: a guest's
        first poll made its nine metrics one by one, three or four sessions each, about
        40 ms of the event loop per new server (#19). When one sample is refused, each is
        taken on its own, so that the others are kept."""
        try:
            async with self.locks(rid):
                for sample in group:
                    await self._ensure(
                        sample.resource_type, sample.resource_id, sample.project_id,
                        sample.user_id, sample.attributes, group, new=new,
                    )  # fmt: skip
                missing = {s.name: s for s in group if (rid, s.name) not in self.metric_ids}
                if missing:
                    await self._make_metrics(rid, list(missing.values()))
                return [(s, self.metric_ids[(rid, s.name)]) for s in group]
        except errors.InvalidInput:
            pass
        out = []
        for sample in group:
            try:
                out.append((sample, await self._metric(sample, new)))
            except errors.InvalidInput:
                log.exception("metering: sample %s of %s refused", sample.name, sample.resource_id)
        return out

    async def _make_metrics(self, rid: str, samples: list[Sample]) -> None:
        """The samples' metrics on resource ``rid`` (made where missing), remembered."""
        specs = {s.name: metric_spec(await self._metric_spec(s), s.name) for s in samples}
        try:
            names = await self.svc.metrics.ensure_named(SERVICE_CONTEXT, rid, specs)
        except (errors.NamedMetricExists, common_errors.Conflict):
            # Another publisher (another process) made one of them meanwhile.
            names = (await self.svc.metrics.names_of([rid])).get(rid, {})
        for name in specs:
            self.metric_ids[(rid, name)] = names[name]

    async def _metric(self, sample: Sample, new: bool = False) -> str:
        rid = resource_uuid(sample.resource_id)
        key = (rid, sample.name)
        # One resource at a time: a volume's create.start and create.end arrive together,
        # and both making its resource and metric cost a failed transaction each time.
        async with self.locks(rid):
            await self._ensure(
                sample.resource_type, sample.resource_id, sample.project_id, sample.user_id,
                sample.attributes, (sample,), new=new,
            )  # fmt: skip
            known = self.metric_ids.get(key)
            if known is not None:
                return known
            names = (await self.svc.metrics.names_of([rid])).get(rid, {})
            if sample.name not in names:
                spec = {sample.name: metric_spec(await self._metric_spec(sample), sample.name)}
                # Another publisher (another process) may make the same metric meanwhile.
                with contextlib.suppress(errors.NamedMetricExists, common_errors.Conflict):
                    await self.svc.metrics.create_named(SERVICE_CONTEXT, rid, spec)
                names = (await self.svc.metrics.names_of([rid])).get(rid, {})
            self.metric_ids[key] = names[sample.name]
            return names[sample.name]

    async def _metric_spec(self, sample: Sample) -> dict[str, str]:
        policy = sample.archive_policy or await self._policy(sample.cumulative)
        return {"archive_policy_name": policy, "unit": sample.unit}

    async def _new_metrics(
        self, rtype: str, samples: Sequence[Sample]
    ) -> dict[str, dict[str, str]]:
        """A new resource's metrics: its type's definition's, each with the policy and unit
        its first sample would give it, and the ``samples``' (those of other names too)."""
        policies: dict[bool, str] = {}

        async def policy(cumulative: bool) -> str:
            if cumulative not in policies:
                policies[cumulative] = await self._policy(cumulative)
            return policies[cumulative]

        specs = {
            name: {"archive_policy_name": await policy(m.cumulative), "unit": m.unit}
            for name, m in metrics_of(rtype).items()
        }
        for s in samples:
            specs[s.name] = {
                "archive_policy_name": s.archive_policy or await policy(s.cumulative),
                "unit": s.unit,
            }
        return specs

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

    async def ensure_resource(
        self,
        rtype: str,
        resource_id: str,
        project_id: str | None,
        user_id: str | None,
        attributes: Mapping[str, Any],
        *,
        new: bool = False,
    ) -> None:
        """The resource exists with these attributes: created, or updated where they
        changed (a resize's flavor, a migration's host, a rename); an ended one stays so.
        ``new``: it was just made (a create's notification), so made at once as ``publish``
        does, not looked for first."""
        async with self.locks(resource_uuid(resource_id)):
            await self._ensure(rtype, resource_id, project_id, user_id, attributes, new=new)

    async def _ensure(
        self,
        rtype: str,
        resource_id: str,
        project_id: str | None,
        user_id: str | None,
        attributes: Mapping[str, Any],
        samples: Sequence[Sample] = (),
        *,
        new: bool = False,
    ) -> None:
        """``ensure_resource`` under the resource's lock; a new resource is made with its
        type's metrics and the ``samples``' in the same transaction, and their ids
        remembered."""
        rid = resource_uuid(resource_id)
        wanted = dict(attributes)
        seen = self.attributes.get(rid)
        if seen == wanted:
            return
        # A new one (a volume's create) is made at once, read to be updated only when it
        # exists: a session less for each. Not for every one this publisher has not seen: after
        # a restart, each of the pollsters' known resources would cost a refused create.
        if new and seen is None:
            with contextlib.suppress(errors.ResourceExists):
                await self._create(rtype, resource_id, project_id, user_id, wanted, samples)
                self.attributes[rid] = wanted
                return
        try:
            row = await self.svc.resources.row(SERVICE_CONTEXT, rid)
        except errors.ResourceNotFound:
            with contextlib.suppress(errors.ResourceExists):
                await self._create(rtype, resource_id, project_id, user_id, wanted, samples)
        else:
            changed = {k: v for k, v in wanted.items() if row.attributes.get(k) != v}
            if changed and row.ended_at is None:
                change = await self.svc.resources.parse(ResourceUpdate, row.type, changed)
                await self.svc.resources.update(SERVICE_CONTEXT, rid, row.type, change)
        self.attributes[rid] = wanted

    async def _create(
        self,
        rtype: str,
        resource_id: str,
        project_id: str | None,
        user_id: str | None,
        attributes: dict[str, Any],
        samples: Sequence[Sample],
    ) -> None:
        """The resource made with its type's and the ``samples``' metrics, their ids
        remembered (ResourceExists when it exists)."""
        body = {"id": resource_id, "project_id": project_id, "user_id": user_id, **attributes}
        metrics = await self._new_metrics(rtype, samples)
        if metrics:
            body["metrics"] = metrics
        spec = await self.svc.resources.parse(ResourceCreate, rtype, body)
        made = await self.svc.resources.create(SERVICE_CONTEXT, rtype, spec)
        rid = resource_uuid(resource_id)
        for name, mid in made["metrics"].items():
            self.metric_ids[(rid, name)] = str(mid)

    async def end_resource(self, resource_id: str, ended_at: float) -> None:
        rid = resource_uuid(resource_id)
        ended = timeutil.to_datetime(int(ended_at * timeutil.NS))
        async with self.locks(rid):
            own_type = await self.svc.resources.end(rid, ended)
            self.attributes.pop(rid, None)
            # Only an instance has children (its disks and interfaces): a volume's or an
            # image's end is its own row's alone, without three searches.
            if own_type is None or own_type == "instance":
                for res_id, _res_type, was_ended in await self._children(rid):
                    if was_ended is None:
                        await self.svc.resources.end(res_id, ended)
                    self.attributes.pop(res_id, None)

    async def _children(self, rid: str) -> list[tuple[str, str, Any]]:
        out: list[tuple[str, str, Any]] = []
        for instance_type in ("instance_disk", "instance_network_interface"):
            for res in await self.svc.resources.search(
                SERVICE_CONTEXT,
                instance_type,
                {"=": {"instance_id": rid}},
                details=True,
                sort=(),
                limit=None,
                marker=None,
            ):
                out.append((res["id"], res["type"], res.get("ended_at")))
        return out
