"""Nested stacks: stacks a resource owns (OS::Heat::Stack, a template resource, a group's
members). The parent's engine task makes, changes and deletes them inline, so the parent's
step waits for its nested stack, a cancel of the parent stops it, and after a crash the
parent's recovery finds it by its owner and name."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from typing import Any

from sqlalchemy import select

from onestack.common import errors
from onestack.common.db import utcnow
from onestack.orchestration.engine import definition
from onestack.orchestration.engine.graph import stack_scope
from onestack.orchestration.engine.hooks import child_registry
from onestack.orchestration.engine.runner import Engine
from onestack.orchestration.errors import ResourceFailure
from onestack.orchestration.models import Stack
from onestack.orchestration.resources.base import Context
from onestack.orchestration.store import new_event
from onestack.orchestration.template import functions, hot, parameters


class NestedFailure(ResourceFailure):
    """The nested stack did not complete; its id is kept so that a delete removes it."""

    def __init__(self, reason: str, physical_id: str) -> None:
        super().__init__(reason)
        self.physical_id = physical_id


def engine_of(c: Context) -> Engine:
    return c.runtime.service(Engine)


async def parent_of(c: Context) -> Stack:
    return await engine_of(c).store.stack(c.stack_id)


def _registry(stack: Stack) -> dict[str, Any]:
    return dict((stack.environment or {}).get("resource_registry") or {})


async def _facade(c: Context, parent: Stack) -> dict[str, Any]:
    """What ``resource_facade`` gives the nested stack: the owning resource's metadata,
    deletion_policy and update_policy as the parent's template means them now."""
    tmpl, scope = stack_scope(parent, await engine_of(c).store.resources(parent.id))
    rdef = tmpl.resources.get(c.resource_name)
    if rdef is None:  # not a resource of the parent's template: Heat's defaults
        return {}
    return {
        "metadata": await definition.metadata(rdef, tmpl, scope),
        "deletion_policy": rdef.deletion_policy,
        "update_policy": definition.update_policy(rdef, tmpl, scope) or {},
    }


def _checked(
    c: Context, parent: Stack, raw: Any, given: dict[str, Any]
) -> tuple[hot.Template, dict[str, Any], dict[str, hot.ResourceDef]]:
    tmpl = hot.parse(raw, _registry(parent))
    given = {k: v for k, v in given.items() if v is not None}
    values = parameters.resolve(tmpl.parameters, given, {}, {})
    limit = c.runtime.settings.orchestration.max_resources_per_stack
    live, _ = hot.check(tmpl, values, parent.files or {}, limit)
    return tmpl, values, live


async def create(
    c: Context,
    raw: Any,
    given: dict[str, Any],
    timeout_mins: float | None = None,
    adopt: dict[str, Any] | None = None,
) -> tuple[str, Stack]:
    """Make the nested stack of template ``raw`` with parameters ``given`` (within
    ``timeout_mins``); its id and final row (NestedFailure when it did not complete).
    ``adopt``: the abandoned nested stack's resources, which it adopts instead."""
    from onestack.orchestration.service import _new_row

    engine = engine_of(c)
    parent = await parent_of(c)
    tmpl, values, live = _checked(c, parent, raw, given)
    child_id = str(uuid.uuid4())
    action = "CREATE" if adopt is None else "ADOPT"
    async with c.runtime.db.session() as s:
        child = Stack(
            id=child_id,
            name=f"{parent.name}-{c.resource_name}-{secrets.token_hex(6)}",
            project_id=parent.project_id,
            user_id=parent.user_id,
            username=parent.username,
            roles=list(parent.roles),
            template=tmpl.raw,
            environment={"resource_registry": child_registry(_registry(parent), c.resource_name)}
            if _registry(parent)
            else {},
            files=parent.files or {},
            parameters=values,
            action=action,
            status="IN_PROGRESS",
            status_reason=f"Stack {action} started",
            disable_rollback=True,
            timeout_mins=int(timeout_mins) if timeout_mins else None,
            owner_id=parent.id,
            facade=await _facade(c, parent),
            engine_id=engine.id,
            heartbeat=utcnow(),
            created_at=utcnow(),
        )
        s.add(child)
        await s.flush()
        for rname, rdef in live.items():
            row = _new_row(child_id, rname, rdef, live)
            if adopt is not None:
                row.data["__adopt"] = adopt.get(rname) or {}
            s.add(row)
        s.add(new_event(child, action, "IN_PROGRESS", f"Stack {action} started"))
    # The nested stack is the resource's id from the start (Heat's): while it is being made
    # the resource links to it (a hook inside it can be reached and cleared).
    made = await engine.store.resource_named(c.stack_id, c.resource_name)
    if made is not None:
        await engine.store.resource_fields(made.id, physical_resource_id=child_id)
    try:
        async with asyncio.timeout(timeout_mins * 60 if timeout_mins else None):
            await engine.run_inline(child_id, action)
    except TimeoutError:
        # What the cut-short create made stays recorded: the parent's delete removes it.
        reason = "Create timed out"
        await engine.store.stack_state(child_id, "CREATE", "FAILED", reason, engine_id=None)
        raise NestedFailure(reason, child_id) from None
    return child_id, await _settled(engine, child_id, action)


