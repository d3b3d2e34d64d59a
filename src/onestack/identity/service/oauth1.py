"""OAuth1 consumers (OS-OAUTH1): the applications that may ask users for delegated access.
The request and access token flow is not served yet; consumers are kept for clients that
register them."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select

from onestack.common import errors
from onestack.identity import models
from onestack.identity.keys import KeyRepository
from onestack.identity.service.base import IdentityContext, must_get


class OAuth1:
    def __init__(self, context: IdentityContext, keys: KeyRepository) -> None:
        self.context = context
        self.keys = keys

    async def create_consumer(self, values: dict[str, Any]) -> tuple[models.OAuthConsumer, str]:
        secret = secrets.token_hex(32)
        extra = {k: v for k, v in values.items() if k not in ("description", "secret")}
        consumer = models.OAuthConsumer(
            id=models.new_id(),
            description=values.get("description"),
            encrypted_secret=self.keys.fernet().encrypt(secret.encode()).decode(),
            extra=extra,
        )
        async with self.context.db.session() as s:
            s.add(consumer)
        await self.context.notify("OS-OAUTH1:consumer.created", consumer.id)
        return consumer, secret

    async def get_consumer(self, consumer_id: str) -> models.OAuthConsumer:
        async with self.context.db.session() as s:
            return await must_get(s, models.OAuthConsumer, consumer_id, "consumer")

    async def list_consumers(self) -> Sequence[models.OAuthConsumer]:
        async with self.context.db.session() as s:
            return (
                await s.scalars(select(models.OAuthConsumer).order_by(models.OAuthConsumer.id))
            ).all()

    async def update_consumer(
        self, consumer_id: str, changes: dict[str, Any]
    ) -> models.OAuthConsumer:
        if "secret" in changes:
            raise errors.BadRequest("Cannot change consumer secret")
        async with self.context.db.session() as s:
            consumer = await must_get(s, models.OAuthConsumer, consumer_id, "consumer")
            if "description" in changes:
                consumer.description = changes["description"]
            consumer.extra = {
                **(consumer.extra or {}),
                **{k: v for k, v in changes.items() if k != "description"},
            }
        return consumer

    async def delete_consumer(self, consumer_id: str) -> None:
        async with self.context.db.session() as s:
            await must_get(s, models.OAuthConsumer, consumer_id, "consumer")
            await s.execute(
                delete(models.OAuthConsumer).where(models.OAuthConsumer.id == consumer_id)
            )
        await self.context.notify("OS-OAUTH1:consumer.deleted", consumer_id)
