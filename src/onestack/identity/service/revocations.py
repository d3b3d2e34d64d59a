"""Revocation events: written to the database, mirrored in memory, announced on the bus."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select

from onestack.common.db import utcnow
from onestack.identity import models
from onestack.identity.service.base import IdentityContext
from onestack.identity.tokens import Revocation, RevocationList, now_us

TOPIC = "identity.revocations"
FIELDS = (
    "audit_id",
    "user_id",
    "project_id",
    "domain_id",
    "role_id",
    "app_cred_id",
    "trust_id",
    "access_token_id",
    "consumer_id",
    "group_id",
)


class Revocations:
    def __init__(self, context: IdentityContext, revocations: RevocationList) -> None:
        self.context = context
        self.list = revocations

    async def record(self, **fields: str | None) -> Revocation:
        """Revoke every token issued until now that matches all of ``fields``."""
        event = Revocation(issued_before_us=now_us(), **fields)
        async with self.context.db.session() as s:
            s.add(models.RevocationEvent(issued_before_us=event.issued_before_us, **fields))
        self.list.add(event)
        await self.context.bus.publish(TOPIC, "revoked", event.to_dict())
        return event

    async def on_event(self, _event_type: str, payload: dict[str, Any]) -> None:
        """Another process revoked something: apply it now rather than at the next reload."""
        self.list.add(Revocation(**payload))

    async def load(self) -> None:
        """Read the events this process has not seen yet (by increasing id)."""
        async with self.context.db.session() as s:
            rows = (
                await s.scalars(
                    select(models.RevocationEvent)
                    .where(models.RevocationEvent.id > self.list.last_id)
                    .order_by(models.RevocationEvent.id)
                )
            ).all()
        for row in rows:
            self.list.add(Revocation(row.issued_before_us, **{f: getattr(row, f) for f in FIELDS}))
            self.list.last_id = max(self.list.last_id, row.id)

    async def purge(self) -> None:
        """Events older than the longest token lifetime can match nothing any more."""
        cutoff = utcnow() - timedelta(seconds=self.context.settings.token_expiration + 300)
        async with self.context.db.session() as s:
            await s.execute(
                delete(models.RevocationEvent).where(models.RevocationEvent.revoked_at < cutoff)
            )

    async def refresh_forever(self) -> None:
        interval = self.context.settings.revocation_refresh
        ticks = 0
        while True:
            await asyncio.sleep(interval)
            await self.load()
            ticks += 1
            if ticks % 1800 == 0:
                await self.purge()
