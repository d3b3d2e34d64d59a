"""Stack preview (create and update), abandon and adopt, snapshots and restore, a resource
marked unhealthy: Heat's stack_preview, preview_update, abandon_stack, adopt (create with
``adopt_stack_data``), stack_snapshot, stack_restore and resource_mark_unhealthy."""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

from sqlalchemy import select

from onestack.common import errors
from onestack.common.context import RequestContext
from onestack.common.db import utcnow
from onestack.orchestration import urlfetch
from onestack.orchestration.engine import nested as nested_stacks
from onestack.orchestration.engine.graph import context_at, stack_scope
from onestack.orchestration.engine.runner import Engine
from onestack.orchestration.engine.scope import Made
from onestack.orchestration.errors import (
    ActionInProgress,
    EntityNotFound,
    NotSupported,
    ResourceFailure,
)
from onestack.orchestration.models import Resource, Snapshot, Stack
from onestack.orchestration.resources import plugin_type
from onestack.orchestration.resources.base import Prop
from onestack.orchestration.resources.stacks import MAX_DEPTH, NestedStack, ResourceGroup
from onestack.orchestration.schemas import StackBody, StackCreate
from onestack.orchestration.service import StackService, _new_row
from onestack.orchestration.store import new_event
from onestack.orchestration.template import functions, hot

_FIXED = Prop("string")


def _busy(stack: Stack) -> None:
    if stack.status == "IN_PROGRESS":
        raise ActionInProgress(stack_name=stack.name, action=stack.action)
    if stack.deleted_at is not None or stack.action == "DELETE":
        raise EntityNotFound(entity="Stack", name=stack.name)


# --- preview ------------------------------------------------------------------------------


async def preview(svc: StackService, ctx: RequestContext, body: StackCreate) -> dict[str, Any]:
    """The stack a create would make, checked as a create is, with each resource's
    properties as far as they resolve before anything exists; nothing is stored. A resource
    that is a nested stack shows as the list of that stack's resources (Heat's
    ``StackResource.preview``)."""
    body = await urlfetch.resolve(body, svc.settings)
    tmpl, env = svc.parse(body)
    files = body.files
    values, live = svc.check(tmpl, env, dict(body.parameters), files)
    await svc.custom_constraints(ctx, tmpl, values)
    stack = Stack(
        id="None", name=body.stack_name, project_id=ctx.project_id or "", user_id=ctx.user_id,
        template=tmpl.raw, environment=env, files=files, parameters=values, action="INIT",
        status="COMPLETE", status_reason="", disable_rollback=body.disable_rollback,
        timeout_mins=body.timeout_mins, tags=None, created_at=utcnow(),
    )  # fmt: skip
    return {"stack": stack, "resources": _preview_resources(svc, stack, live, None, 0)}


def _preview_resources(
    svc: StackService, stack: Stack, live: dict[str, Any], parent: str | None, depth: int
) -> list[Any]:
    rows = [_new_row(stack.id, n, rdef, live) for n, rdef in live.items()]
    tmpl, scope = stack_scope(stack, [])
    # Nothing exists yet: a reference to a resource is its name (Heat's reference of a
    # resource without an id), its attributes none.
    scope.made = {n: Made(n) for n in live}
    required_by = _required_by(rows)
    out: list[Any] = []
    for row in rows:
        rdef = live[row.name]
        try:
            props = functions.evaluate(
                rdef.properties, tmpl.functions, scope, f"resources.{row.name}.properties"
            )
        except errors.OneStackError:
            props = dict(rdef.properties)
        nested = _preview_nested(svc, stack, row.name, rdef.type, props, depth)
        if nested is not None:
            out.append(nested)
            continue
        plugin = plugin_type(rdef.type)
        if plugin is not None:
            with contextlib.suppress(errors.OneStackError, TypeError, ValueError):
                props = plugin.with_defaults(props)
        shown = preview_resource(stack, row, required_by[row.name], props)
        # Nothing exists yet: Heat's preview has no creation or update time.
        shown["creation_time"] = shown["updated_time"] = None
        shown["attributes"] = {a: None for a in (plugin.attributes if plugin else {})}
        if parent is not None:
            shown["parent_resource"] = parent
        out.append(shown)
    return out


