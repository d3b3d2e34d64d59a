"""A top-level stack's ``timeout_mins``: past it the create or update stops, the stack fails
"Timed out" and the resources it was working on fail with it (Heat's stack timeout). A
nested stack's timeout is its parent's step's (``engine.nested``)."""

from __future__ import annotations

from onestack.common.db import utcnow
from onestack.orchestration.models import Stack
from onestack.orchestration.store import Store


def remaining(stack: Stack) -> float | None:
    """Seconds left, counted from the start of the stack's action: a create's from the
    stack's creation (an engine taking the stack over keeps the same deadline), an update's
    or a rollback's from its start (Heat's time_elapsed from updated_time); None: no limit."""
    if not stack.timeout_mins or stack.owner_id:
        return None
    start = stack.created_at if stack.action == "CREATE" else stack.updated_at
    spent = (utcnow() - (start or stack.created_at)).total_seconds()
    return max(stack.timeout_mins * 60 - spent, 0.0)


async def abort(store: Store, stack_id: str, reason: str) -> None:
    """The resources cut short fail with the stack, each in the action it was in (their
    tasks were cancelled: a software deployment's own cancel marks the deployment
    FAILED)."""
    for row in await store.resources(stack_id):
        if row.status != "IN_PROGRESS":
            continue
        await store.resource_state(row.id, row.action, "FAILED", reason)
        async with store.db.session() as s:
            child = await s.get(Stack, row.physical_resource_id or "")
        # A nested stack its step was making (run inline, cancelled with it) fails too.
        if child is not None and child.owner_id == stack_id and child.status == "IN_PROGRESS":
            await store.stack_state(child.id, child.action, "FAILED", reason, engine_id=None)
            await abort(store, child.id, reason)
