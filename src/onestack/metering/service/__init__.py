"""The metering service (Gnocchi's indexer, incoming and storage halves, and metricd)."""

from __future__ import annotations

import asyncio
from typing import Any

from onestack.common.db import Database
from onestack.config import MeteringSettings
from onestack.metering.drivers.base import AggregateStore, IncomingStore
from onestack.metering.service.aggregates import Aggregates
from onestack.metering.service.archive import ArchivePolicies
from onestack.metering.service.base import Context
from onestack.metering.service.measures import Measures
from onestack.metering.service.metrics import Metrics
from onestack.metering.service.processor import Processor
from onestack.metering.service.resources import Resources
from onestack.metering.service.types import ResourceTypes


class MeteringService:
    def __init__(
        self,
        db: Database,
        settings: MeteringSettings,
        incoming: IncomingStore,
        store: AggregateStore,
    ) -> None:
        self.ctx = Context(db, settings, incoming, store)
        self.policies = ArchivePolicies(self.ctx)
        self.types = ResourceTypes(self.ctx)
        self.metrics = Metrics(self.ctx, self.policies)
        self.resources = Resources(self.ctx, self.types, self.metrics)
        self.measures = Measures(self.ctx, self.metrics)
        self.aggregates = Aggregates(self.ctx, self.metrics, self.resources)
        self.processor = Processor(self.ctx, self.policies)

    async def bootstrap(self) -> None:
        await self.policies.ensure_defaults()
        await self.types.ensure_defaults(self.ctx.settings.create_resource_types)

    async def status(self, details: bool) -> dict[str, Any]:
        metrics, measures = await asyncio.to_thread(self.ctx.incoming.backlog)
        report: dict[str, Any] = {"measures": measures, "metrics": metrics}
        if details:
            pending = await asyncio.to_thread(self.ctx.incoming.pending, 1_000_000)
            report["details"] = {mid: 1 for mid in pending}
        return {"storage": {"summary": report}, "metricd": {"processors": ["onestack"]}}

    def close(self) -> None:
        self.ctx.incoming.close()
        self.ctx.store.close()
