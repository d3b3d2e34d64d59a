"""The processing loop (Gnocchi's metricd): takes the metrics with queued measures and
aggregates them in worker threads, woken at once by a post or every
``processing_interval`` (measures posted by another process)."""

from __future__ import annotations

import asyncio
import contextlib
import time

from sqlalchemy import select

from onestack.common.logging import get_logger
from onestack.metering import models, processing
from onestack.metering.archive import Policy
from onestack.metering.service.archive import ArchivePolicies
from onestack.metering.service.base import Context

log = get_logger(__name__)
CHUNK = 256  # metrics per thread hand-off


class Processor:
    def __init__(self, ctx: Context, policies: ArchivePolicies) -> None:
        self.ctx = ctx
        self.policies = policies
        self.lock = asyncio.Lock()  # one pass (or refresh) at a time in this process
        self.processed = 0  # measures aggregated since start (for status and benchmarks)
        self.last_pass = 0.0

    async def run_forever(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.ctx.settings.processing_interval):
                    await self.ctx.wake.wait()
            self.ctx.wake.clear()
            try:
                while await self.process_pending():
                    pass
            except Exception:
                log.exception("metering: processing measures failed")
            self.last_pass = time.time()

    async def process_pending(self) -> int:
        """One pass over the metrics with measures queued; the measures aggregated (none
        while another process sharing the queue makes its own pass)."""
        async with self.lock:
            if not await asyncio.to_thread(self.ctx.incoming.lock, False):
                return 0
            try:
                return await self._pass()
            finally:
                await asyncio.to_thread(self.ctx.incoming.unlock)

    async def _pass(self) -> int:
        pending = await asyncio.to_thread(self.ctx.incoming.pending, 10000)
        if not pending:
            return 0
        policy_of = await self._policies_of(pending)
        gone = [mid for mid in pending if mid not in policy_of]
        if gone:
            await asyncio.to_thread(lambda: [self.ctx.incoming.delete(m) for m in gone])
        ids = [mid for mid in pending if mid in policy_of]
        workers = self.ctx.settings.processing_workers
        chunks = [ids[i : i + CHUNK] for i in range(0, len(ids), CHUNK)]
        total = 0
        for start in range(0, len(chunks), workers):
            counts = await asyncio.gather(
                *(self._chunk(chunk, policy_of) for chunk in chunks[start : start + workers])
            )
            total += sum(counts)
        self.processed += total
        return total

    async def _chunk(self, ids: list[str], policy_of: dict[str, Policy]) -> int:
        def work() -> int:
            n = 0
            for mid in ids:
                try:
                    n += processing.process_metric(
                        self.ctx.incoming, self.ctx.store, mid, policy_of[mid]
                    )
                except Exception:
                    log.exception("metering: aggregating metric %s failed", mid)
            return n

        return await asyncio.to_thread(work)

    async def _policies_of(self, ids: list[str]) -> dict[str, Policy]:
        policies = await self.policies.all()
        out: dict[str, Policy] = {}
        async with self.ctx.db.session() as s:
            for start in range(0, len(ids), 500):
                rows = await s.execute(
                    select(models.Metric.id, models.Metric.archive_policy_name).where(
                        models.Metric.id.in_(ids[start : start + 500])
                    )
                )
                for mid, name in rows.all():
                    if name in policies:
                        out[mid] = policies[name]
        return out

    async def refresh(self, metric_id: str, policy: Policy) -> None:
        """Aggregate one metric's queued measures now (``?refresh=true``)."""
        async with self.lock:
            await asyncio.to_thread(self.ctx.incoming.lock, True)
            try:
                await asyncio.to_thread(
                    processing.process_metric, self.ctx.incoming, self.ctx.store, metric_id, policy
                )
            finally:
                await asyncio.to_thread(self.ctx.incoming.unlock)
