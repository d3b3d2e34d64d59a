"""The tasks API (``/v2/tasks``, deprecated in Glance but served): an ``import`` task makes an
image from ``input.image_properties`` and fills it from ``input.import_from``, an http(s) URL.

``import_from`` passes the import filter (``service/web.py``, Glance's defaults: schemes
http and https, ports 80 and 443) or the create is refused (400), as Glance does since its
bug 2152110; a redirect must pass it too. The task then runs in the background: ``pending``
→ ``processing`` → ``success`` (``result.image_id``) or ``failure`` (``message``; the
half-made image is deleted, as Glance's flow reverts its image). A task whose process
stopped while it ran (``runner``, as an upload's owner) is failed by the next start of the
image service on that host: no process resumes another's download.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import Any

from sqlalchemy import select, update

from onestack.common import errors
from onestack.common.context import RequestContext
from onestack.common.db import utcnow
from onestack.image import schemas
from onestack.image.models import ImageTask
from onestack.image.service.base import ImageContext
from onestack.image.service.data import ImageData, Spawn
from onestack.image.service.images import Images
from onestack.image.service.owners import Owner, is_dead
from onestack.image.service.records import TaskRecord
from onestack.image.service.tasks import TIME_TO_LIVE
from onestack.image.service.web import fetch, import_filter

TASK_TYPES = ("import",)
TASK_STATUSES = ("pending", "processing", "success", "failure")
SORT_KEYS = ("created_at", "updated_at", "id", "status", "type")


class Tasks:
    def __init__(self, base: ImageContext, images: Images, data: ImageData, spawn: Spawn) -> None:
        self.db = base.db
        self.uri_filter = import_filter(base.settings)
        self.images = images
        self.data = data
        self.spawn = spawn

    async def create(
        self, ctx: RequestContext, task_type: str, task_input: dict[str, Any]
    ) -> TaskRecord:
        if task_type not in TASK_TYPES:
            raise errors.BadRequest(f"Invalid type value: {task_type}")
        uri = task_input.get("import_from")
        if not isinstance(uri, str) or not self.uri_filter.allows(uri):
            raise errors.BadRequest(f"URI for legacy import task does not pass filtering: {uri}")
        now = utcnow()
        row = ImageTask(
            id=str(uuid.uuid4()),
            image_id=None,
            type=task_type,
            status="pending",
            owner=ctx.project_id,
            user_id=ctx.user_id,
            request_id=ctx.request_id,
            input=task_input,
            result=None,
            message="",
            runner=str(Owner.this_process()),
            created_at=now,
            updated_at=now,
        )
        async with self.db.session() as s:
            s.add(row)
            await s.flush()
            record = TaskRecord.of(row)
        self.spawn(self._run(record), f"image-task-{record.id}")
        return record

    async def _set(self, task_id: str, **values: Any) -> None:
        values["updated_at"] = utcnow()
        if values.get("status") in ("success", "failure"):
            values["expires_at"] = values["updated_at"] + TIME_TO_LIVE
        async with self.db.session() as s:
            await s.execute(update(ImageTask).where(ImageTask.id == task_id).values(**values))

    async def _run(self, task: TaskRecord) -> None:
        await self._set(task.id, status="processing")
        image_id = None
        try:
            core, props = schemas.parse_create(task.input.get("image_properties") or {})
            core.setdefault("owner", task.owner)
            image_id = (await self.images.create(None, core, props)).id
            await self._set(task.id, image_id=image_id)
            async with contextlib.aclosing(
                fetch(task.input["import_from"], self.uri_filter)
            ) as chunks:
                await self.data.upload(None, image_id, chunks)
        except Exception as exc:
            message = str(exc) or type(exc).__name__
            await self._set(task.id, status="failure", message=message, image_id=None)
            if image_id is not None:
                await asyncio.shield(self.images.delete(None, image_id))
            return
        await self._set(task.id, status="success", result={"image_id": image_id})

    async def fail_interrupted(self) -> None:
        """Fail the running tasks whose process on this host is gone."""
        async with self.db.session() as s:
            running = await s.execute(
                select(ImageTask.id, ImageTask.runner, ImageTask.image_id).where(
                    ImageTask.type.in_(TASK_TYPES),
                    ImageTask.status.in_(("pending", "processing")),
                )
            )
            dead = [(i, image) for i, runner, image in running.all() if is_dead(runner)]
        for task_id, image_id in dead:
            await self._set(
                task_id,
                status="failure",
                message="The image service stopped while the task ran.",
                image_id=None,
            )
            if image_id is not None:
                with contextlib.suppress(errors.NotFound):
                    await self.images.delete(None, image_id)

    async def get(self, ctx: RequestContext, task_id: str) -> TaskRecord:
        async with self.db.session() as s:
            row = await s.get(ImageTask, task_id)
            if row is None or not (ctx.is_admin or row.owner == ctx.project_id):
                raise errors.NotFound(f"Task with identifier {task_id} not found")
            return TaskRecord.of(row)

    async def listing(
        self,
        ctx: RequestContext,
        *,
        status: str | None,
        task_type: str | None,
        sort_key: str,
        sort_dir: str,
        limit: int | None,
        marker: str | None,
    ) -> list[TaskRecord]:
        stmt = select(ImageTask)
        if not ctx.is_admin:
            stmt = stmt.where(ImageTask.owner == ctx.project_id)
        if status is not None:
            stmt = stmt.where(ImageTask.status == status)
        if task_type is not None:
            stmt = stmt.where(ImageTask.type == task_type)
        column = getattr(ImageTask, sort_key)
        desc = sort_dir == "desc"
        stmt = stmt.order_by(
            column.desc() if desc else column.asc(),
            ImageTask.id.desc() if desc else ImageTask.id.asc(),
        )
        async with self.db.session() as s:
            rows = [TaskRecord.of(r) for r in await s.scalars(stmt)]
        if marker is not None:
            at = next((i for i, r in enumerate(rows) if r.id == marker), None)
            if at is None:
                raise errors.NotFound(f"Task with identifier {marker} not found")
            rows = rows[at + 1 :]
        return rows if limit is None else rows[:limit]