def _preview_nested(
    svc: StackService, stack: Stack, name: str, rtype: str, props: dict[str, Any], depth: int
) -> list[Any] | None:
    """The preview of the nested stack a template resource, an ``OS::Heat::Stack`` or a
    ``ResourceGroup`` makes (``{stack}-{resource}``); None for any other resource."""
    files = stack.files or {}
    registry = (stack.environment or {}).get("resource_registry") or {}
    if depth >= MAX_DEPTH:
        return None
    if rtype in files:
        raw, given = files[rtype], props
    elif rtype == NestedStack.type_name:
        raw, given = props.get("template"), props.get("parameters") or {}
    elif rtype == ResourceGroup.type_name:
        raw, given = ResourceGroup._template(ResourceGroup.with_defaults(props), []), {}
    else:
        return None
    tmpl = hot.parse(raw, registry)
    given = {k: v for k, v in given.items() if v is not None and k in tmpl.parameters}
    values, live = svc.check(tmpl, {"resource_registry": registry}, given, files)
    child = Stack(
        id="None", name=f"{stack.name}-{name}", project_id=stack.project_id,
        user_id=stack.user_id, template=tmpl.raw, environment={"resource_registry": registry},
        files=files, parameters=values, action="INIT", status="COMPLETE", status_reason="",
    )  # fmt: skip
    return _preview_resources(svc, child, live, name, depth + 1)


def preview_resource(
    stack: Stack, row: Resource, required_by: list[str], props: dict[str, Any]
) -> dict[str, Any]:
    """A resource as Heat's engine formats it (``format_stack_resource`` with properties)."""
    sid = {"stack_name": stack.name, "stack_id": stack.id, "tenant": stack.project_id,
           "path": ""}  # fmt: skip
    return {
        "resource_name": row.name,
        "resource_type": row.type,
        "resource_action": row.action,
        "resource_status": row.status,
        "resource_status_reason": row.status_reason,
        "physical_resource_id": row.physical_resource_id or "",
        "resource_identity": {**sid, "path": f"/resources/{row.name}"},
        "stack_identity": sid,
        "stack_name": stack.name,
        "required_by": required_by,
        "description": "",
        "metadata": {},
        "properties": props,
        "creation_time": (row.created_at or utcnow()).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "updated_time": (row.updated_at or row.created_at or utcnow()).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        ),
    }


