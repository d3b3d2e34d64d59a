"""Roles and role inference rules (admin implies member implies reader)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import delete, or_, select

from onestack.common import errors
from onestack.common.db import delete_one
from onestack.identity import models
from onestack.identity.service.base import IdentityContext, apply_changes, must_get

ROLE_COLUMNS = {"name", "description", "options"}


def role_domain(value: str | None) -> str:
    return value or models.NULL_DOMAIN


def public_domain(value: str) -> str | None:
    return None if value == models.NULL_DOMAIN else value


class Roles:
    def __init__(self, context: IdentityContext, revoke: Any) -> None:
        self.context = context
        self.revoke = revoke

    async def create_role(self, values: dict[str, Any]) -> models.Role:
        domain_id = role_domain(values.pop("domain_id", None))
        async with self.context.db.session() as s:
            if domain_id != models.NULL_DOMAIN:
                await must_get(s, models.Domain, domain_id, "domain")
            taken = await s.scalar(
                select(models.Role.id).where(
                    models.Role.name == values["name"], models.Role.domain_id == domain_id
                )
            )
            if taken:
                raise errors.Conflict(kind="role", reason=f"Duplicate entry {values['name']}")
            role = models.Role(id=models.new_id(), domain_id=domain_id, extra={}, options={})
            apply_changes(role, values, ROLE_COLUMNS)
            s.add(role)
        await self.context.notify("role.created", role.id)
        return role

    async def get_role(self, role_id: str) -> models.Role:
        async with self.context.db.session() as s:
            return await must_get(s, models.Role, role_id, "role")

    async def list_roles(self, filters: dict[str, Any]) -> Sequence[models.Role]:
        stmt = select(models.Role).order_by(models.Role.name)
        if "name" in filters:
            stmt = stmt.where(models.Role.name == filters["name"])
        stmt = stmt.where(models.Role.domain_id == role_domain(filters.get("domain_id")))
        async with self.context.db.session() as s:
            return (await s.scalars(stmt)).all()

    async def find_global_role(self, name: str) -> models.Role | None:
        async with self.context.db.session() as s:
            return await s.scalar(
                select(models.Role).where(
                    models.Role.name == name, models.Role.domain_id == models.NULL_DOMAIN
                )
            )

    async def update_role(self, role_id: str, changes: dict[str, Any]) -> models.Role:
        async with self.context.db.session() as s:
            role = await must_get(s, models.Role, role_id, "role")
            if (
                role.options.get("immutable")
                and changes.get("options", {}).get("immutable") is not False
            ):
                raise errors.Forbidden(f"Role {role_id} is immutable.")
            if "domain_id" in changes and role_domain(changes.pop("domain_id")) != role.domain_id:
                raise errors.BadRequest("Update of `domain_id` is not allowed.")
            if "name" in changes and changes["name"] != role.name:
                taken = await s.scalar(
                    select(models.Role.id).where(
                        models.Role.name == changes["name"], models.Role.domain_id == role.domain_id
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
        await self.context.notify("role.updated", role_id)
        return role

    async def delete_role(self, role_id: str) -> None:
        async with self.context.db.session() as s:
            role = await must_get(s, models.Role, role_id, "role")
            if role.options.get("immutable"):
                raise errors.Forbidden(f"Role {role_id} is immutable.")
            await s.execute(delete(models.Assignment).where(models.Assignment.role_id == role_id))
            await s.execute(
                delete(models.ImpliedRole).where(
                    or_(
                        models.ImpliedRole.prior_role_id == role_id,
                        models.ImpliedRole.implied_role_id == role_id,
                    )
                )
            )
            await delete_one(
                s,
                delete(models.Role).where(models.Role.id == role_id),
                errors.NotFound(kind="role", id=role_id),
            )
        await self.revoke.record(role_id=role_id)
        await self.context.notify("role.deleted", role_id)

    # --- inference rules -------------------------------------------------------------------
    async def inference_rules(self) -> dict[str, list[str]]:
        async with self.context.db.session() as s:
            rows = (
                await s.execute(
                    select(models.ImpliedRole.prior_role_id, models.ImpliedRole.implied_role_id)
                )
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

    async def create_implied(
        self, prior_id: str, implied_id: str
    ) -> tuple[models.Role, models.Role]:
        async with self.context.db.session() as s:
            prior = await must_get(s, models.Role, prior_id, "role")
            implied = await must_get(s, models.Role, implied_id, "role")
            if implied.name == "admin":
                raise errors.Forbidden("The admin role cannot be implied by another role.")
            if prior_id == implied_id:
                raise errors.BadRequest("A role cannot imply itself.")
            if await s.get(models.ImpliedRole, (prior_id, implied_id)) is None:
                s.add(models.ImpliedRole(prior_role_id=prior_id, implied_role_id=implied_id))
        if prior_id in await self.expand([implied_id]):
            await self.delete_implied(prior_id, implied_id)
            raise errors.Forbidden("Creating this rule would create a loop of implied roles.")
        return prior, implied

    async def get_implied(self, prior_id: str, implied_id: str) -> tuple[models.Role, models.Role]:
        async with self.context.db.session() as s:
            prior = await must_get(s, models.Role, prior_id, "role")
            implied = await must_get(s, models.Role, implied_id, "role")
            if await s.get(models.ImpliedRole, (prior_id, implied_id)) is None:
                raise errors.NotFound(f"{prior_id} does not imply {implied_id}.")
            return prior, implied

    async def list_implied(self, prior_id: str) -> tuple[models.Role, list[models.Role]]:
        async with self.context.db.session() as s:
            prior = await must_get(s, models.Role, prior_id, "role")
            implied = (
                await s.scalars(
                    select(models.Role)
                    .join(models.ImpliedRole, models.ImpliedRole.implied_role_id == models.Role.id)
                    .where(models.ImpliedRole.prior_role_id == prior_id)
                )
            ).all()
        return prior, list(implied)

    async def delete_implied(self, prior_id: str, implied_id: str) -> None:
        async with self.context.db.session() as s:
            row = await s.get(models.ImpliedRole, (prior_id, implied_id))
            if row is None:
                raise errors.NotFound(f"{prior_id} does not imply {implied_id}.")
            await s.delete(row)
        await self.revoke.record(role_id=prior_id)

    async def global_only(self, ids: Iterable[str]) -> set[str]:
        """Drop domain-specific roles: they only serve to imply global ones (as Keystone)."""
        ids = list(ids)
        if not ids:
            return set()
        async with self.context.db.session() as s:
            stmt = select(models.Role.id).where(
                models.Role.id.in_(ids), models.Role.domain_id == models.NULL_DOMAIN
            )
            return set((await s.scalars(stmt)).all())

    async def roles_by_id(self, ids: Iterable[str]) -> dict[str, models.Role]:
        ids = list(ids)
        if not ids:
            return {}
        async with self.context.db.session() as s:
            rows = (await s.scalars(select(models.Role).where(models.Role.id.in_(ids)))).all()
        return {r.id: r for r in rows}
