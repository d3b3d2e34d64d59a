"""What an engine does with the stacks a dead engine left IN_PROGRESS (their heartbeat is
stale: the engine that held them is gone): a create is resumed (what was half made is
deleted and made again), a delete, rollback, check, suspend, resume, adopt or snapshot is
run again, and an update is failed, as Heat's engine does at start ("Engine went down
during stack UPDATE"), with its resources left IN_PROGRESS failed too. A nested stack whose
parent is still at work is the parent's to deal with; one that ran on its own (a scaling
group resized by a signal) also fails its parent's resource, so the group can be changed
again."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from onestack.common.db import utcnow
from onestack.common.logging import get_logger
from onestack.orchestration.engine.graph import clear_half_made, context_at
from onestack.orchestration.models import Stack
from onestack.orchestration.resources import plugin_type

if TYPE_CHECKING:
    from onestack.orchestration.engine.runner import Engine

log = get_logger(__name__)
_AGAIN = ("DELETE", "ROLLBACK", "CHECK", "SUSPEND", "RESUME", "ADOPT", "SNAPSHOT")


async def recover(engine: Engine) -> None:
    stale_before = utcnow() - timedelta(seconds=3 * engine.heartbeat_interval())
    for stack in await engine.store.stale(stale_before):
        if stack.owner_id is not None and await engine.store.owner_busy(stack.owner_id):
            continue  # a nested stack: its parent's recovery deals with it
        if (
            stack.id in engine.working
            or stack.id in engine.inline
            or not await engine.store.claim(stack.id, stack.engine_id, engine.id)
        ):
            continue
        log.info("stack %s: taking over %s_IN_PROGRESS", stack.id, stack.action)
        if stack.action == "CREATE":
            await _reset_half_made(engine, stack)
            engine.launch(stack.id, "CREATE")
        elif stack.action == "ROLLBACK" and stack.previous is not None:
            engine.launch(stack.id, "UPDATE_ROLLBACK")  # an update's rollback, resumed
        elif stack.action in _AGAIN:
            engine.launch(stack.id, stack.action)  # each step may be taken again
        else:
            await fail_left(engine, stack)


async def fail_left(engine: Engine, stack: Stack) -> None:
    """The stack, its resources still IN_PROGRESS and (for a nested stack that ran on its
    own) its parent's resource, FAILED with the reason Heat gives."""
    store = engine.store
    reason = f"Engine went down during stack {stack.action}"
    for row in await store.resources(stack.id):
        if row.status == "IN_PROGRESS":
            await store.resource_state(
                row.id, row.action, "FAILED", f"Engine went down during resource {row.action}"
            )
    await store.stack_state(stack.id, stack.action, "FAILED", reason, engine_id=None)
    if stack.owner_id is None:
        return
    for row in await store.resources(stack.owner_id):
        if row.physical_resource_id == stack.id and row.status == "IN_PROGRESS":
            await store.resource_state(row.id, row.action, "FAILED", reason)


async def _reset_half_made(engine: Engine, stack: Stack) -> None:
    """Resources a dead engine was creating: delete what they made (by id, or by the mark
    they carry when the id was not recorded yet), then start over."""
    c = engine.context(stack)
    for row in await engine.store.resources(stack.id):
        if row.status != "IN_PROGRESS":
            continue
        plugin = plugin_type(row.type)
        if plugin is not None:
            await clear_half_made(plugin(), context_at(c, row.name), row)
        await engine.store.resource_state(
            row.id, "INIT", "COMPLETE", "Engine restarted: creating again",
            physical_resource_id=None,
        )  # fmt: skip
