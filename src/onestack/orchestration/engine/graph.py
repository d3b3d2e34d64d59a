"""The engine's steps over a stack's graph: its template and scope, evaluation off the event
loop, running resources concurrently as the dependency graph allows, and clearing what a
half-finished create left."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from onestack.common import errors
from onestack.orchestration.engine.scope import Made, StackScope
from onestack.orchestration.errors import ResourceFailure
from onestack.orchestration.models import Resource, Stack
from onestack.orchestration.resources.base import Context, Plugin
from onestack.orchestration.template import functions, hot


def stack_scope(stack: Stack, rows: list[Resource]) -> tuple[hot.Template, StackScope]:
    tmpl = hot.parse(stack.template, (stack.environment or {}).get("resource_registry"))
    conds = hot.evaluate_conditions(tmpl, stack.parameters)
    made = {r.name: Made(r.physical_resource_id, r.attributes) for r in rows}
    pseudo = {"OS::stack_name": stack.name, "OS::stack_id": stack.id,
              "OS::project_id": stack.project_id}  # fmt: skip
    return tmpl, StackScope(stack.parameters, pseudo, conds, stack.files, made, stack.facade)


async def evaluate_off_loop(snippet: Any, fns: frozenset[str], scope: StackScope, path: str) -> Any:
    """``functions.evaluate``, in a thread when the snippet calls ``yaql`` (its worker may
    take up to its deadline: the event loop goes on meanwhile)."""
    if "yaql" in fns and '"yaql"' in json.dumps(snippet):
        return await asyncio.to_thread(functions.evaluate, snippet, fns, scope, path)
    return functions.evaluate(snippet, fns, scope, path)


def context_at(c: Context, name: str) -> Context:
    return Context(c.runtime, c.ctx, c.stack_id, c.stack_name, name)


async def clear_half_made(plugin: Plugin, c: Context, row: Resource) -> None:
    """Delete what a half-finished create left: the recorded id, and what carries the
    resource's mark without an id recorded (the engine died between the two)."""
    made = [row.physical_resource_id] if row.physical_resource_id else []
    made += [i for i in await plugin.orphans(c) if i not in made]
    for physical_id in made:
        await ignore_gone(plugin.delete(c, physical_id, row.data))


async def ignore_gone(call: Awaitable[None]) -> None:
    with contextlib.suppress(errors.NotFound):
        await call


async def remove(plugin: Plugin, c: Context, physical_id: str, row: Resource) -> None:
    """Delete the resource as its ``deletion_policy`` says: Retain leaves it, Snapshot keeps
    a copy of it first (Heat's handle_snapshot_delete, given the state it was in), Delete
    deletes it; a resource already gone counts as deleted."""
    policy = (row.data or {}).get("__deletion_policy")
    if policy == "Retain":
        return
    if policy == "Snapshot" and plugin.takes_snapshot_delete():
        state = (row.action, row.status)
        await ignore_gone(plugin.snapshot_delete(c, physical_id, row.data, state))
    else:
        await ignore_gone(plugin.delete(c, physical_id, row.data))


def reverse_graph(rows: dict[str, Resource]) -> dict[str, set[str]]:
    """What a delete waits for: a resource goes once every resource that requires it (among
    ``rows``) is gone."""
    required_by: dict[str, set[str]] = {n: set() for n in rows}
    for name, row in rows.items():
        for dep in row.requires:
            if dep in required_by:
                required_by[dep].add(name)
    return required_by


async def run_graph(
    graph: dict[str, set[str]],
    done: set[str],
    step: Callable[[str], Awaitable[None]],
) -> str | None:
    """Run ``step`` on each node once every node it waits for is done, as many at once as
    the graph allows; after a failure start nothing new, let the running finish, and return
    the first failure's reason (None: all done)."""
    running: dict[asyncio.Task[None], str] = {}
    failure: str | None = None
    done = set(done)
    try:
        while True:
            if failure is None:
                for name, deps in graph.items():
                    if name in done or name in running.values():
                        continue
                    if deps <= done:
                        running[asyncio.ensure_future(step(name))] = name
            if not running:
                return failure
            finished, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            for task in finished:
                name = running.pop(task)
                exc = task.exception()
                if exc is None:
                    done.add(name)
                elif failure is None:
                    failure = exc.reason if isinstance(exc, ResourceFailure) else repr(exc)
    finally:
        for task in running:
            task.cancel()
