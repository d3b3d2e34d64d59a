"""Server tags (2.26): short strings on a server, at most ``MAX_TAGS`` of them."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from onestack.common import errors
from onestack.common.context import RequestContext
from onestack.compute import models, states
from onestack.compute.service.base import ComputeContext
from onestack.compute.service.records import get_row

MAX_TAGS = 50
# Nova changes tags only in these states (409 otherwise).
TAG_STATES = (
    states.ACTIVE,
    states.PAUSED,
    states.SUSPENDED,
    states.STOPPED,
    states.SHELVED,
    states.SHELVED_OFFLOADED,
)


class TooManyTags(errors.BadRequest):
    template = "The number of tags exceeded the per-server limit {limit}"


class TagNotFound(errors.NotFound):
    template = "Instance {id} has no tag '{tag}'"


class InvalidTagState(errors.Conflict):
    template = "Cannot '{action}' instance {id} while it is in vm_state {state}"


class Tags:
    def __init__(self, context: ComputeContext) -> None:
        self.context = context

    async def listing(self, ctx: RequestContext, uuid: str) -> list[str]:
        async with self.context.db.session() as s:
            await get_row(s, ctx, uuid)
            return sorted(
                await s.scalars(
                    select(models.InstanceTag.tag).where(models.InstanceTag.instance_uuid == uuid)
                )
            )

    async def _changeable(
        self, s: AsyncSession, ctx: RequestContext, uuid: str, action: str
    ) -> None:
        row = await get_row(s, ctx, uuid)
        if row.vm_state not in TAG_STATES:
            raise InvalidTagState(action=action, id=uuid, state=row.vm_state)

    async def replace(self, ctx: RequestContext, uuid: str, tags: list[str]) -> list[str]:
        unique = list(dict.fromkeys(tags))
        if len(unique) > MAX_TAGS:
            raise TooManyTags(limit=MAX_TAGS)
        async with self.context.db.session() as s:
            await self._changeable(s, ctx, uuid, "update tags")
            await s.execute(
                delete(models.InstanceTag).where(models.InstanceTag.instance_uuid == uuid)
            )
            for tag in unique:
                s.add(models.InstanceTag(instance_uuid=uuid, tag=tag))
        return sorted(unique)

    async def add(self, ctx: RequestContext, uuid: str, tag: str) -> bool:
        """Add ``tag``; False when the server had it already."""
        async with self.context.db.session() as s:
            await self._changeable(s, ctx, uuid, "update tag")
            current = set(
                await s.scalars(
                    select(models.InstanceTag.tag).where(models.InstanceTag.instance_uuid == uuid)
                )
            )
            if tag in current:
                return False
            if len(current) >= MAX_TAGS:
                raise TooManyTags(limit=MAX_TAGS)
            s.add(models.InstanceTag(instance_uuid=uuid, tag=tag))
            return True

    async def has(self, ctx: RequestContext, uuid: str, tag: str) -> bool:
        return tag in await self.listing(ctx, uuid)

    async def remove(self, ctx: RequestContext, uuid: str, tag: str) -> None:
        async with self.context.db.session() as s:
            await self._changeable(s, ctx, uuid, "delete tag")
            found = await s.get(models.InstanceTag, (uuid, tag))
            if found is None:
                raise TagNotFound(id=uuid, tag=tag)
            await s.delete(found)

    async def clear(self, ctx: RequestContext, uuid: str) -> None:
        async with self.context.db.session() as s:
            await self._changeable(s, ctx, uuid, "delete tags")
            await s.execute(
                delete(models.InstanceTag).where(models.InstanceTag.instance_uuid == uuid)
            )
