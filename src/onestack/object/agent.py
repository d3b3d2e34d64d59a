"""The object agent of this host: the expirer (objects past their X-Delete-At go, and leave
the listings), the reconcile scan (object files against listings: at start, after a crash,
and periodically) and the md5 auditor (slow; a corrupted file is quarantined)."""

from __future__ import annotations

import time

from onestack.common.agent import Periodic
from onestack.common.logging import get_logger
from onestack.config import ObjectSettings
from onestack.object.drivers import base
from onestack.object.drivers.base import ObjectStore

log = get_logger(__name__)


class ObjectAgent:
    def __init__(self, store: ObjectStore, settings: ObjectSettings) -> None:
        self.store = store
        self.settings = settings
        self.periodic = Periodic()

    def start(self) -> None:
        s = self.settings
        self.periodic.every(s.expirer_interval, self.expire, "object-expirer")
        self.periodic.every(s.reconcile_interval, self.reconcile, "object-reconcile", at_start=True)
        self.periodic.every(s.audit_interval, self.audit, "object-auditor")

    async def stop(self) -> None:
        await self.periodic.stop()

    async def expire(self) -> int:
        """Delete every object whose X-Delete-At has come; returns how many went."""
        gone = 0
        while True:
            due = await self.store.due(time.time())
            if not due:
                return gone
            for entry in due:
                try:
                    info = await self.store.object_info(entry.account, entry.container, entry.name)
                except base.NotFound:
                    info = None
                at = info.metadata.get("x-delete-at") if info is not None else None
                # Only the version the entry was made for, and only if still due then.
                if (
                    info is not None
                    and at
                    and float(at) == entry.delete_at
                    and (info.timestamp == entry.timestamp)
                ):
                    try:
                        await self.store.delete_object(
                            entry.account, entry.container, entry.name, time.time()
                        )
                        gone += 1
                    except base.NotFound:
                        pass
                await self.store.forget_due(entry)

    async def reconcile(self) -> None:
        fixed = await self.store.reconcile()
        if any(fixed.values()):
            log.info("object reconcile: %s", fixed)

    async def audit(self) -> None:
        found = await self.store.audit(self.settings.audit_bytes_per_second)
        if found.get("quarantined"):
            log.warning("object auditor: %s", found)
