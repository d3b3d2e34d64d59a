"""Keystone's deprecated ``/v3/policies``: opaque policy documents stored for clients."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from onestack.identity import models as m
from onestack.identity.service.base import Store, apply_changes, must_get

POLICY_COLUMNS = {"type", "blob"}


class PolicyBlobs:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def create(self, values: dict[str, Any]) -> m.Policy:
        async with self.store.db.session() as s:
            policy = m.Policy(id=m.new_id(), extra={})
            apply_changes(policy, values, POLICY_COLUMNS)
            s.add(policy)
        return policy

    async def get(self, policy_id: str) -> m.Policy:
        async with self.store.db.session() as s:
            return await must_get(s, m.Policy, policy_id, "policy")

    async def list(self, filters: dict[str, Any]) -> Sequence[m.Policy]:
        stmt = select(m.Policy).order_by(m.Policy.id)
        if "type" in filters:
            stmt = stmt.where(m.Policy.type == filters["type"])
        async with self.store.db.session() as s:
            return (await s.scalars(stmt)).all()

    async def update(self, policy_id: str, changes: dict[str, Any]) -> m.Policy:
        async with self.store.db.session() as s:
            policy = await must_get(s, m.Policy, policy_id, "policy")
            apply_changes(policy, changes, POLICY_COLUMNS)
        return policy

    async def delete(self, policy_id: str) -> None:
        async with self.store.db.session() as s:
            await s.delete(await must_get(s, m.Policy, policy_id, "policy"))
