"""What the parts of the block storage service share: the database, the bus, the settings,
who may see a volume."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from onestack.common.bus import Bus
from onestack.common.context import RequestContext
from onestack.common.db import Database
from onestack.config import VolumeSettings
from onestack.image.facade import ImageAPI
from onestack.volume import errors as verr
from onestack.volume.facade import VOLUME_NOTIFICATIONS
from onestack.volume.models import Volume

NOTIFICATIONS = VOLUME_NOTIFICATIONS


async def start_deleting(
    s: AsyncSession, model: Any, ident: str, seen: str, refused: Exception
) -> None:
    """Move the row to ``deleting`` only if it is still ``seen`` (Cinder's conditional
    update): of concurrent deletes of one volume or snapshot exactly one goes ahead; the
    others are ``refused`` as a delete of one being deleted is."""
    done = await s.execute(
        update(model)
        .where(model.id == ident, model.status == seen)
        .values(status="deleting", updated_at=now())
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise refused


def volume_topic(host: str) -> str:
    """The bus topic of one volume host's agent (``host`` without ``@backend#pool``)."""
    return f"volume.{host}"


def host_of(pool_name: str) -> str:
    return pool_name.split("@", 1)[0].split("#", 1)[0]


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def valid_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def is_admin(ctx: RequestContext | None) -> bool:
    """None is the cloud itself (another service's call): it sees everything."""
    return ctx is None or ctx.is_admin


@dataclass
class VolumeContext:
    db: Database
    bus: Bus
    settings: VolumeSettings
    image: ImageAPI | None = None  # the image service, for volumes from and to images

    async def notify(self, event_type: str, payload: dict[str, Any]) -> None:
        await self.bus.publish(NOTIFICATIONS, f"volume.{event_type}", payload)


def volume_event(row: Volume, type_name: str | None) -> dict[str, Any]:
    """The payload of a notification about an unattached volume (its create), as Cinder's
    carries the volume: what metering's volume resource shows, so that its listener need not
    load the volume again."""
    return {
        "volume_id": row.id,
        "display_name": row.name,
        "size": row.size,
        "volume_type": type_name,
        "tenant_id": row.project_id,
        "user_id": row.user_id,
        "image_id": row.image_id,
        "status": row.status,
        "volume_attachment": [],
    }


async def visible_volume(
    session: AsyncSession, ctx: RequestContext | None, volume_id: str, *, lock: bool = False
) -> Volume:
    """The volume if ``ctx`` may see it (its project's, or any for an admin); 404 otherwise."""
    if not valid_uuid(volume_id):
        raise verr.VolumeNotFound(id=volume_id)
    stmt = select(Volume).where(Volume.id == volume_id)
    if not is_admin(ctx):
        assert ctx is not None
        stmt = stmt.where(Volume.project_id == (ctx.project_id or ""))
    if lock:
        stmt = stmt.with_for_update()
    row = await session.scalar(stmt)
    if row is None:
        raise verr.VolumeNotFound(id=volume_id)
    return row
