"""The state machines' writes: a stack's and a resource's (action, status) move together
with the event that tells of it, in one transaction."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, update

from onestack.common.db import Database, utcnow
from onestack.orchestration.models import Event, Resource, Stack

STACK_TYPE = "OS::Heat::Stack"


class Store:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def stack(self, stack_id: str) -> Stack:
        async with self.db.session() as s:
            row = await s.get(Stack, stack_id)
            assert row is not None, stack_id
            return row

    async def resources(self, stack_id: str) -> list[Resource]:
        async with self.db.session() as s:
            found = await s.scalars(
                select(Resource).where(Resource.stack_id == stack_id).order_by(Resource.created_at)
            )
            return list(found)

    async def stack_state(
        self, stack_id: str, action: str, status: str, reason: str, **extra: Any
    ) -> None:
        async with self.db.session() as s:
            row = await s.get(Stack, stack_id)
            assert row is not None
            row.action, row.status, row.status_reason = action, status, reason
            if status != "IN_PROGRESS":
                row.cancel = None  # a cancel asked too late for the action it meant
            for key, value in extra.items():
                setattr(row, key, value)
            if action != "CREATE" or status != "IN_PROGRESS":
                row.updated_at = utcnow() if action not in ("CREATE", "DELETE") else row.updated_at
            s.add(_event(row.id, row.name, STACK_TYPE, row.id, action, status, reason))

    async def resource_state(
        self,
        res_id: str,
        action: str,
        status: str,
        reason: str,
        **extra: Any,
    ) -> Resource:
        async with self.db.session() as s:
            row = await s.get(Resource, res_id)
            assert row is not None
            row.action, row.status, row.status_reason = action, status, reason
            for key, value in extra.items():
                setattr(row, key, value)
            row.updated_at = utcnow()
            s.add(
                _event(
                    row.stack_id,
                    row.name,
                    row.type,
                    row.physical_resource_id or "",
                    action,
                    status,
                    reason,
                    row.properties,
                )
            )
            return row

    async def resource_fields(self, res_id: str, **fields: Any) -> None:
        """Record what a step learnt (resolved properties) without a state change."""
        async with self.db.session() as s:
            row = await s.get(Resource, res_id)
            assert row is not None
            for key, value in fields.items():
                setattr(row, key, value)

    async def add_missing_rows(self, stack_id: str) -> None:
        """INIT rows for the resources of the stack's template that have none (a rollback to
        a template whose resources a failed update had already dropped)."""
        from onestack.orchestration.service import _new_row
        from onestack.orchestration.template import hot

        async with self.db.session() as s:
            stack = await s.get(Stack, stack_id)
            assert stack is not None
            tmpl = hot.parse(stack.template, (stack.environment or {}).get("resource_registry"))
            live = hot.active(tmpl, hot.evaluate_conditions(tmpl, stack.parameters))
            have = set(await s.scalars(select(Resource.name).where(Resource.stack_id == stack_id)))
            for name, rdef in live.items():
                if name not in have:
                    s.add(_new_row(stack_id, name, rdef, live))

    async def drop_resources(self, stack_id: str, names: set[str]) -> None:
        """Forget the resources an update deleted (their events stay)."""
        if not names:
            return
        async with self.db.session() as s:
            for row in await s.scalars(
                select(Resource).where(Resource.stack_id == stack_id, Resource.name.in_(names))
            ):
                await s.delete(row)

    async def owner_busy(self, owner_id: str) -> bool:
        """Whether a nested stack's parent is still at work (then the parent's task, or its
        recovery, runs the nested stack too)."""
        async with self.db.session() as s:
            row = await s.get(Stack, owner_id)
            return row is not None and row.status == "IN_PROGRESS"

    async def resource_named(self, stack_id: str, name: str) -> Resource | None:
        async with self.db.session() as s:
            found = await s.scalars(
                select(Resource).where(Resource.stack_id == stack_id, Resource.name == name)
            )
            return found.first()

    async def resource_event(self, res_id: str, action: str, status: str, reason: str) -> None:
        """An event on a resource that leaves its state as it is (a signal)."""
        async with self.db.session() as s:
            row = await s.get(Resource, res_id)
            assert row is not None
            s.add(_event(row.stack_id, row.name, row.type, row.physical_resource_id or "",
                         action, status, reason))  # fmt: skip

    async def stack_fields(self, stack_id: str, **fields: Any) -> None:
        async with self.db.session() as s:
            row = await s.get(Stack, stack_id)
            assert row is not None
            for key, value in fields.items():
                setattr(row, key, value)

    async def cancels(self, stack_ids: set[str], engine_id: str) -> list[tuple[str, str]]:
        """The stacks of ``stack_ids`` this engine runs whose update another process was
        asked to cancel, and how ("rollback" or "stop")."""
        if not stack_ids:
            return []
        async with self.db.session() as s:
            found = await s.execute(
                select(Stack.id, Stack.cancel).where(
                    Stack.id.in_(stack_ids), Stack.engine_id == engine_id,
                    Stack.cancel.is_not(None),
                )
            )  # fmt: skip
            return [(sid, str(how)) for sid, how in found]

    async def heartbeat(self, stack_ids: set[str], engine_id: str) -> None:
        if not stack_ids:
            return
        async with self.db.session() as s:
            await s.execute(
                update(Stack)
                .where(Stack.id.in_(stack_ids), Stack.engine_id == engine_id)
                .values(heartbeat=utcnow())
            )

    async def claim(self, stack_id: str, old_engine: str | None, engine_id: str) -> bool:
        """Take a stack over from ``old_engine`` (compare-and-set: one engine wins)."""
        async with self.db.session() as s:
            cond = (
                Stack.engine_id.is_(None) if old_engine is None else Stack.engine_id == old_engine
            )
            result = await s.execute(
                update(Stack)
                .where(Stack.id == stack_id, cond)
                .values(engine_id=engine_id, heartbeat=utcnow())
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def stale(self, before: Any) -> list[Stack]:
        async with self.db.session() as s:
            found = await s.scalars(
                select(Stack).where(
                    Stack.status == "IN_PROGRESS",
                    (Stack.heartbeat.is_(None)) | (Stack.heartbeat < before),
                )
            )
            return list(found)


def _event(
    stack_id: str,
    name: str,
    rtype: str,
    physical_id: str,
    action: str,
    status: str,
    reason: str,
    properties: dict[str, Any] | None = None,
) -> Event:
    return Event(
        id=str(uuid.uuid4()),
        stack_id=stack_id,
        resource_name=name,
        resource_type=rtype,
        physical_resource_id=physical_id,
        action=action,
        status=status,
        reason=reason,
        properties=properties or {},
        created_at=utcnow(),
    )


def new_event(stack: Stack, action: str, status: str, reason: str) -> Event:
    return _event(stack.id, stack.name, STACK_TYPE, stack.id, action, status, reason)
