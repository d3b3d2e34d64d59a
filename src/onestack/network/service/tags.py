"""Tags on any taggable resource (networks, subnets, ports, routers, ...)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from onestack.network import errors as nerr
from onestack.network import models
from onestack.network.service.base import (
    NetworkContext,
    touch,
)

TAGGABLE = {
    "networks": models.Network,
    "subnets": models.Subnet,
    "ports": models.Port,
    "routers": models.Router,
    "floatingips": models.FloatingIP,
    "security-groups": models.SecurityGroup,
    "subnetpools": models.SubnetPool,
    "address-scopes": models.AddressScope,
    "policies": models.QosPolicy,
}


def validate_tag(tag: Any) -> str:
    if not isinstance(tag, str) or not tag or len(tag) > 255 or "," in tag or "/" in tag:
        raise nerr.InvalidInput(reason=f"'{tag}' is not a valid tag")
    return tag


class Tags:
    """Tags on any taggable resource; the caller's right to the resource is checked first."""

    def __init__(self, ctx: NetworkContext) -> None:
        self.ctx = ctx

    async def of(self, session: AsyncSession, resource_id: str) -> list[str]:
        rows = await session.scalars(
            select(models.Tag.tag)
            .where(models.Tag.resource_id == resource_id)
            .order_by(models.Tag.tag)
        )
        return list(rows.all())

    async def replace(self, collection: str, resource_id: str, tags: list[str]) -> list[str]:
        wanted = sorted({validate_tag(t) for t in tags})
        async with self.ctx.db.session() as session:
            await session.execute(delete(models.Tag).where(models.Tag.resource_id == resource_id))
            for tag in wanted:
                session.add(models.Tag(resource_id=resource_id, tag=tag, resource_type=collection))
            await self._touch(session, collection, resource_id)
        return wanted

    async def add(self, collection: str, resource_id: str, tag: str) -> None:
        validate_tag(tag)
        async with self.ctx.db.session() as session:
            if await session.get(models.Tag, (resource_id, tag)) is None:
                session.add(models.Tag(resource_id=resource_id, tag=tag, resource_type=collection))
                await self._touch(session, collection, resource_id)

    async def has(self, resource_id: str, tag: str) -> bool:
        async with self.ctx.db.session() as session:
            return await session.get(models.Tag, (resource_id, tag)) is not None

    async def remove(self, collection: str, resource_id: str, tag: str) -> None:
        async with self.ctx.db.session() as session:
            row = await session.get(models.Tag, (resource_id, tag))
            if row is None:
                raise nerr.TagNotFound(tag=tag)
            await session.delete(row)
            await self._touch(session, collection, resource_id)

    async def clear(self, collection: str, resource_id: str) -> None:
        async with self.ctx.db.session() as session:
            await session.execute(delete(models.Tag).where(models.Tag.resource_id == resource_id))
            await self._touch(session, collection, resource_id)

    @staticmethod
    async def _touch(session: AsyncSession, collection: str, resource_id: str) -> None:
        row = await session.get(TAGGABLE[collection], resource_id)
        if row is not None:
            touch(row)
