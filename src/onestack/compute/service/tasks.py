"""What a host's agent writes back once it has acted on a server: the server's new state with
the action's event, a lone event, and the power-state sync's corrections. The agent reads
servers and reports through here; it writes no table itself."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from onestack.compute import models
from onestack.compute.service.base import ComputeContext
from onestack.compute.service.records import record_event, touch


@dataclass(frozen=True)
class TaskOwner:
    """Whose server a finished task was on and where it stands now (for notifications)."""

    project_id: str
    user_id: str
    vm_state: str
    flavor_name: str


class Tasks:
    def __init__(self, context: ComputeContext) -> None:
        self.context = context

    async def finish(
        self, uuid: str, event: str, host: str, *, error: str | None = None, **values: Any
    ) -> TaskOwner | None:
        """Set ``values`` on the server and finish its newest action with ``event`` (failed
        with ``error`` when given); None when the server is gone."""
        async with self.context.db.session() as s:
            row = await s.scalar(select(models.Instance).where(models.Instance.uuid == uuid))
            if row is None:
                return None
            for key, value in values.items():
                setattr(row, key, value)
            touch(row)
            await record_event(s, uuid, event, host, error)
            return TaskOwner(row.project_id, row.user_id, row.vm_state, row.flavor.get("name", ""))

    async def update(self, uuid: str, **values: Any) -> None:
        """Set ``values`` on the server, no event (a failure's own marks, before its event)."""
        async with self.context.db.session() as s:
            row = await s.scalar(select(models.Instance).where(models.Instance.uuid == uuid))
            if row is None:
                return
            for key, value in values.items():
                setattr(row, key, value)
            touch(row)

    async def event(self, uuid: str, event: str, host: str) -> None:
        """Record ``event`` on the server's newest action, on its own."""
        async with self.context.db.session() as s:
            await record_event(s, uuid, event, host)

    async def on_host(self, host: str) -> list[models.Instance]:
        """Every server placed on ``host``, deleted ones too."""
        async with self.context.db.session() as s:
            return list(
                await s.scalars(select(models.Instance).where(models.Instance.host == host))
            )

    async def correct(self, uuid: str, task_state: str | None, values: dict[str, Any]) -> None:
        """The power-state sync's ``values`` for the server, unless its task changed since
        it was read as ``task_state`` (something else is at work on it)."""
        async with self.context.db.session() as s:
            fresh = await s.scalar(select(models.Instance).where(models.Instance.uuid == uuid))
            if fresh is None or fresh.task_state != task_state:
                return
            for key, value in values.items():
                setattr(fresh, key, value)
            touch(fresh)