async def update(c: Context, child_id: str, raw: Any, given: dict[str, Any]) -> Stack:
    """The nested stack converged to template ``raw`` with parameters ``given``."""
    engine = engine_of(c)
    parent = await parent_of(c)
    tmpl, values, _live = _checked(c, parent, raw, given)
    await engine.store.stack_state(
        child_id, "UPDATE", "IN_PROGRESS", "Stack UPDATE started", template=tmpl.raw,
        parameters=values, files=parent.files or {}, engine_id=engine.id, previous=None,
        heartbeat=utcnow(), facade=await _facade(c, parent),
    )  # fmt: skip
    await engine.store.add_missing_rows(child_id)
    await engine.run_inline(child_id, "UPDATE")
    return await _settled(engine, child_id, "UPDATE")


async def delete(c: Context, child_id: str) -> None:
    engine = engine_of(c)
    async with c.runtime.db.session() as s:
        child = await s.get(Stack, child_id)
        if child is None or child.deleted_at is not None:
            return
    await engine.store.stack_state(
        child_id,
        "DELETE",
        "IN_PROGRESS",
        "Stack DELETE started",
        engine_id=engine.id,
        heartbeat=utcnow(),
    )
    await engine.run_inline(child_id, "DELETE")
    child = await engine.store.stack(child_id)
    if child.status != "COMPLETE":
        raise ResourceFailure(child.status_reason)


async def act(c: Context, child_id: str, action: str) -> None:
    """SUSPEND or RESUME the nested stack with its parent (Heat's StackResource)."""
    engine = engine_of(c)
    await engine.store.stack_state(
        child_id,
        action,
        "IN_PROGRESS",
        f"Stack {action} started",
        engine_id=engine.id,
        heartbeat=utcnow(),
    )
    await engine.run_inline(child_id, action)
    await _settled(engine, child_id, action)


async def orphans(c: Context) -> list[str]:
    """Nested stacks of this resource a create cut short left unrecorded."""
    prefix = f"{c.stack_name}-{c.resource_name}-"
    async with c.runtime.db.session() as s:
        found = await s.scalars(
            select(Stack).where(Stack.owner_id == c.stack_id, Stack.deleted_at.is_(None))
        )
        return [r.id for r in found if r.name.startswith(prefix)]


async def _settled(engine: Engine, child_id: str, action: str) -> Stack:
    child = await engine.store.stack(child_id)
    if child.action != action or child.status != "COMPLETE":
        raise NestedFailure(child.status_reason, child_id)
    return child


async def child(c: Context, child_id: str) -> Stack | None:
    async with c.runtime.db.session() as s:
        return await s.get(Stack, child_id)


async def outputs(c: Context, stack: Stack) -> tuple[dict[str, Any], dict[str, str]]:
    """The nested stack's outputs as they are now (an output in error is None), and the
    errors of those in error."""
    engine = engine_of(c)
    rows = await engine.store.resources(stack.id)
    tmpl, scope = stack_scope(stack, rows)
    wanted = [
        r
        for spec in tmpl.outputs.values()
        for r in functions.references(spec.get("value"), tmpl.functions, "outputs")
    ]
    await engine.refresh_refs(engine.context(stack), tmpl, scope, wanted)
    out: dict[str, Any] = {}
    failed: dict[str, str] = {}
    for key, spec in tmpl.outputs.items():
        try:
            out[key] = functions.evaluate(
                spec.get("value"), tmpl.functions, scope, f"outputs.{key}.value"
            )
        except errors.OneStackError as exc:
            out[key], failed[key] = None, exc.message
    return out, failed


async def members(c: Context, stack: Stack) -> list[tuple[str, str | None, dict[str, Any]]]:
    """A group's nested stack's resources in template order: (name, id, attributes), each
    member's attributes brought up to date."""
    engine = engine_of(c)
    rows = {r.name: r for r in await engine.store.resources(stack.id)}
    tmpl, scope = stack_scope(stack, list(rows.values()))
    names = [n for n in (stack.template.get("resources") or {}) if n in rows]
    await engine.refresh(engine.context(stack), tmpl, scope, set(names))
    return [
        (n, scope.made[n].physical_id, dict(scope.made[n].attributes))
        for n in names
        if n in scope.made
    ]


async def restore_marks(engine: Engine, stack_id: str, kept: dict[str, Any]) -> None:
    """Each resource the snapshot data ``kept`` (its ``resources``) still names by the same
    id carries what its snapshot kept for the RESTORE's engine: ``__restore``, with the
    nested stack's snapshot under ``__nested`` for a resource backed by one."""
    for row in await engine.store.resources(stack_id):
        entry = kept.get(row.name)
        if not entry or entry.get("resource_id") != row.physical_resource_id:
            continue
        restore = dict(entry.get("resource_data") or {})
        if isinstance(entry.get("resources"), dict) and entry.get("template"):
            restore["__nested"] = {k: entry.get(k) for k in ("template", "parameters",
                                                             "resources")}  # fmt: skip
        await engine.store.resource_fields(row.id, data={**(row.data or {}), "__restore": restore})


async def restore(c: Context, child_id: str, kept: dict[str, Any]) -> Stack:
    """The nested stack converged (RESTORE) on the template and parameters its snapshot
    recorded, each of its resources restored from what its own snapshot kept."""
    engine = engine_of(c)
    parent = await parent_of(c)
    await engine.store.stack_state(
        child_id, "RESTORE", "IN_PROGRESS", "Stack RESTORE started", template=kept["template"],
        parameters=dict(kept.get("parameters") or {}), files=parent.files or {},
        engine_id=engine.id, previous=None, heartbeat=utcnow(), facade=await _facade(c, parent),
    )  # fmt: skip
    await engine.store.add_missing_rows(child_id)
    await restore_marks(engine, child_id, dict(kept.get("resources") or {}))
    await engine.run_inline(child_id, "RESTORE")
    return await _settled(engine, child_id, "RESTORE")
