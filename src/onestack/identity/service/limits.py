"""Unified limits (Keystone's flat model): registered limits per service, region and resource,
and project or domain limits that override them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from onestack.common import errors
from onestack.identity import models
from onestack.identity.service.base import IdentityContext, must_get

MODEL = {
    "name": "flat",
    "description": (
        "Limit enforcement and validation does not take project hierarchy into consideration."
    ),
}
LIMIT_FILTERS = ("service_id", "region_id", "resource_name", "project_id", "domain_id")
REGISTERED_FILTERS = ("service_id", "region_id", "resource_name")


def _in_use(registered_id: str) -> errors.Forbidden:
    return errors.Forbidden(
        f"Unable to update or delete registered limit {registered_id} because there are "
        "project limits associated with it."
    )


async def _assert_exist(s: AsyncSession, values: dict[str, Any]) -> None:
    """Keystone's check: each referenced service, region, project or domain exists (400)."""
    for key, model in (
        ("service_id", models.Service),
        ("region_id", models.Region),
        ("project_id", models.Project),
        ("domain_id", models.Domain),
    ):
        value = values.get(key)
        if value is not None and await s.get(model, value) is None:
            kind = key.removesuffix("_id")
            raise errors.BadRequest(f"Invalid input for field '{key}': no {kind} {value}.")


class Limits:
    def __init__(self, context: IdentityContext) -> None:
        self.context = context

    # --- registered limits -----------------------------------------------------------------
    async def _registered_taken(
        self, s: AsyncSession, values: dict[str, Any], but: str | None = None
    ) -> None:
        stmt = select(models.RegisteredLimit.id).where(
            models.RegisteredLimit.service_id == values["service_id"],
            models.RegisteredLimit.resource_name == values["resource_name"],
            models.RegisteredLimit.region_id.is_(None)
            if values.get("region_id") is None
            else models.RegisteredLimit.region_id == values["region_id"],
        )
        found = await s.scalar(stmt)
        if found is not None and found != but:
            raise errors.Conflict(kind="registered_limit", reason="Duplicate entry")

    async def create_registered(self, items: list[dict[str, Any]]) -> list[models.RegisteredLimit]:
        rows: list[models.RegisteredLimit] = []
        async with self.context.db.session() as s:
            for values in items:
                await _assert_exist(s, values)
                await self._registered_taken(s, values)
                row = models.RegisteredLimit(id=models.new_id(), **values)
                s.add(row)
                await s.flush()
                rows.append(row)
        return rows

    async def get_registered(self, registered_id: str) -> models.RegisteredLimit:
        async with self.context.db.session() as s:
            return await must_get(s, models.RegisteredLimit, registered_id, "registered limit")

    async def list_registered(self, filters: dict[str, Any]) -> Sequence[models.RegisteredLimit]:
        stmt = select(models.RegisteredLimit).order_by(models.RegisteredLimit.resource_name)
        for key in REGISTERED_FILTERS:
            if key in filters:
                stmt = stmt.where(getattr(models.RegisteredLimit, key) == filters[key])
        async with self.context.db.session() as s:
            return (await s.scalars(stmt)).all()

    async def _referenced(self, s: AsyncSession, registered_id: str) -> bool:
        found = await s.scalar(
            select(models.Limit.id)
            .where(models.Limit.registered_limit_id == registered_id)
            .limit(1)
        )
        return found is not None

    async def update_registered(
        self, registered_id: str, changes: dict[str, Any]
    ) -> models.RegisteredLimit:
        async with self.context.db.session() as s:
            row = await must_get(s, models.RegisteredLimit, registered_id, "registered limit")
            if await self._referenced(s, registered_id):
                raise _in_use(registered_id)
            await _assert_exist(s, changes)
            merged = {
                "service_id": row.service_id,
                "region_id": row.region_id,
                "resource_name": row.resource_name,
                **changes,
            }
            if {"service_id", "region_id", "resource_name"} & set(changes):
                await self._registered_taken(s, merged, but=registered_id)
            for key, value in changes.items():
                setattr(row, key, value)
        return row

    async def delete_registered(self, registered_id: str) -> None:
        async with self.context.db.session() as s:
            row = await must_get(s, models.RegisteredLimit, registered_id, "registered limit")
            if await self._referenced(s, registered_id):
                raise _in_use(registered_id)
            await s.delete(row)

    # --- limits ----------------------------------------------------------------------------
    async def create_limits(self, items: list[dict[str, Any]]) -> list[models.Limit]:
        rows: list[models.Limit] = []
        async with self.context.db.session() as s:
            for values in items:
                await _assert_exist(s, values)
                registered = await s.scalar(
                    select(models.RegisteredLimit).where(
                        models.RegisteredLimit.service_id == values["service_id"],
                        models.RegisteredLimit.resource_name == values["resource_name"],
                        models.RegisteredLimit.region_id.is_(None)
                        if values.get("region_id") is None
                        else models.RegisteredLimit.region_id == values["region_id"],
                    )
                )
                if registered is None:
                    raise errors.Forbidden(
                        "Unable to create a limit that has no corresponding registered limit."
                    )
                owner = (
                    models.Limit.project_id == values["project_id"]
                    if values.get("project_id")
                    else models.Limit.domain_id == values.get("domain_id")
                )
                taken = await s.scalar(
                    select(models.Limit.id).where(
                        models.Limit.registered_limit_id == registered.id, owner
                    )
                )
                if taken is not None:
                    raise errors.Conflict(kind="limit", reason="Duplicate entry")
                row = models.Limit(id=models.new_id(), registered_limit_id=registered.id, **values)
                s.add(row)
                await s.flush()
                rows.append(row)
        return rows

    async def get_limit(self, limit_id: str) -> models.Limit:
        async with self.context.db.session() as s:
            return await must_get(s, models.Limit, limit_id, "limit")

    async def list_limits(self, filters: dict[str, Any]) -> Sequence[models.Limit]:
        stmt = select(models.Limit).order_by(models.Limit.resource_name)
        for key in LIMIT_FILTERS:
            if key in filters:
                stmt = stmt.where(getattr(models.Limit, key) == filters[key])
        if "project_ids" in filters:  # a domain-scoped caller: its projects and itself
            stmt = stmt.where(
                (models.Limit.project_id.in_(filters["project_ids"]))
                | (models.Limit.domain_id == filters.get("own_domain"))
            )
        async with self.context.db.session() as s:
            return (await s.scalars(stmt)).all()

    async def update_limit(self, limit_id: str, changes: dict[str, Any]) -> models.Limit:
        async with self.context.db.session() as s:
            row = await must_get(s, models.Limit, limit_id, "limit")
            for key, value in changes.items():
                setattr(row, key, value)
        return row

    async def delete_limit(self, limit_id: str) -> None:
        async with self.context.db.session() as s:
            await s.delete(await must_get(s, models.Limit, limit_id, "limit"))
