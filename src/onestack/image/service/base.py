"""What the parts of the image service share: who may see an image, loading records."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, exists, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from onestack.common import errors
from onestack.common.bus import Bus
from onestack.common.context import RequestContext
from onestack.common.db import Database
from onestack.config import ImageSettings
from onestack.image.drivers.base import ImageStore
from onestack.image.drivers.cache import LocalCache
from onestack.image.facade import IMAGE_NOTIFICATIONS
from onestack.image.models import Image, ImageMember, ImageProperty, ImageTag
from onestack.image.service.records import ImageRecord

NOTIFICATIONS = IMAGE_NOTIFICATIONS


@dataclass
class ImageContext:
    """What the parts of the image service share: the database, the bus, its settings, the
    store drivers and this host's cache."""

    db: Database
    bus: Bus
    settings: ImageSettings
    store: ImageStore
    staging: ImageStore
    cache: LocalCache  # this host's local copies of images

    async def notify(self, event_type: str, image_id: str) -> None:
        await self.bus.publish(NOTIFICATIONS, f"image.{event_type}", {"id": image_id})


def is_admin(ctx: RequestContext | None) -> bool:
    """None is the cloud itself (another service's call): it sees and may do everything."""
    return ctx is None or ctx.is_admin


def valid_id(image_id: str) -> bool:
    try:
        uuid.UUID(image_id)
    except ValueError:
        return False
    return True


def member_clause(project_id: str | None, statuses: Sequence[str] | None) -> ColumnElement[bool]:
    """The image is shared with ``project_id`` (in one of ``statuses``; None: any)."""
    if project_id is None:
        return false()
    conds = [ImageMember.image_id == Image.id, ImageMember.member == project_id]
    if statuses is not None:
        conds.append(ImageMember.status.in_(statuses))
    return exists().where(*conds)


def visible_clause(ctx: RequestContext | None) -> ColumnElement[bool] | None:
    """What ``ctx`` may see at all (GET by id): None means no restriction."""
    if is_admin(ctx):
        return None
    assert ctx is not None
    project = ctx.project_id
    return or_(
        Image.visibility.in_(("public", "community")),
        Image.owner == project if project else false(),
        and_(Image.visibility == "shared", member_clause(project, None)),
    )


async def load_extras(
    session: AsyncSession, ids: Sequence[str]
) -> tuple[dict[str, dict[str, str]], dict[str, list[str]]]:
    props: dict[str, dict[str, str]] = {i: {} for i in ids}
    tags: dict[str, list[str]] = {i: [] for i in ids}
    if not ids:
        return props, tags
    for p in await session.scalars(select(ImageProperty).where(ImageProperty.image_id.in_(ids))):
        props[p.image_id][p.name] = p.value
    for t in await session.scalars(select(ImageTag).where(ImageTag.image_id.in_(ids))):
        tags[t.image_id].append(t.value)
    return props, tags


async def records(
    session: AsyncSession, rows: Sequence[Image], ctx: RequestContext | None
) -> list[ImageRecord]:
    ids = [r.id for r in rows]
    props, tags = await load_extras(session, ids)
    member_of: set[str] = set()
    if ctx is not None and ctx.project_id and ids:
        found = await session.scalars(
            select(ImageMember.image_id).where(
                ImageMember.image_id.in_(ids), ImageMember.member == ctx.project_id
            )
        )
        member_of = set(found)
    return [ImageRecord.of(r, props[r.id], tags[r.id], r.id in member_of) for r in rows]


async def visible_row(session: AsyncSession, ctx: RequestContext | None, image_id: str) -> Image:
    """The image row if ``ctx`` may see it; 404 otherwise (as if it did not exist)."""
    if not valid_id(image_id):
        raise errors.NotFound(f"No image found with ID {image_id}")
    stmt = select(Image).where(Image.id == image_id)
    clause = visible_clause(ctx)
    if clause is not None:
        stmt = stmt.where(clause)
    row = await session.scalar(stmt)
    if row is None:
        raise errors.NotFound(f"No image found with ID {image_id}")
    return row


def require_owner(ctx: RequestContext | None, row: Image, what: str = "modify") -> None:
    """Only the owner's project (or an admin) changes an image; others see it, 403."""
    if is_admin(ctx):
        return
    assert ctx is not None
    if row.owner is None or row.owner != ctx.project_id:
        raise errors.Forbidden(f"You are not permitted to {what} this image.")
