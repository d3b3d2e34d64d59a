"""What the metadef service modules share: Glance's documents of each metadef, who sees a
namespace, the rows a namespace's contents are made of."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from onestack.common import errors
from onestack.common.context import RequestContext
from onestack.common.db import utcnow
from onestack.image.models import (
    MetadefAssociation,
    MetadefNamespace,
    MetadefObject,
    MetadefProperty,
    MetadefTag,
)


def iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def times(row: Any) -> dict[str, str]:
    return {"created_at": iso(row.created_at), "updated_at": iso(row.updated_at)}


def _some(**values: Any) -> dict[str, Any]:
    """The set members only: Glance's (WSME) documents leave unset attributes out."""
    return {k: v for k, v in values.items() if v is not None}


def _is_admin(ctx: RequestContext | None) -> bool:
    return ctx is None or ctx.is_admin


def visible(ctx: RequestContext | None, row: MetadefNamespace) -> bool:
    return (
        _is_admin(ctx)
        or row.owner is None
        or row.visibility == "public"
        or (ctx is not None and ctx.project_id is not None and ctx.project_id == row.owner)
    )


@dataclass(frozen=True)
class NamespaceFields:
    """A namespace's own attributes, as a create or a full update gives them."""

    namespace: str
    display_name: str | None
    description: str | None
    visibility: str | None
    protected: bool
    owner: str | None


def property_doc(row: MetadefProperty, *, named: bool) -> dict[str, Any]:
    doc = {k: v for k, v in row.json_schema.items() if k != "name"}
    return {"name": row.name, **doc} if named else doc


def object_doc(namespace: str, row: MetadefObject) -> dict[str, Any]:
    return {
        **_some(name=row.name, description=row.description, required=row.required or None),
        "properties": row.properties or {},
        "schema": "/v2/schemas/metadefs/object",
        "self": f"/v2/metadefs/namespaces/{namespace}/objects/{row.name}",
        **times(row),
    }


def tag_doc(row: MetadefTag) -> dict[str, Any]:
    return {"name": row.name, **times(row)}


def association_doc(name: str, row: MetadefAssociation) -> dict[str, Any]:
    return {
        **_some(name=name, prefix=row.prefix, properties_target=row.properties_target),
        **times(row),
    }


def namespace_doc(row: MetadefNamespace) -> dict[str, Any]:
    return {
        **_some(
            namespace=row.namespace,
            display_name=row.display_name,
            description=row.description,
            visibility=row.visibility,
            owner=row.owner,
        ),
        "protected": row.protected,
        **times(row),
        "schema": "/v2/schemas/metadefs/namespace",
        "self": f"/v2/metadefs/namespaces/{row.namespace}",
    }


async def namespace_row(s: AsyncSession, name: str) -> MetadefNamespace | None:
    row: MetadefNamespace | None = await s.scalar(
        select(MetadefNamespace).where(MetadefNamespace.namespace == name)
    )
    return row


async def visible_namespace(
    s: AsyncSession, ctx: RequestContext | None, name: str
) -> MetadefNamespace:
    """The namespace as the caller may see it: 404 when it cannot, as when there is none."""
    row = await namespace_row(s, name)
    if row is None or not visible(ctx, row):
        raise errors.NotFound(f"Metadata definition namespace={name} was not found.")
    return row


def refuse_if_protected(row: MetadefNamespace, what: str) -> None:
    if row.protected:
        raise errors.Forbidden(
            f"Metadata definition namespace {row.namespace} is protected: cannot delete its {what}."
        )


def refuse_repeats(names: Sequence[str], what: str) -> None:
    if len(set(names)) != len(names):
        raise errors.Conflict(f"A metadata definition {what} name is given twice.")


def property_row(namespace_id: int, name: str, schema: dict[str, Any]) -> MetadefProperty:
    now = utcnow()
    return MetadefProperty(
        namespace_id=namespace_id,
        name=name,
        json_schema={k: v for k, v in schema.items() if k != "name"},
        created_at=now,
        updated_at=now,
    )


def object_row(namespace_id: int, obj: dict[str, Any]) -> MetadefObject:
    now = utcnow()
    return MetadefObject(
        namespace_id=namespace_id,
        name=obj["name"],
        description=obj.get("description"),
        required=obj.get("required"),
        properties=obj.get("properties"),
        created_at=now,
        updated_at=now,
    )
