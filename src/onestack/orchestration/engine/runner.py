"""Runs stack actions as background tasks over the dependency graph.

Each resource step is written before and after the call that does it (``store``), and the
engine keeps a heartbeat on the stacks it works on: a stack IN_PROGRESS whose heartbeat is
stale was left by a dead engine, and ``recover`` takes it over: a create is resumed (what
was half made is deleted and made again), a delete or rollback is run again, an update is
failed."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

from onestack.common import errors
from onestack.common.context import RequestContext
from onestack.common.db import utcnow
from onestack.common.logging import get_logger
from onestack.orchestration.engine import deadline, definition, external, hooks
from onestack.orchestration.engine.attributes import refresh as refresh_attributes
from onestack.orchestration.engine.change import apply_change
from onestack.orchestration.engine.graph import (
    clear_half_made,
    context_at,
    evaluate_off_loop,
    remove,
    reverse_graph,
    run_graph,
    stack_scope,
)
from onestack.orchestration.engine.scope import Made, StackScope
from onestack.orchestration.errors import ResourceFailure
from onestack.orchestration.models import Resource, Stack
from onestack.orchestration.resources import plugin_type
from onestack.orchestration.resources.base import Context, Prop
from onestack.orchestration.store import Store
from onestack.orchestration.template import functions, hot

if TYPE_CHECKING:
    from onestack.common.runtime import Runtime

log = get_logger(__name__)
_FIXED = Prop("string")  # a property no schema names: never updated in place


class Engine:
    def __init__(self, runtime: Runtime, heartbeat: Callable[[], float]) -> None:
        self.runtime = runtime
        self.store = Store(runtime.db)
        self.id = str(uuid.uuid4())
        self.heartbeat_interval = heartbeat
        self.working: dict[str, asyncio.Task[None]] = {}
        # Nested stacks run inside another task (a parent's step, a group's resize after a
        # signal): they keep a heartbeat too, or another engine would take them over.
        self.inline: set[str] = set()

    # --- launching ------------------------------------------------------------------------

    def launch(self, stack_id: str, action: str) -> None:
        """Run ``action`` on the stack in the background (the row already says IN_PROGRESS
        and this engine owns it)."""
        task = asyncio.get_running_loop().create_task(
            self._guarded(stack_id, self._work(action)), name=f"stack-{action.lower()}-{stack_id}"
        )
        self.working[stack_id] = task
        task.add_done_callback(lambda _t: self.working.pop(stack_id, None))

    async def run_inline(self, stack_id: str, action: str) -> None:
        """Run ``action`` on a nested stack within the caller's task (its parent's step
        waits for it, and a cancel of the parent stops it too)."""
        self.inline.add(stack_id)
        try:
            await self._guarded(stack_id, self._work(action))
        finally:
            self.inline.discard(stack_id)

    def _work(self, action: str) -> Callable[[str], Awaitable[None]]:
        work: dict[str, Callable[[str], Awaitable[None]]] = {
            "CREATE": self._create,
            "DELETE": lambda sid: self._delete_all(sid, "DELETE"),
            "ROLLBACK": lambda sid: self._delete_all(sid, "ROLLBACK"),
            "UPDATE": lambda sid: self._update(sid, "UPDATE"),
            "UPDATE_ROLLBACK": lambda sid: self._update(sid, "ROLLBACK"),
            "CHECK": self._check,
            "ADOPT": self._adopt,
            "RESTORE": lambda sid: self._update(sid, "RESTORE"),
            "SNAPSHOT": self._snapshot,
            "SUSPEND": lambda sid: self._suspend_resume(sid, "SUSPEND"),
            "RESUME": lambda sid: self._suspend_resume(sid, "RESUME"),
        }
        return work[action]

    async def _guarded(self, stack_id: str, fn: Callable[[str], Awaitable[None]]) -> None:
        try:
            await fn(stack_id)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the stack must not stay IN_PROGRESS on a bug
            log.exception("stack %s: engine error", stack_id)
            stack = await self.store.stack(stack_id)
            await self.store.stack_state(
                stack_id, stack.action, "FAILED", f"Engine error: {exc}", engine_id=None
            )

    async def cancel(self, stack_id: str) -> None:
        """Stop what this engine runs on the stack (a delete supersedes a create)."""
        task = self.working.pop(stack_id, None)
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def beat(self) -> None:
        await self.store.heartbeat(set(self.working) | self.inline, self.id)
        for stack_id, how in await self.store.cancels(set(self.working), self.id):
            if stack_id in self.working:
                await self.cancel_update(stack_id, how == "rollback")

    async def cancel_update(self, stack_id: str, rollback: bool) -> None:
        """Heat's stack_cancel_update: stop the running create or update; roll an update
        back to the template it replaced, or leave it FAILED (``rollback`` False). When
        another engine runs it, the request is recorded for that engine's next beat."""
        if stack_id not in self.working:
            await self.store.stack_fields(stack_id, cancel="rollback" if rollback else "stop")
            return
        await self.cancel(stack_id)
        stack = await self.store.stack(stack_id)
        action = stack.action
        for row in await self.store.resources(stack_id):
            if row.status == "IN_PROGRESS":
                await self.store.resource_state(
                    row.id, row.action, "FAILED", f"{row.action} cancelled"
                )
        reason = f"Stack {action} cancelled"
        if rollback and action == "UPDATE" and stack.previous:
            old = stack.previous
            await self.store.stack_state(stack_id, action, "FAILED", reason)
            await self.store.stack_state(
                stack_id, "ROLLBACK", "IN_PROGRESS", reason, template=old["template"],
                environment=old["environment"], files=old["files"],
                parameters=old["parameters"], engine_id=self.id, heartbeat=utcnow(),
            )  # fmt: skip
            await self.store.add_missing_rows(stack_id)
            self.launch(stack_id, "UPDATE_ROLLBACK")
            return
        await self.store.stack_state(
            stack_id, action, "FAILED", reason, engine_id=None, previous=None
        )

    async def recover(self) -> None:
        """Take over the stacks a dead engine left IN_PROGRESS (``engine.recovery``)."""
        from onestack.orchestration.engine import recovery

        await recovery.recover(self)

    async def refresh(
        self, c: Context, tmpl: hot.Template, scope: StackScope, names: set[str]
    ) -> None:
        """Bring the attributes of the resources ``names`` up to date before a get_attr."""
        await refresh_attributes(c, tmpl, scope, names)

    async def refresh_refs(
        self, c: Context, tmpl: hot.Template, scope: StackScope, refs: Iterable[functions.Ref]
    ) -> None:
        """``refresh`` of what the get_attr references among ``refs`` read."""
        attrs = [r for r in refs if r.kind == "attr"]
        await refresh_attributes(c, tmpl, scope, {r.target for r in attrs}, attrs)

    def context(self, stack: Stack) -> Context:
        ctx = RequestContext(
            request_id=f"req-{uuid.uuid4()}",
            user_id=stack.user_id,
            project_id=stack.project_id,
            roles=tuple(stack.roles),
        )
        return Context(self.runtime, ctx, stack.id, stack.name, "")

    # --- create -------------------------------------------------------------------------

    async def _create(self, stack_id: str) -> None:
        stack = await self.store.stack(stack_id)
        rows = {r.name: r for r in await self.store.resources(stack_id)}
        tmpl, scope = stack_scope(stack, list(rows.values()))
        live = hot.active(tmpl, scope.conditions)
        graph = {n: hot.requires(live[n], live) for n in live if n in rows}
        done = {n for n, r in rows.items() if r.action == "CREATE" and r.status == "COMPLETE"}
        c = self.context(stack)
        try:
            async with asyncio.timeout(deadline.remaining(stack)):
                failure = await run_graph(
                    graph,
                    done,
                    lambda name: self._create_resource(c, tmpl, scope, live[name], rows[name]),
                )
        except TimeoutError:
            await deadline.abort(self.store, stack_id, "Timed out")
            failure = ""
        if failure is None:
            await self.store.stack_state(
                stack_id, "CREATE", "COMPLETE", "Stack CREATE completed successfully",
                engine_id=None,
            )  # fmt: skip
            return
        reason = f"Resource CREATE failed: {failure}" if failure else "Timed out"
        await self.store.stack_state(stack_id, "CREATE", "FAILED", reason)
        if not stack.disable_rollback:
            await self.store.stack_state(stack_id, "ROLLBACK", "IN_PROGRESS", reason)
            await self._delete_all(stack_id, "ROLLBACK")
        else:
            await self.store.stack_state(stack_id, "CREATE", "FAILED", reason, engine_id=None)

    async def _create_resource(
        self,
        c: Context,
        tmpl: hot.Template,
        scope: StackScope,
        rdef: hot.ResourceDef,
        row: Resource,
    ) -> None:
        await hooks.pause(self.store, row, "CREATE", "pre-create")
        if await external.take(self.store, row, rdef, tmpl, scope):
            return
        await self.store.resource_state(row.id, "CREATE", "IN_PROGRESS", "state changed")
        plugin_cls = plugin_type(rdef.type)
        assert plugin_cls is not None
        try:
            await self.refresh_refs(c, tmpl, scope, rdef.refs)
            props = await evaluate_off_loop(
                rdef.properties, tmpl.functions, scope, f"resources.{rdef.name}.properties"
            )
            props = plugin_cls.with_defaults(props)
            policy = definition.update_policy(rdef, tmpl, scope)
            meta = await definition.metadata(rdef, tmpl, scope)
            await self.store.resource_fields(row.id, properties=props, rsrc_metadata=meta)
            created = await plugin_cls().create(context_at(c, rdef.name), props)
        except (ResourceFailure, errors.OneStackError) as exc:
            reason = exc.reason if isinstance(exc, ResourceFailure) else exc.message
            text = f"{type(exc).__name__}: resources.{rdef.name}: {reason}"
            # What was made before it failed keeps its id: a delete removes it.
            made = getattr(exc, "physical_id", None)
            extra: dict[str, Any] = {"physical_resource_id": made} if made else {}
            kept = getattr(exc, "data", None)
            if made and kept:  # what its delete needs besides the id
                extra["data"] = {**row.data, **kept}
            await self.store.resource_state(row.id, "CREATE", "FAILED", text, **extra)
            raise ResourceFailure(text) from None
        scope.made[rdef.name] = Made(created.physical_id, created.attributes)
        await self.store.resource_state(
            row.id, "CREATE", "COMPLETE", "state changed",
            physical_resource_id=created.physical_id,
            attributes=created.attributes,
            data={**row.data, **props, **created.data, "__update_policy": policy},
        )  # fmt: skip

    # --- check --------------------------------------------------------------------------

    async def _check(self, stack_id: str) -> None:
        """Each made resource asked of its service (``refresh``): gone is CHECK_FAILED."""
        stack = await self.store.stack(stack_id)
        c = self.context(stack)
        failed: list[str] = []
        for row in await self.store.resources(stack_id):
            plugin = plugin_type(row.type)
            if plugin is None or not row.physical_resource_id:
                continue
            await self.store.resource_state(row.id, "CHECK", "IN_PROGRESS", "state changed")
            try:
                await plugin().refresh(context_at(c, row.name), row.physical_resource_id, row.data)
            except errors.OneStackError as exc:
                failed.append(row.name)
                await self.store.resource_state(row.id, "CHECK", "FAILED", exc.message)
                continue
            await self.store.resource_state(row.id, "CHECK", "COMPLETE", "state changed")
        if failed:
            await self.store.stack_state(
                stack_id, "CHECK", "FAILED", f"Resource CHECK failed: {', '.join(failed)}",
                engine_id=None,
            )  # fmt: skip
        else:
            await self.store.stack_state(
                stack_id, "CHECK", "COMPLETE", "Stack CHECK completed successfully",
                engine_id=None,
            )  # fmt: skip

    # --- adopt --------------------------------------------------------------------------

    async def _adopt(self, stack_id: str) -> None:
        """Heat's stack adopt: each resource takes the id (and data) the adopt data gives it
        instead of being made; one the data does not name fails the stack."""
        stack = await self.store.stack(stack_id)
        rows = {r.name: r for r in await self.store.resources(stack_id)}
        tmpl, scope = stack_scope(stack, list(rows.values()))
        live = hot.active(tmpl, scope.conditions)
        graph = {n: hot.requires(live[n], live) for n in live if n in rows}
        done = {n for n, r in rows.items() if (r.action, r.status) == ("ADOPT", "COMPLETE")}
        c = self.context(stack)
        failure = await run_graph(
            graph, done, lambda n: self._adopt_resource(c, tmpl, scope, live[n], rows[n])
        )
        if failure is None:
            await self.store.stack_state(
                stack_id, "ADOPT", "COMPLETE", "Stack ADOPT completed successfully",
                engine_id=None,
            )  # fmt: skip
        else:
            await self.store.stack_state(
                stack_id, "ADOPT", "FAILED", f"Resource ADOPT failed: {failure}", engine_id=None
            )

    async def _adopt_resource(
        self, c: Context, tmpl: hot.Template, scope: StackScope, rdef: hot.ResourceDef,
        row: Resource,
    ) -> None:  # fmt: skip
        await self.store.resource_state(row.id, "ADOPT", "IN_PROGRESS", "state changed")
        given = dict(row.data.get("__adopt") or {})
        plugin_cls = plugin_type(rdef.type)
        assert plugin_cls is not None
        try:
            if not given.get("resource_id"):
                raise ResourceFailure("Resource ID was not provided.")
            physical_id = str(given["resource_id"])
            attributes = dict(given.get("attributes") or {})
            await self.refresh_refs(c, tmpl, scope, rdef.refs)
            props = plugin_cls.with_defaults(
                functions.evaluate(
                    rdef.properties, tmpl.functions, scope, f"resources.{rdef.name}.properties"
                )
            )
            made = await plugin_cls().adopt(context_at(c, rdef.name), given)
            if made is not None:  # a nested stack's resources, adopted in a new one
                physical_id, attributes = made.physical_id, made.attributes
            fresh = await plugin_cls().refresh(context_at(c, rdef.name), physical_id, {})
        except (ResourceFailure, errors.OneStackError) as exc:
            reason = exc.reason if isinstance(exc, ResourceFailure) else exc.message
            text = f"{type(exc).__name__}: resources.{rdef.name}: {reason}"
            await self.store.resource_state(row.id, "ADOPT", "FAILED", text)
            raise ResourceFailure(text) from None
        attributes.update(fresh or {})
        scope.made[rdef.name] = Made(physical_id, attributes)
        data = {k: v for k, v in row.data.items() if k != "__adopt"}
        kept_metadata = given.get("metadata") if isinstance(given.get("metadata"), dict) else {}
        await self.store.resource_state(
            row.id, "ADOPT", "COMPLETE", "state changed", physical_resource_id=physical_id,
            properties=props, attributes=attributes, rsrc_metadata=kept_metadata,
            data={**(given.get("resource_data") or {}), **data},
        )  # fmt: skip

    async def _snapshot(self, stack_id: str) -> None:
        from onestack.orchestration.lifecycle import run_snapshot

        await run_snapshot(self, stack_id)

    # --- suspend and resume ---------------------------------------------------------------

    async def _suspend_resume(self, stack_id: str, action: str) -> None:
        """Heat's stack suspend (in reverse dependency order) and resume (in order): each
        resource's handle, those without one just change state."""
        stack = await self.store.stack(stack_id)
        rows = {r.name: r for r in await self.store.resources(stack_id)}
        graph: dict[str, set[str]] = {n: set() for n in rows}
        for name, row in rows.items():
            for dep in row.requires:
                if dep not in graph:
                    continue
                if action == "SUSPEND":  # what others require goes after them
                    graph[dep].add(name)
                else:
                    graph[name].add(dep)
        # What is done stays done (an action taken over from a dead engine, or retried).
        done = {n for n, r in rows.items() if (r.action, r.status) == (action, "COMPLETE")}
        c = self.context(stack)
        failure = await run_graph(
            graph, done, lambda n: self._suspend_resume_resource(c, rows[n], action)
        )
        if failure is None:
            await self.store.stack_state(
                stack_id, action, "COMPLETE", f"Stack {action} completed successfully",
                engine_id=None,
            )  # fmt: skip
        else:
            await self.store.stack_state(
                stack_id, action, "FAILED", f"Resource {action} failed: {failure}",
                engine_id=None,
            )  # fmt: skip

    async def _suspend_resume_resource(self, c: Context, row: Resource, action: str) -> None:
        state = (row.action, row.status)
        if action == "SUSPEND":
            valid = row.action != "DELETE" and (row.action == "SUSPEND" or row.status == "COMPLETE")
        else:  # Heat resumes SUSPEND_COMPLETE, RESUME_FAILED and RESUME_COMPLETE resources
            valid = row.action == "RESUME" or state == ("SUSPEND", "COMPLETE")
        if not valid:
            raise ResourceFailure(
                f"Error: resources.{row.name}: State {(row.action, row.status)!s} invalid for "
                f"{action.lower()}"
            )
        await self.store.resource_state(row.id, action, "IN_PROGRESS", "state changed")
        plugin_cls = plugin_type(row.type)
        try:
            if plugin_cls is not None and row.physical_resource_id:
                plugin = plugin_cls()
                handle = plugin.suspend if action == "SUSPEND" else plugin.resume
                await handle(context_at(c, row.name), row.physical_resource_id, row.data)
        except (ResourceFailure, errors.OneStackError) as exc:
            reason = exc.reason if isinstance(exc, ResourceFailure) else exc.message
            text = f"{type(exc).__name__}: resources.{row.name}: {reason}"
            await self.store.resource_state(row.id, action, "FAILED", text)
            raise ResourceFailure(text) from None
        await self.store.resource_state(row.id, action, "COMPLETE", "state changed")

    # --- update -------------------------------------------------------------------------

    async def _update(self, stack_id: str, action: str) -> None:
        """The stack's (already stored) new template over its resources: new ones made,
        changed ones updated in place or replaced, unchanged ones untouched, then the ones
        the template dropped deleted, in the graph's order; all within the stack's
        ``timeout_mins`` (past it: FAILED "Timed out", rolled back as a failure is)."""
        stack = await self.store.stack(stack_id)
        rows = {r.name: r for r in await self.store.resources(stack_id)}
        tmpl, scope = stack_scope(stack, list(rows.values()))
        live = hot.active(tmpl, scope.conditions)
        graph = {n: hot.requires(live[n], live) for n in live}
        try:
            async with asyncio.timeout(deadline.remaining(stack)):
                failure = await self._converge(stack, rows, tmpl, scope, live, graph)
        except TimeoutError:
            await deadline.abort(self.store, stack_id, "Timed out")
            failure = ""
        for name in live:
            await self.store.resource_fields(rows[name].id, requires=sorted(graph[name]))
        if failure is None:
            await self.store.stack_state(
                stack_id, action, "COMPLETE", f"Stack {action} completed successfully",
                engine_id=None, previous=None,
            )  # fmt: skip
            return
        reason = f"Resource UPDATE failed: {failure}" if failure else "Timed out"
        if action == "UPDATE" and not stack.disable_rollback and stack.previous:
            # Back to what the update replaced: the same convergence, to the old template.
            await self.store.stack_state(stack_id, "UPDATE", "FAILED", reason)
            old = stack.previous
            await self.store.stack_state(
                stack_id, "ROLLBACK", "IN_PROGRESS", reason, template=old["template"],
                environment=old["environment"], files=old["files"],
                parameters=old["parameters"],
            )  # fmt: skip
            await self.store.add_missing_rows(stack_id)
            await self._update(stack_id, "ROLLBACK")
            return
        await self.store.stack_state(
            stack_id, action, "FAILED", reason, engine_id=None, previous=None
        )

    async def _converge(
        self, stack: Stack, rows: dict[str, Resource], tmpl: hot.Template, scope: StackScope,
        live: dict[str, hot.ResourceDef], graph: dict[str, set[str]],
    ) -> str | None:  # fmt: skip
        """The update's steps: the first failure, or None."""
        c = self.context(stack)
        failure = await run_graph(
            graph, set(), lambda n: self._update_resource(c, tmpl, scope, live[n], rows[n])
        )
        if failure is not None:
            return failure
        dropped = {n: rows[n] for n in rows if n not in live}
        required_by = reverse_graph(dropped)
        gone = {n for n, r in dropped.items() if r.action == "DELETE" and r.status == "COMPLETE"}
        failure = await run_graph(
            required_by, gone, lambda n: self._delete_resource(c, dropped[n], "UPDATE")
        )
        if failure is None:
            await self.store.drop_resources(stack.id, set(dropped))
        return failure

    async def _update_resource(
        self,
        c: Context,
        tmpl: hot.Template,
        scope: StackScope,
        rdef: hot.ResourceDef,
        row: Resource,
    ) -> None:
        # Made and well: an update changes it (after a suspend, a check, a snapshot, an
        # adopt too); one that failed or was marked unhealthy (CHECK_FAILED) is replaced,
        # except a nested stack's whose update failed: its stack is updated again (Heat).
        plugin_cls = plugin_type(rdef.type)
        assert plugin_cls is not None
        retry = row.status == "FAILED" and row.action == "UPDATE" and row.type == rdef.type
        retry = retry and plugin_cls.update_failed_in_place and bool(row.physical_resource_id)
        settled = row.status == "COMPLETE" and row.action not in ("INIT", "DELETE")
        if settled and await external.kept(self.store, row, rdef, tmpl, scope):
            return
        if not (settled or retry) or row.type != rdef.type:
            if row.physical_resource_id:  # failed or of another type: made again
                await self._delete_resource(c, row, "UPDATE")
            row.data = {"__deletion_policy": rdef.deletion_policy}
            await self._create_resource(c, tmpl, scope, rdef, row)
            return
        at = context_at(c, rdef.name)
        await hooks.pause(self.store, row, "UPDATE", "pre-update")  # changed or not (Heat)
        try:
            await self.refresh_refs(c, tmpl, scope, rdef.refs)
            new = plugin_cls.with_defaults(
                await evaluate_off_loop(
                    rdef.properties, tmpl.functions, scope, f"resources.{rdef.name}.properties"
                )
            )
            restore = (row.data or {}).get("__restore")
            nested_kept = None
            if restore is not None:  # a snapshot's restore: what the snapshot kept wins
                nested_kept = restore.get("__nested")
                new = plugin_cls.restore_properties(new, restore)
                row.data = {k: v for k, v in row.data.items() if k != "__restore"}
                await self.store.resource_fields(row.id, data=row.data)
            old = row.properties
            policy = definition.update_policy(rdef, tmpl, scope)
            meta = await definition.metadata(rdef, tmpl, scope)
            # Heat compares the whole definition: an update_policy or metadata changed alone
            # is an update too (a row made before policies were kept counts as unchanged).
            same = new == old and not (retry or plugin_cls.replaced_on_update)
            unchanged = (row.data or {}).get("__update_policy", policy) == policy
            unchanged = unchanged and meta == (row.rsrc_metadata or {})
            if same and unchanged and nested_kept is None:
                return  # unchanged: untouched, no event
            await self.store.resource_state(row.id, "UPDATE", "IN_PROGRESS", "state changed")
            changed = {k for k in set(new) | set(old) if new.get(k) != old.get(k)}
            data = {**row.data, "__deletion_policy": rdef.deletion_policy,
                    "__update_policy": policy}  # fmt: skip
            fixed = any(not plugin_cls.properties.get(k, _FIXED).update_allowed for k in changed)
            fixed = fixed or plugin_cls.replaced_on_update
            made = await apply_change(at, plugin_cls, row, old, new, same=same, fixed=fixed,
                                       nested_kept=nested_kept)  # fmt: skip
        except (ResourceFailure, errors.OneStackError) as exc:
            reason = exc.reason if isinstance(exc, ResourceFailure) else exc.message
            text = f"{type(exc).__name__}: resources.{rdef.name}: {reason}"
            await self.store.resource_state(row.id, "UPDATE", "FAILED", text)
            raise ResourceFailure(text) from None
        scope.made[rdef.name] = Made(made.physical_id, made.attributes)
        await self.store.resource_state(
            row.id, "UPDATE", "COMPLETE", "state changed",
            physical_resource_id=made.physical_id, properties=new, rsrc_metadata=meta,
            attributes=made.attributes, data={**data, **new, **made.data},
        )  # fmt: skip

    # --- delete -------------------------------------------------------------------------

    async def _delete_all(self, stack_id: str, action: str) -> None:
        stack = await self.store.stack(stack_id)
        rows = {r.name: r for r in await self.store.resources(stack_id)}
        required_by = reverse_graph(rows)
        gone = {n for n, r in rows.items() if r.action in ("DELETE", "INIT") and
                r.status == "COMPLETE"}  # fmt: skip
        c = self.context(stack)
        failure = await run_graph(
            required_by, gone, lambda name: self._delete_resource(c, rows[name], action)
        )
        if failure is None:
            done = (
                "Stack DELETE completed successfully"
                if action == "DELETE"
                else ("Stack ROLLBACK completed successfully")
            )
            extra: dict[str, Any] = {"engine_id": None}
            if action == "DELETE":
                extra["deleted_at"] = utcnow()
            await self.store.stack_state(stack_id, action, "COMPLETE", done, **extra)
        else:
            await self.store.stack_state(
                stack_id, action, "FAILED", f"Resource DELETE failed: {failure}", engine_id=None
            )

    async def _delete_resource(self, c: Context, row: Resource, action: str) -> None:
        if row.action == "INIT" or not row.physical_resource_id:
            plugin_cls = plugin_type(row.type)
            if row.action != "INIT" and plugin_cls is not None:  # a create cut short
                await clear_half_made(plugin_cls(), context_at(c, row.name), row)
            await self.store.resource_state(row.id, "DELETE", "COMPLETE", "state changed")
            return
        await self.store.resource_state(row.id, "DELETE", "IN_PROGRESS", "state changed")
        plugin_cls = plugin_type(row.type)
        try:
            if plugin_cls is not None:
                await remove(plugin_cls(), context_at(c, row.name), row.physical_resource_id, row)
        except (ResourceFailure, errors.OneStackError) as exc:
            reason = exc.reason if isinstance(exc, ResourceFailure) else exc.message
            text = f"{type(exc).__name__}: resources.{row.name}: {reason}"
            await self.store.resource_state(row.id, "DELETE", "FAILED", text)
            raise ResourceFailure(text) from None
        await self.store.resource_state(row.id, "DELETE", "COMPLETE", "state changed")
