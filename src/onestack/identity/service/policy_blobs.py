"""Keystone's deprecated ``/v3/policies``: opaque policy documents stored for clients."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from onestack.identity import models
from onestack.identity.service.base import IdentityContext, apply_changes, must_get

POLICY_COLUMNS = {"type", "blob"}


class PolicyBlobs:
    def __init__(self, context: IdentityContext) -> None:
        self.context = context

    async def create(self, values: dict[str, Any]) -> models.Policy:
        async with self.context.db.session() as s:
            policy = models.Policy(id=models.new_id(), extra={})
            apply_changes(policy, values, POLICY_COLUMNS)
            s.add(policy)
        return policy

    async def get(self, policy_id: str) -> models.Policy:
        async with self.context.db.session() as s:
            return await must_get(s, models.Policy, policy_id, "policy")

    async def list(self, filters: dict[str, Any]) -> Sequence[models.Policy]:
        stmt = select(models.Policy).order_by(models.Policy.id)
        if "type" in filters:
            stmt = stmt.where(models.Policy.type == filters["type"])
        async with self.context.db.session() as s:
            return (await s.scalars(stmt)).all()

    async def update(self, policy_id: str, changes: dict[str, Any]) -> models.Policy:
        async with self.context.db.session() as s:
            policy = await must_get(s, models.Policy, policy_id, "policy")
            apply_changes(policy, changes, POLICY_COLUMNS)
        return policy

    async def delete(self, policy_id: str) -> None:
        async with self.context.db.session() as s:
            await s.delete(await must_get(s, models.Policy, policy_id, "policy"))
