"""Roles and role inference rules (admin implies member implies reader)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import delete, or_, select

from onestack.common import errors
from onestack.identity import models as m
from onestack.identity.service.base import Store, apply_changes, must_get

ROLE_COLUMNS = {"name", "description", "options"}


def role_domain(value: str | None) -> str:
    return value or m.NULL_DOMAIN


def public_domain(value: str) -> str | None:
    return None if value == m.NULL_DOMAIN else value


class Roles:
    def __init__(self, store: Store, revoke: Any) -> None:
        self.store = store
        self.revoke = revoke

    async def create_role(self, values: dict[str, Any]) -> m.Role:
        domain_id = role_domain(values.pop("domain_id", None))
        async with self.store.db.session() as s:
            if domain_id != m.NULL_DOMAIN:
                await must_get(s, m.Domain, domain_id, "domain")
            taken = await s.scalar(
                select(m.Role.id).where(
                    m.Role.name == values["name"], m.Role.domain_id == domain_id
                )
            )
            if taken:
                raise errors.Conflict(kind="role", reason=f"Duplicate entry {values['name']}")
            role = m.Role(id=m.new_id(), domain_id=domain_id, extra={}, options={})
            apply_changes(role, values, ROLE_COLUMNS)
            s.add(role)
        await self.store.notify("role.created", role.id)
        return role

    async def get_role(self, role_id: str) -> m.Role:
        async with self.store.db.session() as s:
            return await must_get(s, m.Role, role_id, "role")

    async def list_roles(self, filters: dict[str, Any]) -> Sequence[m.Role]:
        stmt = select(m.Role).order_by(m.Role.name)
        if "name" in filters:
            stmt = stmt.where(m.Role.name == filters["name"])
        stmt = stmt.where(m.Role.domain_id == role_domain(filters.get("domain_id")))
        async with self.store.db.session() as s:
            return (await s.scalars(stmt)).all()

    async def find_global_role(self, name: str) -> m.Role | None:
        async with self.store.db.session() as s:
            return await s.scalar(
                select(m.Role).where(m.Role.name == name, m.Role.domain_id == m.NULL_DOMAIN)
            )

    async def update_role(self, role_id: str, changes: dict[str, Any]) -> m.Role:
        async with self.store.db.session() as s:
            role = await must_get(s, m.Role, role_id, "role")
            if (
                role.options.get("immutable")
                and changes.get("options", {}).get("immutable") is not False
            ):
                raise errors.Forbidden(f"Role {role_id} is immutable.")
            if "domain_id" in changes and role_domain(changes.pop("domain_id")) != role.domain_id:
                raise errors.BadRequest("Update of `domain_id` is not allowed.")
            if "name" in changes and changes["name"] != role.name:
                taken = await s.scalar(
                    select(m.Role.id).where(
                        m.Role.name == changes["name"], m.Role.domain_id == role.domain_id
                    )
                )
                if taken:
                    raise errors.Conflict(kind="role", reason=f"Duplicate entry {changes['name']}")
            if "options" in changes:
                changes["options"] = {
                    k: v for k, v in {**role.options, **changes["options"]}.items() if v is not None
                }
            apply_changes(role, changes, ROLE_COLUMNS)
        # Tokens carry role names: a renamed role must not keep working under its old name.
        await self.revoke.record(role_id=role_id)
        await self.store.notify("role.updated", role_id)
        return role

    async def delete_role(self, role_id: str) -> None:
        async with self.store.db.session() as s:
            role = await must_get(s, m.Role, role_id, "role")
            if role.options.get("immutable"):
                raise errors.Forbidden(f"Role {role_id} is immutable.")
            await s.execute(delete(m.Assignment).where(m.Assignment.role_id == role_id))
            await s.execute(
                delete(m.ImpliedRole).where(
                    or_(
                        m.ImpliedRole.prior_role_id == role_id,
                        m.ImpliedRole.implied_role_id == role_id,
                    )
                )
            )
            await s.execute(delete(m.Role).where(m.Role.id == role_id))
        await self.revoke.record(role_id=role_id)
        await self.store.notify("role.deleted", role_id)

    # --- inference rules -------------------------------------------------------------------
    async def inference_rules(self) -> dict[str, list[str]]:
        async with self.store.db.session() as s:
            rows = (
                await s.execute(select(m.ImpliedRole.prior_role_id, m.ImpliedRole.implied_role_id))
            ).all()
        rules: dict[str, list[str]] = {}
        for prior, implied in rows:
            rules.setdefault(prior, []).append(implied)
        return rules

    async def expand(self, role_ids: Iterable[str]) -> set[str]:
        """The roles plus everything they imply, transitively."""
        rules = await self.inference_rules()
        seen: set[str] = set()
        stack = list(role_ids)
        while stack:
            rid = stack.pop()
            if rid not in seen:
                seen.add(rid)
                stack.extend(rules.get(rid, ()))
        return seen

    async def create_implied(self, prior_id: str, implied_id: str) -> tuple[m.Role, m.Role]:
        async with self.store.db.session() as s:
            prior = await must_get(s, m.Role, prior_id, "role")
            implied = await must_get(s, m.Role, implied_id, "role")
            if implied.name == "admin":
                raise errors.Forbidden("The admin role cannot be implied by another role.")
            if prior_id == implied_id:
                raise errors.BadRequest("A role cannot imply itself.")
            if await s.get(m.ImpliedRole, (prior_id, implied_id)) is None:
                s.add(m.ImpliedRole(prior_role_id=prior_id, implied_role_id=implied_id))
        if prior_id in await self.expand([implied_id]):
            await self.delete_implied(prior_id, implied_id)
            raise errors.Forbidden("Creating this rule would create a loop of implied roles.")
        return prior, implied

    async def get_implied(self, prior_id: str, implied_id: str) -> tuple[m.Role, m.Role]:
        async with self.store.db.session() as s:
            prior = await must_get(s, m.Role, prior_id, "role")
            implied = await must_get(s, m.Role, implied_id, "role")
            if await s.get(m.ImpliedRole, (prior_id, implied_id)) is None:
                raise errors.NotFound(f"{prior_id} does not imply {implied_id}.")
            return prior, implied

    async def list_implied(self, prior_id: str) -> tuple[m.Role, list[m.Role]]:
        async with self.store.db.session() as s:
            prior = await must_get(s, m.Role, prior_id, "role")
            implied = (
                await s.scalars(
                    select(m.Role)
                    .join(m.ImpliedRole, m.ImpliedRole.implied_role_id == m.Role.id)
                    .where(m.ImpliedRole.prior_role_id == prior_id)
                )
            ).all()
        return prior, list(implied)

    async def delete_implied(self, prior_id: str, implied_id: str) -> None:
        async with self.store.db.session() as s:
            row = await s.get(m.ImpliedRole, (prior_id, implied_id))
            if row is None:
                raise errors.NotFound(f"{prior_id} does not imply {implied_id}.")
            await s.delete(row)
        await self.revoke.record(role_id=prior_id)

    async def global_only(self, ids: Iterable[str]) -> set[str]:
        """Drop domain-specific roles: they only serve to imply global ones (as Keystone)."""
        ids = list(ids)
        if not ids:
            return set()
        async with self.store.db.session() as s:
            stmt = select(m.Role.id).where(m.Role.id.in_(ids), m.Role.domain_id == m.NULL_DOMAIN)
            return set((await s.scalars(stmt)).all())

    async def roles_by_id(self, ids: Iterable[str]) -> dict[str, m.Role]:
        ids = list(ids)
        if not ids:
            return {}
        async with self.store.db.session() as s:
            rows = (await s.scalars(select(m.Role).where(m.Role.id.in_(ids)))).all()
        return {r.id: r for r in rows}
