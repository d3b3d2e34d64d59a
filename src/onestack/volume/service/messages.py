"""User messages (``/messages``, 3.3): what went wrong in an asynchronous operation, for the
project that asked."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from onestack.common import errors
from onestack.common.context import RequestContext
from onestack.volume.models import Message
from onestack.volume.service.base import VolumeContext, is_admin, now, valid_uuid

# (action id, text) and (detail id, text) as Cinder's message_field.
SCHEDULE_ALLOCATE = ("001", "schedule allocate volume")
EXTEND = ("008", "extend volume")
CREATE_FROM_IMAGE = ("009", "create volume from backend storage")
DELETE = ("016", "delete volume")
ACTIONS = {"create_volume": SCHEDULE_ALLOCATE, "extend_volume": EXTEND, "delete_volume": DELETE}
NO_BACKEND = ("002", "Could not find any available weighted backend.")
DRIVER_FAILED = ("004", "An unknown error occurred.")
TTL = timedelta(days=30)


async def record(
    s: AsyncSession,
    project_id: str,
    resource_uuid: str,
    action: tuple[str, str],
    detail: tuple[str, str],
    request_id: str = "",
) -> None:
    s.add(
        Message(
            id=str(uuid.uuid4()),
            project_id=project_id,
            request_id=request_id or f"req-{uuid.uuid4()}",
            resource_type="VOLUME",
            resource_uuid=resource_uuid,
            event_id=f"VOLUME_VOLUME_{action[0]}_{detail[0]}",
            message_level="ERROR",
            user_message=f"{action[1]}: {detail[1]}",
            created_at=now(),
            expires_at=now() + TTL,
        )
    )


class Messages:
    def __init__(self, context: VolumeContext) -> None:
        self.context = context

    async def listing(self, ctx: RequestContext) -> list[Message]:
        stmt = select(Message).order_by(Message.created_at.desc(), Message.id)
        if not is_admin(ctx):
            stmt = stmt.where(Message.project_id == (ctx.project_id or ""))
        async with self.context.db.session() as s:
            return list(await s.scalars(stmt))

    async def get(self, ctx: RequestContext, message_id: str) -> Message:
        async with self.context.db.session() as s:
            row = await s.get(Message, message_id) if valid_uuid(message_id) else None
            if row is None or (not is_admin(ctx) and row.project_id != ctx.project_id):
                raise errors.NotFound(f"Message {message_id} could not be found.")
            return row

    async def delete(self, ctx: RequestContext, message_id: str) -> None:
        row = await self.get(ctx, message_id)
        async with self.context.db.session() as s:
            found = await s.get(Message, row.id)
            if found is not None:
                await s.delete(found)
