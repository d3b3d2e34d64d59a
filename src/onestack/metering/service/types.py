"""Resource types: create with attributes, add or remove attributes (JSON patch), delete."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from onestack.metering import errors, models, resource_types
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

    async def create(self, body: dict[str, Any]) -> models.ResourceType:
        name = body.get("name")
        if not isinstance(name, str) or not resource_types.NAME.match(name) or len(name) > 255:
            raise errors.InvalidInput(reason=f"{name!r} is not a valid resource type name")
        if set(body) - {"name", "attributes"}:
            raise errors.InvalidInput(reason="a resource type has a name and attributes")
        raw = body.get("attributes", {})
        if not isinstance(raw, dict):
            raise errors.InvalidInput(reason="attributes must be an object")
        attributes = {k: resource_types.check_schema(k, v) for k, v in raw.items()}
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

    async def patch(self, name: str, ops: Any) -> models.ResourceType:
        """JSON patch: ``add`` / ``remove`` of ``/attributes/NAME`` (Gnocchi's subset)."""
        if not isinstance(ops, list) or not ops:
            raise errors.InvalidInput(reason="a JSON patch (a list of operations) is required")
        async with self.ctx.db.session() as s:
            row = await s.get(models.ResourceType, name)
            if row is None:
                raise errors.ResourceTypeNotFound(id=name)
            if name == GENERIC:
                raise errors.InvalidInput(reason="the generic resource type cannot change")
            attributes = dict(row.attributes)
            fills: dict[str, Any] = {}
            for op in ops:
                self._apply(op, attributes, fills)
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
    def _apply(op: Any, attributes: dict[str, Any], fills: dict[str, Any]) -> None:
        if not isinstance(op, dict) or op.get("op") not in ("add", "remove"):
            raise errors.InvalidInput(reason=f"Invalid operation {op!r}: add or remove")
        path = op.get("path", "")
        if not isinstance(path, str) or not path.startswith("/attributes/"):
            raise errors.InvalidInput(reason=f"Invalid path {path!r}: /attributes/NAME")
        attr = path[len("/attributes/") :]
        if op["op"] == "remove":
            if attr not in attributes:
                raise errors.InvalidInput(reason=f"attribute {attr} does not exist")
            del attributes[attr]
            return
        value = op.get("value")
        if attr in attributes:
            raise errors.InvalidInput(reason=f"attribute {attr} already exists")
        schema = resource_types.check_schema(attr, value)
        options = value.get("options") if isinstance(value, dict) else None
        if isinstance(options, dict) and "fill" in options:
            fills[attr] = resource_types.check_value(attr, schema, options["fill"])
        attributes[attr] = schema

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
