"""Resource types: create with attributes, add or remove attributes (JSON patch), delete."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from onestack.metering import errors, models, resource_types
from onestack.metering.schemas import AttributeChange, ResourceTypeCreate, ResourceTypePatch
from onestack.metering.service.base import Context

GENERIC = "generic"


class ResourceTypes:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def ensure_defaults(self, ceilometer: bool) -> None:
        wanted: dict[str, dict[str, Any]] = {GENERIC: {}}
        if ceilometer:
            wanted.update(resource_types.CEILOMETER_TYPES)
        async with self.ctx.db.session() as s:
            have = set((await s.scalars(select(models.ResourceType.name))).all())
            for name, attributes in wanted.items():
                if name not in have:
                    s.add(models.ResourceType(name=name, attributes=attributes, state="active"))

    async def create(self, spec: ResourceTypeCreate) -> models.ResourceType:
        name, attributes = spec.name, spec.attributes
        async with self.ctx.db.session() as s:
            if await s.get(models.ResourceType, name) is not None:
                raise errors.ResourceTypeExists(name=name)
            row = models.ResourceType(name=name, attributes=attributes, state="active")
            s.add(row)
        return row

    async def get(self, name: str) -> models.ResourceType:
        async with self.ctx.db.session() as s:
            row = await s.get(models.ResourceType, name)
        if row is None:
            raise errors.ResourceTypeNotFound(id=name)
        return row

    async def listing(self) -> list[models.ResourceType]:
        async with self.ctx.db.session() as s:
            rows = await s.scalars(select(models.ResourceType).order_by(models.ResourceType.name))
            return list(rows.all())

    async def patch(self, name: str, patch: ResourceTypePatch) -> models.ResourceType:
        """JSON patch: ``add`` / ``remove`` of ``/attributes/NAME`` (Gnocchi's subset)."""
        async with self.ctx.db.session() as s:
            row = await s.get(models.ResourceType, name)
            if row is None:
                raise errors.ResourceTypeNotFound(id=name)
            if name == GENERIC:
                raise errors.InvalidInput(reason="the generic resource type cannot change")
            attributes = dict(row.attributes)
            fills: dict[str, Any] = {}
            for change in patch.changes:
                self._apply(change, attributes, fills)
            count = await s.scalar(
                select(func.count())
                .select_from(models.Resource)
                .where(models.Resource.type == name)
            )
            if count:
                await self._backfill(s, name, attributes, row.attributes, fills)
            row.attributes = attributes
        return row

    @staticmethod
    def _apply(change: AttributeChange, attributes: dict[str, Any], fills: dict[str, Any]) -> None:
        attr = change.name
        if change.op == "remove":
            if attr not in attributes:
                raise errors.InvalidInput(reason=f"attribute {attr} does not exist")
            del attributes[attr]
            return
        if attr in attributes:
            raise errors.InvalidInput(reason=f"attribute {attr} already exists")
        if change.fill is not None:
            fills[attr] = change.fill[0]
        attributes[attr] = change.schema

    @staticmethod
    async def _backfill(
        s: Any, name: str, attributes: dict[str, Any], old: dict[str, Any], fills: dict[str, Any]
    ) -> None:
        for attr, schema in attributes.items():
            if attr not in old and schema["required"] and attr not in fills:
                raise errors.InvalidInput(
                    reason=f"a required attribute ({attr}) needs a fill value: resources exist"
                )
        rows = await s.scalars(select(models.Resource).where(models.Resource.type == name))
        for res in rows.all():
            values = {k: v for k, v in res.attributes.items() if k in attributes}
            for attr in attributes:
                if attr not in old:
                    values[attr] = fills.get(attr)
            res.attributes = values

    async def delete(self, name: str) -> None:
        if name == GENERIC:
            raise errors.InvalidInput(reason="the generic resource type cannot be deleted")
        async with self.ctx.db.session() as s:
            row = await s.get(models.ResourceType, name)
            if row is None:
                raise errors.ResourceTypeNotFound(id=name)
            used = await s.scalar(
                select(func.count())
                .select_from(models.Resource)
                .where(models.Resource.type == name)
            )
            if used:
                raise errors.ResourceTypeInUse(name=name)
            await s.delete(row)
