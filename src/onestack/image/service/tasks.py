"""Import tasks: each ``POST /import`` records an ``api_image_import`` task, as Glance does
since v2.12, so clients can follow an import (``GET /v2/images/{id}/tasks``).

Statuses: ``processing`` while the data moves into the store, then ``success`` (``result``
names the image) or ``failure`` (``message`` says why). A finished task expires after
``TIME_TO_LIVE``, Glance's default; the rows go with their image.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from onestack.common.context import RequestContext
from onestack.common.db import Database, utcnow
from onestack.image.models import ImageTask
from onestack.image.service.records import TaskRecord

TASK_TYPE = "api_image_import"
TIME_TO_LIVE = timedelta(hours=48)


def new_import_task(
    s: AsyncSession,
    ctx: RequestContext | None,
    image_id: str,
    owner: str | None,
    import_req: dict[str, Any],
    stores: list[str],
) -> str:
    """Add the task of an import starting now (in the caller's transaction)."""
    now = utcnow()
    task = ImageTask(
        id=str(uuid.uuid4()),
        image_id=image_id,
        type=TASK_TYPE,
        status="processing",
        owner=owner,
        user_id=ctx.user_id if ctx is not None else None,
        request_id=ctx.request_id if ctx is not None else None,
        input={"image_id": image_id, "import_req": import_req, "backend": stores},
        result=None,
        message="",
        created_at=now,
        updated_at=now,
    )
    s.add(task)
    return task.id


async def finish_task(db: Database, task_id: str, image_id: str, error: str | None) -> None:
    now = utcnow()
    values: dict[str, Any] = {"updated_at": now, "expires_at": now + TIME_TO_LIVE}
    if error is None:
        values.update(status="success", result={"image_id": image_id}, message="")
    else:
        values.update(status="failure", message=error)
    async with db.session() as s:
        await s.execute(update(ImageTask).where(ImageTask.id == task_id).values(**values))


async def fail_tasks(db: Database, image_ids: list[str], message: str) -> None:
    """The running import tasks of these images will never finish."""
    now = utcnow()
    async with db.session() as s:
        await s.execute(
            update(ImageTask)
            .where(ImageTask.image_id.in_(image_ids), ImageTask.status == "processing")
            .values(
                status="failure", message=message, updated_at=now, expires_at=now + TIME_TO_LIVE
            )
        )


async def image_tasks(db: Database, image_id: str) -> list[TaskRecord]:
    async with db.session() as s:
        rows = await s.scalars(
            select(ImageTask)
            .where(ImageTask.image_id == image_id)
            .order_by(ImageTask.created_at, ImageTask.id)
        )
        return [TaskRecord.of(r) for r in rows]
