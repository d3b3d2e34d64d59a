"""Metadata definitions (Glance's metadefs): namespaces of documented properties, objects and
tags, and the resource types each namespace applies to, with Glance's rules:

- a namespace is visible to an admin, to its owner's project, and to everyone when it is
  public (or has no owner); an invisible namespace is 404, as one that does not exist;
- nothing is deleted from a protected namespace (403), nor the namespace itself;
- associating a namespace with an unknown resource type makes that type;
- the first start loads the standard namespaces Glance ships (``glance-manage
  db_load_metadefs``) from ``onestack/image/metadefs/*.json``, once: resource types are never
  deleted, so their table being empty means nothing was ever loaded.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from importlib import resources
from typing import Any

from sqlalchemy import delete, func, select
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
    NamespaceFields,
    association_doc,
    namespace_doc,
    namespace_row,
    object_doc,
    object_row,
    property_doc,
    property_row,
    refuse_if_protected,
    refuse_repeats,
    times,
    visible,
    visible_namespace,
)

NAMESPACE_SORT_KEYS = ("created_at", "updated_at", "namespace", "display_name", "id")
# Who owns the namespaces loaded from Glance's files (glance-manage's default owner).
SEED_OWNER = "admin"


class Metadefs:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- loading Glance's standard namespaces -------------------------------------------

    async def seed(self) -> None:
        # Another API process starting beside this one may load them first.
        with contextlib.suppress(errors.Conflict):
            await self._seed()

    async def _seed(self) -> None:
        async with self.db.session() as s:
            if await s.scalar(select(func.count()).select_from(MetadefResourceType)):
                return
            files = sorted(
                (f for f in resources.files("onestack.image.metadefs").iterdir()),
                key=lambda f: f.name,
            )
            for f in files:
                if not f.name.endswith(".json"):
                    continue
                doc = json.loads(f.read_text(encoding="utf-8"))
                if await namespace_row(s, doc["namespace"]) is not None:
                    continue
                fields = NamespaceFields(
                    namespace=doc["namespace"],
                    display_name=doc.get("display_name"),
                    description=doc.get("description"),
                    visibility=doc.get("visibility"),
                    protected=bool(doc.get("protected", False)),
                    owner=doc.get("owner", SEED_OWNER),
                )
                await self._insert(s, fields, doc, system=True)

    # -- namespaces -----------------------------------------------------------------------

    async def _resource_type(
        self, s: AsyncSession, name: str, *, create: bool, system: bool = False
    ) -> MetadefResourceType | None:
        row: MetadefResourceType | None = await s.scalar(
            select(MetadefResourceType).where(MetadefResourceType.name == name)
        )
        if row is None and create:
            now = utcnow()
            row = MetadefResourceType(name=name, protected=system, created_at=now, updated_at=now)
            s.add(row)
            await s.flush()
        return row

    async def _insert(
        self, s: AsyncSession, fields: NamespaceFields, doc: dict[str, Any], *, system: bool
    ) -> MetadefNamespace:
        now = utcnow()
        row = MetadefNamespace(
            namespace=fields.namespace,
            display_name=fields.display_name,
            description=fields.description,
            visibility=fields.visibility,
            protected=fields.protected,
            owner=fields.owner,
            created_at=now,
            updated_at=now,
        )
        s.add(row)
        await s.flush()
        for assoc in doc.get("resource_type_associations") or []:
            await self._associate(s, row, assoc, system=system)
        for name, schema in (doc.get("properties") or {}).items():
            s.add(property_row(row.id, name, schema))
        for obj in doc.get("objects") or []:
            s.add(object_row(row.id, obj))
        for tag in doc.get("tags") or []:
            s.add(MetadefTag(namespace_id=row.id, name=tag["name"], created_at=now, updated_at=now))
        await s.flush()
        return row

    async def create_namespace(
        self, ctx: RequestContext | None, fields: NamespaceFields, doc: dict[str, Any]
    ) -> dict[str, Any]:
        async with self.db.session() as s:
            if await namespace_row(s, fields.namespace) is not None:
                raise errors.Conflict(
                    f"Metadata definition namespace={fields.namespace} already exists."
                )
            refuse_repeats([p for p in doc.get("properties") or {}], "property")
            refuse_repeats([o["name"] for o in doc.get("objects") or []], "object")
            refuse_repeats([t["name"] for t in doc.get("tags") or []], "tag")
            row = await self._insert(s, fields, doc, system=False)
            return await self._detail(s, row, None)

    async def list_namespaces(
        self,
        ctx: RequestContext | None,
        *,
        visibility: str | None,
        resource_types: Sequence[str],
        limit: int | None,
        marker: str | None,
        sort_key: str,
        sort_dir: str,
    ) -> list[dict[str, Any]]:
        async with self.db.session() as s:
            stmt = select(MetadefNamespace)
            if visibility is not None:
                stmt = stmt.where(MetadefNamespace.visibility == visibility)
            if resource_types:
                stmt = stmt.where(
                    MetadefNamespace.id.in_(
                        select(MetadefAssociation.namespace_id)
                        .join(MetadefResourceType)
                        .where(MetadefResourceType.name.in_(list(resource_types)))
                    )
                )
            column = getattr(MetadefNamespace, sort_key)
            order = column.asc() if sort_dir == "asc" else column.desc()
            tie = MetadefNamespace.id.asc() if sort_dir == "asc" else MetadefNamespace.id.desc()
            rows = [r for r in await s.scalars(stmt.order_by(order, tie)) if visible(ctx, r)]
            if marker is not None:
                at = next((i for i, r in enumerate(rows) if r.namespace == marker), None)
                if at is None:
                    raise errors.NotFound(f"Metadata definition namespace={marker} was not found.")
                rows = rows[at + 1 :]
            if limit is not None:
                rows = rows[:limit]
            out = []
            for row in rows:
                doc = namespace_doc(row)
                assocs = await self._associations(s, row)
                if assocs:
                    doc["resource_type_associations"] = assocs
                out.append(doc)
            return out

    async def _associations(self, s: AsyncSession, row: MetadefNamespace) -> list[dict[str, Any]]:
        found = await s.execute(
            select(MetadefAssociation, MetadefResourceType.name)
            .join(MetadefResourceType)
            .where(MetadefAssociation.namespace_id == row.id)
            .order_by(MetadefResourceType.name)
        )
        return [association_doc(name, a) for a, name in found.all()]

    async def _detail(
        self, s: AsyncSession, row: MetadefNamespace, resource_type: str | None
    ) -> dict[str, Any]:
        doc = namespace_doc(row)
        assocs = await self._associations(s, row)
        if assocs:
            doc["resource_type_associations"] = assocs
        prefix = ""
        if resource_type:
            prefix = next((a.get("prefix", "") for a in assocs if a["name"] == resource_type), "")
        props = await s.scalars(
            select(MetadefProperty)
            .where(MetadefProperty.namespace_id == row.id)
            .order_by(MetadefProperty.name)
        )
        properties = {prefix + p.name: property_doc(p, named=False) for p in props}
        if properties:
            doc["properties"] = properties
        objs = await s.scalars(
            select(MetadefObject)
            .where(MetadefObject.namespace_id == row.id)
            .order_by(MetadefObject.name)
        )
        objects = []
        for o in objs:
            odoc = object_doc(row.namespace, o)
            if prefix:
                odoc["properties"] = {prefix + k: v for k, v in odoc["properties"].items()}
                if "required" in odoc:
                    odoc["required"] = [prefix + k for k in odoc["required"]]
            objects.append(odoc)
        if objects:
            doc["objects"] = objects
        tags = await s.scalars(
            select(MetadefTag).where(MetadefTag.namespace_id == row.id).order_by(MetadefTag.name)
        )
        tag_list = [{"name": t.name} for t in tags]
        if tag_list:
            doc["tags"] = tag_list
        return doc

    async def namespace(self, ctx: RequestContext | None, name: str) -> MetadefNamespace:
        """The namespace's row as the caller may see it (for the policy target)."""
        async with self.db.session() as s:
            row = await visible_namespace(s, ctx, name)
            s.expunge(row)
            return row

    async def show_namespace(
        self, ctx: RequestContext | None, name: str, resource_type: str | None
    ) -> dict[str, Any]:
        async with self.db.session() as s:
            row = await visible_namespace(s, ctx, name)
            return await self._detail(s, row, resource_type)

    async def update_namespace(
        self, ctx: RequestContext | None, name: str, fields: NamespaceFields
    ) -> dict[str, Any]:
        async with self.db.session() as s:
            row = await visible_namespace(s, ctx, name)
            if fields.namespace != row.namespace and await namespace_row(s, fields.namespace):
                raise errors.Conflict(
                    f"Metadata definition namespace={fields.namespace} already exists."
                )
            row.namespace = fields.namespace
            row.display_name = fields.display_name
            row.description = fields.description
            row.visibility = fields.visibility
            row.protected = fields.protected
            row.owner = fields.owner
            row.updated_at = utcnow()
            await s.flush()
            return namespace_doc(row)

    async def delete_namespace(self, ctx: RequestContext | None, name: str) -> None:
        async with self.db.session() as s:
            row = await visible_namespace(s, ctx, name)
            if row.protected:
                raise errors.Forbidden(
                    f"Metadata definition namespace {name} is protected and cannot be deleted."
                )
            await s.delete(row)

    async def delete_contents(self, ctx: RequestContext | None, name: str, kind: str) -> None:
        """Delete all of a namespace's ``objects``, ``properties`` or ``tags``."""
        model: Any = {"objects": MetadefObject, "properties": MetadefProperty, "tags": MetadefTag}[
            kind
        ]
        async with self.db.session() as s:
            row = await visible_namespace(s, ctx, name)
            refuse_if_protected(row, kind)
            await s.execute(delete(model).where(model.namespace_id == row.id))

    # -- resource types -----------------------------------------------------------------

    async def resource_types(self) -> list[dict[str, Any]]:
        async with self.db.session() as s:
            rows = await s.scalars(select(MetadefResourceType).order_by(MetadefResourceType.id))
            return [{"name": r.name, **times(r)} for r in rows]

    async def associations(self, ctx: RequestContext | None, name: str) -> list[dict[str, Any]]:
        async with self.db.session() as s:
            return await self._associations(s, await visible_namespace(s, ctx, name))

    async def _associate(
        self, s: AsyncSession, ns: MetadefNamespace, assoc: dict[str, Any], *, system: bool
    ) -> dict[str, Any]:
        rtype = await self._resource_type(s, assoc["name"], create=True, system=system)
        assert rtype is not None
        if await s.get(MetadefAssociation, (ns.id, rtype.id)) is not None:
            raise errors.Conflict(
                f"The metadata definition resource-type association of resource-type="
                f"{rtype.name} to namespace={ns.namespace}, already exists."
            )
        now = utcnow()
        row = MetadefAssociation(
            namespace_id=ns.id,
            resource_type_id=rtype.id,
            prefix=assoc.get("prefix"),
            properties_target=assoc.get("properties_target"),
            created_at=now,
            updated_at=now,
        )
        s.add(row)
        await s.flush()
        return association_doc(rtype.name, row)

    async def associate(
        self, ctx: RequestContext | None, name: str, assoc: dict[str, Any]
    ) -> dict[str, Any]:
        async with self.db.session() as s:
            return await self._associate(
                s, await visible_namespace(s, ctx, name), assoc, system=False
            )

    async def dissociate(self, ctx: RequestContext | None, name: str, resource_type: str) -> None:
        async with self.db.session() as s:
            row = await visible_namespace(s, ctx, name)
            rtype = await self._resource_type(s, resource_type, create=False)
            found = None if rtype is None else await s.get(MetadefAssociation, (row.id, rtype.id))
            if found is None:
                raise errors.NotFound(
                    f"The metadata definition resource-type association of resource-type="
                    f"{resource_type} to namespace={name}, was not found."
                )
            refuse_if_protected(row, "resource type associations")
            await s.delete(found)