def _required_by(rows: list[Resource]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {r.name: [] for r in rows}
    for row in rows:
        for dep in row.requires:
            out.setdefault(dep, []).append(row.name)
    return out


async def preview_update(
    svc: StackService, ctx: RequestContext, stack: Stack, body: StackBody, patch: bool
) -> dict[str, list[dict[str, Any]]]:
    """What an update with ``body`` would do to each resource (Heat's ``resource_changes``:
    added, deleted, replaced, updated, unchanged); nothing changes."""
    _busy(stack)
    if patch and not body.template and not body.template_url:
        body = body.model_copy(update={"template": stack.template})
    body = await urlfetch.resolve(body, svc.settings)
    tmpl, env = svc.parse(body)
    given: dict[str, Any] = {}
    if patch:
        given = {k: v for k, v in stack.parameters.items() if k in tmpl.parameters}
        for key in body.clear_parameters:
            given.pop(key, None)
        env = {**stack.environment, **env} if not body.environment else env
    given.update(body.parameters)
    files = {**(stack.files if patch else {}), **body.files}
    values, live = svc.check(tmpl, env, given, files)
    await svc.custom_constraints(ctx, tmpl, values)
    rows = {r.name: r for r in await svc.resources(stack)}
    new_stack = Stack(
        id=stack.id, name=stack.name, project_id=stack.project_id, template=tmpl.raw,
        environment=env, files=files, parameters=values,
    )  # fmt: skip
    tmpl, scope = stack_scope(new_stack, list(rows.values()))
    changes: dict[str, list[dict[str, Any]]] = {
        k: [] for k in ("added", "deleted", "replaced", "unchanged", "updated")
    }
    required_by = _required_by(list(rows.values()))
    for name, rdef in live.items():
        row = rows.get(name)
        if row is None:
            changes["added"].append(
                preview_resource(stack, _new_row(stack.id, name, rdef, live), [], {})
            )
            continue
        kind = "replaced"
        plugin_cls = plugin_type(rdef.type)
        settled = row.status == "COMPLETE" and row.action not in ("INIT", "DELETE")
        if settled and row.type == rdef.type and plugin_cls is not None:
            try:
                new = plugin_cls.with_defaults(
                    functions.evaluate(
                        rdef.properties, tmpl.functions, scope, f"resources.{name}.properties"
                    )
                )
            except Exception:  # resolved only once what it refers to is made: say updated
                new = None
            old = row.properties
            changed = (
                {k for k in set(new) | set(old) if new.get(k) != old.get(k)}
                if new is not None
                else {"?"}
            )
            if not changed:
                kind = "unchanged"
            elif new is None or all(
                plugin_cls.properties.get(k, _FIXED).update_allowed for k in changed
            ):
                kind = "updated"
        changes[kind].append(preview_resource(stack, row, required_by.get(name, []), {}))
    for name, row in rows.items():
        if name not in live:
            changes["deleted"].append(preview_resource(stack, row, required_by.get(name, []), {}))
    return changes


# --- abandon and adopt --------------------------------------------------------------------


def abandon_data(
    stack: Stack, rows: list[Resource], nested: dict[str, dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Heat's ``prepare_abandon``; each resource also carries its attributes and resolved
    properties (Heat's adopt ignores what it does not know), so an adopt restores them. A
    resource backed by a nested stack (``nested``, by resource name) also carries that
    stack's template, parameters and resources, as Heat's StackResource does."""
    resources: dict[str, Any] = {}
    for r in rows:
        resources[r.name] = {
            "name": r.name,
            "resource_id": r.physical_resource_id,
            "type": r.type,
            "action": r.action,
            "status": r.status,
            "metadata": r.rsrc_metadata or {},
            "resource_data": {k: v for k, v in (r.data or {}).items()},
            "attributes": r.attributes,
            "properties": r.properties,
        }
        child = (nested or {}).get(r.name)
        if child is not None:
            resources[r.name].update({k: child[k] for k in ("template", "parameters",
                                                            "resources")})  # fmt: skip
    return {
        "name": stack.name,
        "id": stack.id,
        "action": stack.action,
        "status": stack.status,
        "template": stack.template,
        "environment": stack.environment,
        "files": stack.files,
        "parameters": stack.parameters,
        "project_id": stack.project_id,
        "stack_user_project_id": stack.project_id,
        "tags": stack.tags,
        "resources": resources,
    }


async def stack_tree(s: Any, stack: Stack, abandon: bool) -> dict[str, Any]:
    """The stack's abandon data with its nested stacks' (in session ``s``); ``abandon``:
    the stacks go (DELETE_COMPLETE, resource rows gone) while what they made stays."""
    rows = list(
        await s.scalars(
            select(Resource).where(Resource.stack_id == stack.id).order_by(Resource.created_at)
        )
    )
    children = {
        c.id: c
        for c in await s.scalars(
            select(Stack).where(Stack.owner_id == stack.id, Stack.deleted_at.is_(None))
        )
    }
    nested = {}
    for r in rows:
        child = children.get(r.physical_resource_id or "")
        if child is not None:
            nested[r.name] = await stack_tree(s, child, abandon)
    data = abandon_data(stack, rows, nested)
    if abandon:
        for res in rows:
            await s.delete(res)
        stack.action, stack.status = "DELETE", "COMPLETE"
        stack.status_reason = "Stack abandoned"
        stack.deleted_at = utcnow()
        stack.engine_id = None
        s.add(new_event(stack, "DELETE", "COMPLETE", "Stack abandoned"))
    return data


async def export(svc: StackService, stack: Stack) -> dict[str, Any]:
    async with svc.db.session() as s:
        row = await s.get(Stack, stack.id)
        assert row is not None
        return await stack_tree(s, row, False)


async def abandon(svc: StackService, stack: Stack) -> dict[str, Any]:
    """The stack's abandon data; the stack and its nested stacks go (DELETE_COMPLETE, their
    resource rows gone) and what their resources made stays, owned by no stack."""
    _busy(stack)
    async with svc.db.session() as s:
        row = await s.get(Stack, stack.id)
        assert row is not None
        if row.status == "IN_PROGRESS":  # started since it was read
            raise ActionInProgress(stack_name=row.name, action=row.action)
        return await stack_tree(s, row, True)


# --- snapshots ----------------------------------------------------------------------------


def snapshot_view(snap: Snapshot) -> dict[str, Any]:
    return {
        "id": snap.id,
        "name": snap.name,
        "status": snap.status,
        "status_reason": snap.status_reason,
        "data": snap.data,
        "creation_time": snap.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


async def snapshot(svc: StackService, stack: Stack, name: str | None) -> Snapshot:
    """Heat's stack_snapshot: the snapshot is recorded IN_PROGRESS and the engine takes it
    (SNAPSHOT_IN_PROGRESS): each resource keeps what it needs for a restore (a server, an
    image of itself), then the stack's abandon data is stored with it."""
    _busy(stack)
    async with svc.db.session() as s:
        row = await s.get(Stack, stack.id)
        assert row is not None
        if row.status == "IN_PROGRESS":  # started since it was read
            raise ActionInProgress(stack_name=row.name, action=row.action)
        snap = Snapshot(
            id=str(uuid.uuid4()), stack_id=row.id, project_id=row.project_id, name=name,
            status="IN_PROGRESS", status_reason="", data={}, created_at=utcnow(),
        )  # fmt: skip
        s.add(snap)
        row.action, row.status = "SNAPSHOT", "IN_PROGRESS"
        row.status_reason = "Stack SNAPSHOT started"
        row.engine_id, row.heartbeat = svc.engine.id, utcnow()
        s.add(new_event(row, "SNAPSHOT", "IN_PROGRESS", "Stack SNAPSHOT started"))
    svc.engine.launch(stack.id, "SNAPSHOT")
    return snap


async def run_snapshot(engine: Engine, stack_id: str) -> None:
    """The engine's part of a snapshot (run again by an engine that takes it over); the
    snapshot's outcome and the stack's are written in one transaction."""
    stack = await engine.store.stack(stack_id)
    async with engine.store.db.session() as s:
        snap = (
            await s.scalars(
                select(Snapshot)
                .where(Snapshot.stack_id == stack_id, Snapshot.status == "IN_PROGRESS")
                .order_by(Snapshot.created_at.desc())
            )
        ).first()
    failure = "No snapshot in progress"
    data: dict[str, Any] = {}
    if snap is not None:
        data, failure = await _snapshot_tree(engine, stack)
    if failure:  # what was made for a snapshot that failed goes
        await _drop_kept(engine.context(stack), data.get("resources") or {})
    status = "FAILED" if failure else "COMPLETE"
    reason = (
        f"Resource SNAPSHOT failed: {failure}"
        if failure
        else ("Stack SNAPSHOT completed successfully")
    )
    async with engine.store.db.session() as s:
        if snap is not None:
            found = await s.get(Snapshot, snap.id)
            if found is not None:
                found.status, found.status_reason, found.data = status, reason, data
        srow = await s.get(Stack, stack_id)
        assert srow is not None
        srow.action, srow.status, srow.status_reason = "SNAPSHOT", status, reason
        srow.engine_id, srow.updated_at = None, utcnow()
        s.add(new_event(srow, "SNAPSHOT", status, reason))


async def _snapshot_tree(engine: Engine, stack: Stack) -> tuple[dict[str, Any], str]:
    """The stack's snapshot data, each resource's entry with what its snapshot kept, a
    resource backed by a nested stack with that stack's (template, parameters, resources:
    Heat's StackResource data), and the first failure ("" when none)."""
    rows = await engine.store.resources(stack.id)
    c = engine.context(stack)
    kept: dict[str, dict[str, Any]] = {}
    nested: dict[str, dict[str, Any]] = {}
    failure = ""
    for row in rows:
        plugin_cls = plugin_type(row.type)
        if plugin_cls is None or row.action in ("INIT", "DELETE") or not row.physical_resource_id:
            continue
        await engine.store.resource_state(row.id, "SNAPSHOT", "IN_PROGRESS", "state changed")
        try:
            kept[row.name] = await plugin_cls().snapshot(
                context_at(c, row.name), row.physical_resource_id, row.data
            )
            child = await _owned_child(engine, stack.id, row.physical_resource_id)
            if child is not None:
                nested[row.name], failure = await _snapshot_tree(engine, child)
                if failure:
                    raise ResourceFailure(failure)
        except (ResourceFailure, errors.OneStackError) as exc:
            reason = exc.reason if isinstance(exc, ResourceFailure) else exc.message
            failure = f"{type(exc).__name__}: resources.{row.name}: {reason}"
            await engine.store.resource_state(row.id, "SNAPSHOT", "FAILED", failure)
            break
        await engine.store.resource_state(row.id, "SNAPSHOT", "COMPLETE", "state changed")
    data = abandon_data(stack, rows, nested)
    for name, extra in kept.items():
        data["resources"][name]["resource_data"].update(extra)
    return data, failure


async def _owned_child(engine: Engine, owner_id: str, child_id: str) -> Stack | None:
    async with engine.store.db.session() as s:
        child = await s.get(Stack, child_id)
    if child is None or child.owner_id != owner_id or child.deleted_at is not None:
        return None
    return child


async def _drop_kept(c: Any, resources: dict[str, Any]) -> None:
    """What the resources' snapshots made (a server's image), nested stacks' too."""
    for name, entry in resources.items():
        plugin_cls = plugin_type(str(entry.get("type")))
        if plugin_cls is not None:
            with contextlib.suppress(ResourceFailure, errors.OneStackError):
                await plugin_cls().delete_snapshot(
                    context_at(c, name), entry.get("resource_data") or {}
                )
        if isinstance(entry.get("resources"), dict):
            await _drop_kept(c, entry["resources"])


async def snapshots(svc: StackService, stack: Stack) -> list[Snapshot]:
    async with svc.db.session() as s:
        found = await s.scalars(
            select(Snapshot).where(Snapshot.stack_id == stack.id).order_by(Snapshot.created_at)
        )
        return list(found)


async def get_snapshot(svc: StackService, stack: Stack, snapshot_id: str) -> Snapshot:
    async with svc.db.session() as s:
        snap = await s.get(Snapshot, snapshot_id)
    if snap is None or snap.stack_id != stack.id:
        raise EntityNotFound(entity="Snapshot", name=snapshot_id)
    return snap


async def delete_snapshot(svc: StackService, stack: Stack, snapshot_id: str) -> None:
    """The snapshot and what its resources made for it (a server's image)."""
    snap = await get_snapshot(svc, stack, snapshot_id)
    await _drop_kept(svc.engine.context(stack), snap.data.get("resources") or {})
    async with svc.db.session() as s:
        found = await s.get(Snapshot, snapshot_id)
        if found is not None:
            await s.delete(found)


async def restore(svc: StackService, stack: Stack, snapshot_id: str) -> None:
    """Heat's stack_restore: the stack converges (an update, action RESTORE) on the template,
    environment, files and parameters the snapshot recorded: a resource deleted since is made
    again, a changed one updated or replaced back, an added one deleted."""
    snap = await get_snapshot(svc, stack, snapshot_id)
    if snap.status != "COMPLETE":
        raise NotSupported(feature=f"Restoring a snapshot in status {snap.status}")
    _busy(stack)
    data = snap.data
    async with svc.db.session() as s:
        row = await s.get(Stack, stack.id)
        assert row is not None
        if row.status == "IN_PROGRESS":
            raise ActionInProgress(stack_name=row.name, action=row.action)
        row.previous = None
        row.template, row.environment = data["template"], data.get("environment") or {}
        row.files, row.parameters = data.get("files") or {}, data.get("parameters") or {}
        row.action, row.status, row.status_reason = (
            "RESTORE",
            "IN_PROGRESS",
            "Stack RESTORE started",
        )
        row.engine_id, row.heartbeat, row.updated_at = svc.engine.id, utcnow(), utcnow()
        s.add(new_event(row, "RESTORE", "IN_PROGRESS", "Stack RESTORE started"))
    await svc.engine.store.add_missing_rows(stack.id)
    await nested_stacks.restore_marks(svc.engine, stack.id, dict(data.get("resources") or {}))
    svc.engine.launch(stack.id, "RESTORE")


# --- mark unhealthy -----------------------------------------------------------------------


async def mark_unhealthy(
    svc: StackService, stack: Stack, name: str, unhealthy: bool, reason: str
) -> None:
    """Heat's resource_mark_unhealthy: CHECK_FAILED (the next update replaces it), or back
    to CHECK_COMPLETE from CHECK_FAILED."""
    row = await svc.resource(stack, name)
    if row.status == "IN_PROGRESS":
        raise ActionInProgress(stack_name=stack.name, action=row.action)
    if unhealthy and row.action != "DELETE":
        await svc.engine.store.resource_state(row.id, "CHECK", "FAILED", reason)
    elif not unhealthy and (row.action, row.status) == ("CHECK", "FAILED"):
        await svc.engine.store.resource_state(row.id, "CHECK", "COMPLETE", reason)
