"""``os-instance-actions``: the actions taken on a server, newest first, and their events."""

from __future__ import annotations

from sqlalchemy import select

from onestack.common import errors
from onestack.common.context import RequestContext
from onestack.compute import models
from onestack.compute.service.base import ComputeContext
from onestack.compute.service.records import InstanceNotFound


class InstanceActions:
    def __init__(self, context: ComputeContext) -> None:
        self.context = context

    async def server(self, ctx: RequestContext, uuid: str, *, deleted_ok: bool) -> models.Instance:
        """The server whose actions the caller asks for: its project's, or any for an admin;
        a deleted one only when ``deleted_ok`` (2.21); 404 otherwise."""
        async with self.context.db.session() as s:
            row: models.Instance | None = await s.scalar(
                select(models.Instance).where(models.Instance.uuid == uuid)
            )
        if row is None or (row.deleted and not deleted_ok):
            raise InstanceNotFound(id=uuid)
        if not ctx.is_admin and row.project_id != ctx.project_id:
            raise InstanceNotFound(id=uuid)
        return row

    async def listing(
        self, uuid: str, *, marker: str | None = None, limit: int | None = None
    ) -> list[models.InstanceAction]:
        """The server's actions, newest first; after the action of request ``marker`` (400
        when there is none) and at most ``limit`` of them, when given."""
        async with self.context.db.session() as s:
            rows = list(
                await s.scalars(
                    select(models.InstanceAction)
                    .where(models.InstanceAction.instance_uuid == uuid)
                    .order_by(
                        models.InstanceAction.start_time.desc(), models.InstanceAction.id.desc()
                    )
                )
            )
        if marker:
            index = next((i for i, r in enumerate(rows) if r.request_id == marker), None)
            if index is None:
                raise errors.BadRequest(f"Marker {marker} could not be found.")
            rows = rows[index + 1 :]
        return rows if limit is None else rows[:limit]

    async def show(
        self, uuid: str, request_id: str
    ) -> tuple[models.InstanceAction, list[models.InstanceActionEvent]]:
        """The server's action of request ``request_id`` and its events, oldest first."""
        async with self.context.db.session() as s:
            action = await s.scalar(
                select(models.InstanceAction)
                .where(
                    models.InstanceAction.instance_uuid == uuid,
                    models.InstanceAction.request_id == request_id,
                )
                .order_by(models.InstanceAction.id.desc())
                .limit(1)
            )
            if action is None:
                raise errors.NotFound(f"Action {request_id} on instance {uuid} could not be found.")
            events = list(
                await s.scalars(
                    select(models.InstanceActionEvent)
                    .where(models.InstanceActionEvent.action_id == action.id)
                    .order_by(models.InstanceActionEvent.id)
                )
            )
        return action, events
