"""Server rows and their action records (``os-instance-actions``), shared by the servers,
actions and boot code."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from onestack.common import errors
from onestack.common.context import RequestContext
from onestack.common.db import utcnow
from onestack.compute import models


class InstanceNotFound(errors.NotFound):
    template = "Instance {id} could not be found."


class InstanceInvalidState(errors.Conflict):
    template = "Cannot '{action}' instance {id} while it is in {attr} {state}"


class InstanceLocked(errors.Conflict):
    template = "Instance {id} is locked"


async def get_row(
    session: AsyncSession, ctx: RequestContext | None, uuid: str, *, lock: bool = False
) -> models.Instance:
    """The live server ``uuid`` as the caller may see it: its project's, or any for an
    admin (``ctx`` None: the system itself); 404 otherwise, as Nova hides the rest."""
    stmt = select(models.Instance).where(
        models.Instance.uuid == uuid, models.Instance.deleted.is_(False)
    )
    if lock:
        stmt = stmt.with_for_update()
    row = await session.scalar(stmt)
    if row is None or (ctx is not None and not ctx.is_admin and row.project_id != ctx.project_id):
        raise InstanceNotFound(id=uuid)
    return row


def touch(row: models.Instance) -> None:
    row.updated_at = utcnow()


async def start_action(
    session: AsyncSession,
    ctx: RequestContext | None,
    row: models.Instance,
    action: str,
    *,
    request_id: str = "",
) -> models.InstanceAction:
    rec = models.InstanceAction(
        instance_uuid=row.uuid,
        request_id=(ctx.request_id if ctx else request_id) or request_id,
        action=action,
        project_id=ctx.project_id or row.project_id if ctx else row.project_id,
        user_id=ctx.user_id if ctx else row.user_id,
    )
    session.add(rec)
    await session.flush()
    return rec


async def last_action(session: AsyncSession, uuid: str) -> models.InstanceAction | None:
    row: models.InstanceAction | None = await session.scalar(
        select(models.InstanceAction)
        .where(models.InstanceAction.instance_uuid == uuid)
        .order_by(models.InstanceAction.id.desc())
        .limit(1)
    )
    return row


async def record_event(
    session: AsyncSession,
    uuid: str,
    event: str,
    host: str | None,
    error: str | None = None,
    details: str | None = None,
) -> None:
    """Finish the server's newest action with one event (``compute_<event>``)."""
    action = await last_action(session, uuid)
    if action is None:
        return
    now = utcnow()
    session.add(
        models.InstanceActionEvent(
            action_id=action.id,
            event=event,
            host=host,
            result="Error" if error else "Success",
            traceback=error,
            details=details,
            start_time=action.start_time,
            finish_time=now,
        )
    )
    action.finish_time = now
    action.updated_at = now
    if error:
        action.message = "Error"


def fault(message: str, code: int = 500, details: str = "") -> dict[str, Any]:
    return {
        "code": code,
        "message": message[:255],
        "details": details,
        "created": utcnow().isoformat(),
    }
