"""A metadef namespace's properties, objects and tags (Glance's rules: see metadefs.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from onestack.common import errors
from onestack.common.context import RequestContext
from onestack.common.db import Database, utcnow
from onestack.image.models import (
    MetadefAssociation,
    MetadefNamespace,
    MetadefObject,
    MetadefProperty,
    MetadefResourceType,
    MetadefTag,
)
from onestack.image.service.metadef_docs import (
    object_doc,
    object_row,
    property_doc,
    property_row,
    refuse_if_protected,
    refuse_repeats,
    tag_doc,
    visible_namespace,
)


class MetadefItems:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- properties -----------------------------------------------------------------------

    async def _property(self, s: AsyncSession, ns: MetadefNamespace, name: str) -> MetadefProperty:
        row: MetadefProperty | None = await s.scalar(
            select(MetadefProperty).where(
                MetadefProperty.namespace_id == ns.id, MetadefProperty.name == name
            )
        )
        if row is None:
            raise errors.NotFound(
                f"Metadata definition property={name} was not found in namespace={ns.namespace}."
            )
        return row

    async def properties(self, ctx: RequestContext | None, name: str) -> dict[str, Any]:
        async with self.db.session() as s:
            ns = await visible_namespace(s, ctx, name)
            rows = await s.scalars(
                select(MetadefProperty)
                .where(MetadefProperty.namespace_id == ns.id)
                .order_by(MetadefProperty.name)
            )
            return {r.name: property_doc(r, named=False) for r in rows}

    async def create_property(
        self, ctx: RequestContext | None, name: str, schema: dict[str, Any]
    ) -> dict[str, Any]:
        async with self.db.session() as s:
            ns = await visible_namespace(s, ctx, name)
            prop = schema["name"]
            if await s.scalar(
                select(MetadefProperty.id).where(
                    MetadefProperty.namespace_id == ns.id, MetadefProperty.name == prop
                )
            ):
                raise errors.Conflict(
                    f"A metadata definition property with name={prop} already exists in "
                    f"namespace={name}."
                )
            row = property_row(ns.id, prop, schema)
            s.add(row)
            await s.flush()
            return property_doc(row, named=True)

    async def show_property(
        self, ctx: RequestContext | None, name: str, prop: str, resource_type: str | None
    ) -> dict[str, Any]:
        async with self.db.session() as s:
            ns = await visible_namespace(s, ctx, name)
            if resource_type:
                rtype = await s.scalar(
                    select(MetadefResourceType).where(MetadefResourceType.name == resource_type)
                )
                assoc = (
                    None if rtype is None else await s.get(MetadefAssociation, (ns.id, rtype.id))
                )
                if assoc is None:
                    raise errors.NotFound(
                        f"The metadata definition resource-type association of resource-type="
                        f"{resource_type} to namespace={name}, was not found."
                    )
                prefix = assoc.prefix or ""
                if not prefix or not prop.startswith(prefix):
                    raise errors.NotFound(
                        f"Property {prop} does not start with the expected resource type "
                        f"association prefix of '{prefix}'."
                    )
                prop = prop[len(prefix) :]
            return property_doc(await self._property(s, ns, prop), named=True)

    async def update_property(
        self, ctx: RequestContext | None, name: str, prop: str, schema: dict[str, Any]
    ) -> dict[str, Any]:
        async with self.db.session() as s:
            ns = await visible_namespace(s, ctx, name)
            row = await self._property(s, ns, prop)
            new_name = schema["name"]
            if new_name != prop and await s.scalar(
                select(MetadefProperty.id).where(
                    MetadefProperty.namespace_id == ns.id, MetadefProperty.name == new_name
                )
            ):
                raise errors.Conflict(
                    f"A metadata definition property with name={new_name} already exists in "
                    f"namespace={name}."
                )
            row.name = new_name
            row.json_schema = {k: v for k, v in schema.items() if k != "name"}
            row.updated_at = utcnow()
            await s.flush()
            return property_doc(row, named=True)

    async def delete_property(self, ctx: RequestContext | None, name: str, prop: str) -> None:
        async with self.db.session() as s:
            ns = await visible_namespace(s, ctx, name)
            row = await self._property(s, ns, prop)
            refuse_if_protected(ns, "properties")
            await s.delete(row)

    # -- objects --------------------------------------------------------------------------

    async def _object(self, s: AsyncSession, ns: MetadefNamespace, name: str) -> MetadefObject:
        row: MetadefObject | None = await s.scalar(
            select(MetadefObject).where(
                MetadefObject.namespace_id == ns.id, MetadefObject.name == name
            )
        )
        if row is None:
            raise errors.NotFound(
                f"Metadata definition object={name} was not found in namespace={ns.namespace}."
            )
        return row

    async def _object_name_free(self, s: AsyncSession, ns: MetadefNamespace, name: str) -> None:
        if await s.scalar(
            select(MetadefObject.id).where(
                MetadefObject.namespace_id == ns.id, MetadefObject.name == name
            )
        ):
            raise errors.Conflict(
                f"A metadata definition object with name={name} already exists in "
                f"namespace={ns.namespace}."
            )

    async def objects(self, ctx: RequestContext | None, name: str) -> list[dict[str, Any]]:
        async with self.db.session() as s:
            ns = await visible_namespace(s, ctx, name)
            rows = await s.scalars(
                select(MetadefObject)
                .where(MetadefObject.namespace_id == ns.id)
                .order_by(MetadefObject.created_at.desc(), MetadefObject.id.desc())
            )
            return [object_doc(ns.namespace, r) for r in rows]

    async def create_object(
        self, ctx: RequestContext | None, name: str, obj: dict[str, Any]
    ) -> dict[str, Any]:
        async with self.db.session() as s:
            ns = await visible_namespace(s, ctx, name)
            await self._object_name_free(s, ns, obj["name"])
            row = object_row(ns.id, obj)
            s.add(row)
            await s.flush()
            return object_doc(ns.namespace, row)

    async def show_object(self, ctx: RequestContext | None, name: str, obj: str) -> dict[str, Any]:
        async with self.db.session() as s:
            ns = await visible_namespace(s, ctx, name)
            return object_doc(ns.namespace, await self._object(s, ns, obj))

    async def update_object(
        self, ctx: RequestContext | None, name: str, obj: str, new: dict[str, Any]
    ) -> dict[str, Any]:
        async with self.db.session() as s:
            ns = await visible_namespace(s, ctx, name)
            row = await self._object(s, ns, obj)
            if new["name"] != obj:
                await self._object_name_free(s, ns, new["name"])
            row.name = new["name"]
            row.description = new.get("description")
            row.required = new.get("required")
            row.properties = new.get("properties")
            row.updated_at = utcnow()
            await s.flush()
            return object_doc(ns.namespace, row)

    async def delete_object(self, ctx: RequestContext | None, name: str, obj: str) -> None:
        async with self.db.session() as s:
            ns = await visible_namespace(s, ctx, name)
            row = await self._object(s, ns, obj)
            refuse_if_protected(ns, "objects")
            await s.delete(row)

    # -- tags -----------------------------------------------------------------------------

    async def _tag(self, s: AsyncSession, ns: MetadefNamespace, name: str) -> MetadefTag:
        row: MetadefTag | None = await s.scalar(
            select(MetadefTag).where(MetadefTag.namespace_id == ns.id, MetadefTag.name == name)
        )
        if row is None:
            raise errors.NotFound(
                f"Metadata definition tag={name} was not found in namespace={ns.namespace}."
            )
        return row

    async def _tag_name_free(self, s: AsyncSession, ns: MetadefNamespace, name: str) -> None:
        if await s.scalar(
            select(MetadefTag.id).where(MetadefTag.namespace_id == ns.id, MetadefTag.name == name)
        ):
            raise errors.Conflict(
                f"A metadata tag with name={name} already exists in namespace={ns.namespace}."
            )

    async def tags(self, ctx: RequestContext | None, name: str) -> list[dict[str, Any]]:
        async with self.db.session() as s:
            ns = await visible_namespace(s, ctx, name)
            rows = await s.scalars(
                select(MetadefTag)
                .where(MetadefTag.namespace_id == ns.id)
                .order_by(MetadefTag.created_at, MetadefTag.id)
            )
            return [tag_doc(r) for r in rows]

    async def create_tags(
        self, ctx: RequestContext | None, name: str, names: list[str], *, append: bool
    ) -> list[dict[str, Any]]:
        """Glance's ``POST .../tags``: the given tags replace the namespace's, or (``append``,
        the ``X-Openstack-Append`` header) join them."""
        refuse_repeats(names, "tag")
        async with self.db.session() as s:
            ns = await visible_namespace(s, ctx, name)
            if append:
                for tag in names:
                    await self._tag_name_free(s, ns, tag)
            else:
                await s.execute(delete(MetadefTag).where(MetadefTag.namespace_id == ns.id))
            now = utcnow()
            for tag in names:
                s.add(MetadefTag(namespace_id=ns.id, name=tag, created_at=now, updated_at=now))
            await s.flush()
            return [{"name": tag} for tag in names]

    async def create_tag(self, ctx: RequestContext | None, name: str, tag: str) -> dict[str, Any]:
        async with self.db.session() as s:
            ns = await visible_namespace(s, ctx, name)
            await self._tag_name_free(s, ns, tag)
            now = utcnow()
            row = MetadefTag(namespace_id=ns.id, name=tag, created_at=now, updated_at=now)
            s.add(row)
            await s.flush()
            return tag_doc(row)

    async def show_tag(self, ctx: RequestContext | None, name: str, tag: str) -> dict[str, Any]:
        async with self.db.session() as s:
            ns = await visible_namespace(s, ctx, name)
            return tag_doc(await self._tag(s, ns, tag))

    async def update_tag(
        self, ctx: RequestContext | None, name: str, tag: str, new_name: str
    ) -> dict[str, Any]:
        async with self.db.session() as s:
            ns = await visible_namespace(s, ctx, name)
            row = await self._tag(s, ns, tag)
            if new_name != tag:
                await self._tag_name_free(s, ns, new_name)
            row.name = new_name
            row.updated_at = utcnow()
            await s.flush()
            return tag_doc(row)

    async def delete_tag(self, ctx: RequestContext | None, name: str, tag: str) -> None:
        async with self.db.session() as s:
            ns = await visible_namespace(s, ctx, name)
            row = await self._tag(s, ns, tag)
            refuse_if_protected(ns, "tags")
            await s.delete(row)
