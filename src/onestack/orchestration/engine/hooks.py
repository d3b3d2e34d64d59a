"""Heat's breakpoints (hooks): the environment's ``resource_registry.resources`` names
resources (``fnmatch`` patterns; a nested stack's under its resource's name) with
``hooks: pre-create`` or ``pre-update``; the engine stops before that step of the resource,
an event saying so, until a signal ``{"unset_hook": HOOK}`` clears it. The pause is kept in
the resource's data (``__hook``): an engine restarted stops there again."""

from __future__ import annotations

import asyncio
import fnmatch
from typing import Any

from onestack.orchestration.errors import StackValidationFailed
from onestack.orchestration.models import Resource, Stack
from onestack.orchestration.store import Store

HOOK_TYPES = ("pre-create", "pre-update", "pre-delete", "post-create", "post-update",
              "post-delete")  # fmt: skip
POLL = 0.5  # seconds between looks at a paused resource's row


def hooks_of(stack: Stack, name: str) -> set[str]:
    """The hooks the stack's environment sets on resource ``name``."""
    registry = (stack.environment or {}).get("resource_registry") or {}
    found: set[str] = set()
    for pattern, entry in (registry.get("resources") or {}).items():
        if not isinstance(entry, dict) or not fnmatch.fnmatchcase(name, str(pattern)):
            continue
        hooks = entry.get("hooks")
        found |= {hooks} if isinstance(hooks, str) else {str(h) for h in hooks or []}
    return found


def child_registry(registry: dict[str, Any], resource: str) -> dict[str, Any]:
    """A nested stack's registry: the parent's, its ``resources`` section the part under
    the resource that makes the nested stack (Heat's environment of a child)."""
    sub = (registry.get("resources") or {}).get(resource)
    out = {k: v for k, v in registry.items() if k != "resources"}
    if isinstance(sub, dict) and sub:
        out["resources"] = sub
    return out


async def pause(store: Store, row: Resource, action: str, hook: str) -> None:
    """Wait here while the environment sets ``hook`` on the resource, until it is
    cleared; the resource's state is left as it is (Heat's ``_break_if_required``)."""
    stack = await store.stack(row.stack_id)
    if hook not in hooks_of(stack, row.name):
        return
    await store.resource_fields(row.id, data={**(row.data or {}), "__hook": hook})
    await store.resource_event(
        row.id, row.action, row.status, f"{action} paused until Hook {hook} is cleared"
    )
    while True:
        now = await store.resource_named(row.stack_id, row.name)
        if now is None or (now.data or {}).get("__hook") != hook:
            return
        await asyncio.sleep(POLL)


async def unset(store: Store, stack: Stack, row: Resource, details: Any) -> bool:
    """A signal ``{"unset_hook": HOOK}``: the pause cleared, an event telling so (False: the
    signal is no hook's, for the resource's plugin)."""
    if not isinstance(details, dict) or "unset_hook" not in details:
        return False
    hook = str(details["unset_hook"])
    if hook not in HOOK_TYPES:
        raise StackValidationFailed(message=f'Invalid hook type "{hook}" for {row.name}')
    if hook not in hooks_of(stack, row.name):
        raise StackValidationFailed(message=f'The "{hook}" hook is not defined on {row.name}')
    data = {k: v for k, v in (row.data or {}).items() if k != "__hook"}
    await store.resource_fields(row.id, data=data)
    await store.resource_event(row.id, row.action, row.status, f"Hook {hook} is cleared")
    return True
