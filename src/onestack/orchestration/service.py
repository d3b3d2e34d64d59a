"""The stack service behind the API: checks a template fully, records the stack and its
resources (INIT), and hands the action to the engine; reads stacks, resources and events.
Another project's stack is a 404, as if it did not exist."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from onestack.common import errors
from onestack.common.agent.locks import KeyedLocks
from onestack.common.context import RequestContext
from onestack.common.db import Database, utcnow
from onestack.common.quota import lock_quota
from onestack.config import OrchestrationSettings
from onestack.orchestration import stacklist, urlfetch
from onestack.orchestration.engine import hooks
from onestack.orchestration.engine.graph import evaluate_off_loop, stack_scope
from onestack.orchestration.engine.runner import Engine
from onestack.orchestration.errors import (
    ActionInProgress,
    EntityNotFound,
    NotSupported,
    RequestLimitExceeded,
    StackExists,
    StackValidationFailed,
)
from onestack.orchestration.models import Event, Resource, Stack
from onestack.orchestration.resources import plugin_type
from onestack.orchestration.resources.base import Context
from onestack.orchestration.resources.stacks import NestedStack, region_of
from onestack.orchestration.schemas import StackBody, StackCreate, TemplateBody, environment
from onestack.orchestration.store import new_event
from onestack.orchestration.template import constraints, functions, hot, parameters
from onestack.orchestration.template.nestedparams import nested_parameters


def _stack_not_found(ref: str) -> EntityNotFound:
    return EntityNotFound(entity="Stack", name=ref)


class StackService:
    def __init__(self, db: Database, settings: OrchestrationSettings, engine: Engine) -> None:
        self.db = db
        self.settings = settings
        self.engine = engine
        self._deleting = KeyedLocks()

    # --- checking -----------------------------------------------------------------------

    def parse(self, body: TemplateBody) -> tuple[hot.Template, dict[str, Any]]:
        """The request's template, within the size limit, and its environment."""
        raw = body.template
        if raw is None:
            raise errors.BadRequest("No template specified")
        size = len(raw) if isinstance(raw, str) else len(json.dumps(raw))
        if size > self.settings.max_template_size:
            raise RequestLimitExceeded(
                message=f"Template size ({size} bytes) exceeds maximum allowed size "
                f"({self.settings.max_template_size} bytes)."
            )
        env = body.environment
        return hot.parse(raw, env.get("resource_registry") or {}), env

    def check(
        self, tmpl: hot.Template, env: dict[str, Any], given: dict[str, Any], files: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, hot.ResourceDef]]:
        values = parameters.resolve(
            tmpl.parameters,
            given,
            env.get("parameters") or {},
            env.get("parameter_defaults") or {},
        )
        live, _conds = hot.check(tmpl, values, files, self.settings.max_resources_per_stack)
        return values, live

    async def custom_constraints(
        self, ctx: RequestContext, tmpl: hot.Template, values: dict[str, Any]
    ) -> None:
        c = Context(self.engine.runtime, ctx, "", "", "")
        await constraints.check(c, tmpl.parameters, values)
        await constraints.check_properties(c, tmpl.resources, values)
        # Every endpoint of this cloud, its Heat API's included, is in the one region.
        served = c.runtime.settings.identity.region
        for rdef in tmpl.resources.values():
            region = region_of(rdef) if rdef.type == NestedStack.type_name else None
            if region is not None and region != served:
                raise StackValidationFailed(
                    message=f'Cannot establish connection to Heat endpoint at region "{region}" '
                    f'due to "public endpoint for orchestration service in {region} region not '
                    'found"'
                )

    def validate(
        self, ctx: RequestContext, body: TemplateBody, show_nested: bool = False
    ) -> dict[str, Any]:
        tmpl, env = self.parse(body)
        given = dict(body.parameters)
        sources = [given, env.get("parameters") or {}, env.get("parameter_defaults") or {}]
        for key in given:
            if key not in tmpl.parameters:
                raise parameters.UnknownUserParameter(key=key)
        # Validation without values: a parameter nobody gave is shown, not required.
        values: dict[str, Any] = {}
        for pname, param in tmpl.parameters.items():
            raw = next((src[pname] for src in sources if pname in src), None)
            if raw is None and param.has_default:
                raw = param.default
            if raw is None:
                values[pname] = _placeholder(param)
                continue
            values[pname] = parameters.coerce(param, raw)
            parameters.check(param, values[pname])
        limit = self.settings.max_resources_per_stack
        hot.check(tmpl, values, body.files, limit, lenient=True)
        shown = {n: p.schema() for n, p in tmpl.parameters.items()}
        for pname in shown:
            if pname in sources[2]:  # the environment's default stands for the template's
                shown[pname]["Default"] = sources[2][pname]
            raw = next((src[pname] for src in sources[:2] if pname in src), None)
            if raw is not None:  # what the caller gave, beside the template's default
                shown[pname]["Value"] = values[pname]
        out: dict[str, Any] = {
            "Description": tmpl.description or "No description",
            "Parameters": shown,
        }
        if tmpl.raw.get("parameter_groups"):
            out["ParameterGroups"] = tmpl.raw["parameter_groups"]
        if show_nested:
            out.update(nested_parameters(tmpl, values, body.files))
        out["Environment"] = _environment(tmpl, env)
        return out

    # --- create and delete --------------------------------------------------------------

    async def create(self, ctx: RequestContext, body: StackCreate) -> Stack:
        name = body.stack_name
        adopt = body.adopt_stack_data
        if adopt is not None:  # what the adopt data recorded, unless the body says
            body = body.model_copy(update={
                "template": body.template or adopt.get("template"),
                "environment": body.environment or environment(adopt.get("environment")),
                "parameters": {**(adopt.get("parameters") or {}), **body.parameters},
            })  # fmt: skip
        action = "CREATE" if adopt is None else "ADOPT"
        body = await urlfetch.resolve(body, self.settings)
        tmpl, env = self.parse(body)
        files = body.files
        values, live = self.check(tmpl, env, dict(body.parameters), files)
        await self.custom_constraints(ctx, tmpl, values)
        async with self.db.session() as s:
            await self._claim_stack_name(s, ctx, name)
            stack = Stack(
                id=str(uuid.uuid4()),
                name=name,
                project_id=ctx.project_id or "",
                user_id=ctx.user_id,
                username=ctx.user_name,
                roles=list(ctx.roles),
                template=tmpl.raw,
                environment=env,
                files=files,
                parameters=values,
                action=action,
                status="IN_PROGRESS",
                status_reason=f"Stack {action} started",
                disable_rollback=body.disable_rollback,
                timeout_mins=body.timeout_mins,
                tags=body.tags,
                engine_id=self.engine.id,
                heartbeat=utcnow(),
                created_at=utcnow(),
            )
            s.add(stack)
            await s.flush()
            for rname, rdef in live.items():
                new_row = _new_row(stack.id, rname, rdef, live)
                if adopt is not None:  # what the engine adopts, kept with the row
                    new_row.data["__adopt"] = (adopt.get("resources") or {}).get(rname) or {}
                s.add(new_row)
            s.add(new_event(stack, action, "IN_PROGRESS", f"Stack {action} started"))
        self.engine.launch(stack.id, action)
        return stack

    async def _claim_stack_name(self, s: AsyncSession, ctx: RequestContext, name: str) -> None:
        """Refuse a create past the stack quota or onto a name the project uses."""
        # The project's stacks counted and the name checked under its quota lock (#12):
        # concurrent creates neither pass the limit nor share a name.
        await lock_quota(s, f"orchestration:{ctx.project_id}")
        limit = self.settings.max_stacks_per_tenant
        if limit >= 0 and not ctx.is_admin:  # Heat: admins can create beyond it
            held = await s.scalar(
                select(func.count()).select_from(Stack).where(
                    Stack.project_id == ctx.project_id, Stack.owner_id.is_(None),
                    Stack.deleted_at.is_(None),
                )
            )  # fmt: skip
            if (held or 0) >= limit:
                raise RequestLimitExceeded(
                    message=f"You have reached the maximum stacks per tenant, {limit}. "
                    "Please delete some stacks."
                )
        taken = await s.scalar(
            select(func.count()).select_from(Stack).where(
                Stack.name == name, Stack.project_id == ctx.project_id,
                Stack.deleted_at.is_(None),
            )
        )  # fmt: skip
        if taken:
            raise StackExists(stack_name=name)

    async def update(self, ctx: RequestContext, stack: Stack, body: StackBody, patch: bool) -> None:
        """Store the new template and parameters (checked in full first), add INIT rows for
        new resources, and hand the update to the engine. ``patch`` (PATCH, heatclient's
        ``--existing``): what the body leaves out is kept from the stack."""
        if stack.status == "IN_PROGRESS":
            raise ActionInProgress(stack_name=stack.name, action=stack.action)
        if stack.action == "DELETE" or stack.deleted_at is not None:
            raise _stack_not_found(stack.name)
        if patch and not body.template and not body.template_url:
            body = body.model_copy(update={"template": stack.template})
        body = await urlfetch.resolve(body, self.settings)
        if patch:  # before the template is parsed: the kept registry maps its types
            merged = _merged_environment(stack.environment, body.environment)
            body = body.model_copy(update={"environment": merged})
        tmpl, env = self.parse(body)
        given: dict[str, Any] = {}
        if patch:
            given = {k: v for k, v in stack.parameters.items() if k in tmpl.parameters}
            for key in body.clear_parameters:
                given.pop(key, None)
        given.update(body.parameters)
        files = {**(stack.files if patch else {}), **body.files}
        values, live = self.check(tmpl, env, given, files)
        await self.custom_constraints(ctx, tmpl, values)
        async with self.db.session() as s:
            row = await s.get(Stack, stack.id)
            assert row is not None
            have = set(await s.scalars(select(Resource.name).where(Resource.stack_id == stack.id)))
            row.previous = {"template": row.template, "environment": row.environment,
                            "files": row.files, "parameters": row.parameters}  # fmt: skip
            row.template, row.environment, row.files, row.parameters = tmpl.raw, env, files, values
            given_args = body.model_fields_set
            if "timeout_mins" in given_args:
                row.timeout_mins = body.timeout_mins
            if "disable_rollback" in given_args:
                row.disable_rollback = body.disable_rollback
            if "tags" in given_args:
                row.tags = body.tags
            row.action, row.status, row.status_reason = (
                "UPDATE",
                "IN_PROGRESS",
                ("Stack UPDATE started"),
            )
            row.engine_id, row.heartbeat, row.updated_at = self.engine.id, utcnow(), utcnow()
            for rname, rdef in live.items():
                if rname not in have:
                    s.add(_new_row(stack.id, rname, rdef, live))
            s.add(new_event(row, "UPDATE", "IN_PROGRESS", "Stack UPDATE started"))
        self.engine.launch(stack.id, "UPDATE")

    async def check_stack(self, ctx: RequestContext, stack: Stack) -> None:
        await self._start(stack, "CHECK")

    async def suspend_resume(self, ctx: RequestContext, stack: Stack, action: str) -> None:
        """Heat's stack_suspend and stack_resume: a stack already so is left alone; a resume
        of a stack that is not suspended goes RESUME_FAILED, naming the resources' state."""
        if (stack.action, stack.status) == (action, "COMPLETE"):
            return
        await self._start(stack, action)

    async def cancel_update(self, ctx: RequestContext, stack: Stack, rollback: bool) -> None:
        """Heat's stack_cancel_update: only an update in progress (or a create, without
        rollback) can be cancelled."""
        allowed = ("UPDATE",) if rollback else ("UPDATE", "CREATE")
        if stack.status != "IN_PROGRESS" or stack.action not in allowed:
            raise NotSupported(
                feature=f"Cancelling update when stack is {stack.action}_{stack.status}"
            )
        await self.engine.cancel_update(stack.id, rollback)

    async def _start(self, stack: Stack, action: str) -> None:
        if stack.status == "IN_PROGRESS":
            raise ActionInProgress(stack_name=stack.name, action=stack.action)
        if stack.deleted_at is not None or stack.action == "DELETE":
            raise _stack_not_found(stack.name)
        async with self.db.session() as s:
            row = await s.get(Stack, stack.id)
            assert row is not None
            row.action, row.status = action, "IN_PROGRESS"
            row.status_reason = f"Stack {action} started"
            row.engine_id, row.heartbeat = self.engine.id, utcnow()
            s.add(new_event(row, action, "IN_PROGRESS", f"Stack {action} started"))
        self.engine.launch(stack.id, action)

    async def delete(self, ctx: RequestContext, stack: Stack) -> None:
        """Exactly one of concurrent deletes starts the delete (#12); the others answer 409
        (in progress) or 404 (done). The state is read again under the stack's lock: the
        caller's copy was read before the winner wrote, and a loser's cancel would stop
        the winner's delete."""
        async with self._deleting(stack.id):
            current = await self.by_id(stack.id)
            if current is None or current.deleted_at is not None:
                raise _stack_not_found(stack.name)
            if current.action == "DELETE" and current.status == "IN_PROGRESS":
                raise ActionInProgress(stack_name=stack.name, action="DELETE")
            await self.engine.cancel(stack.id)  # a delete supersedes a running create
            async with self.db.session() as s:
                # Conditional, for another process's engine on the same database.
                claimed = await s.execute(
                    update(Stack)
                    .where(
                        Stack.id == stack.id,
                        Stack.deleted_at.is_(None),
                        ~((Stack.action == "DELETE") & (Stack.status == "IN_PROGRESS")),
                    )
                    .values(
                        action="DELETE",
                        status="IN_PROGRESS",
                        status_reason="Stack DELETE started",
                        engine_id=self.engine.id,
                        heartbeat=utcnow(),
                    )
                )
                if claimed.rowcount != 1:  # type: ignore[attr-defined]
                    raise ActionInProgress(stack_name=stack.name, action="DELETE")
                s.add(new_event(current, "DELETE", "IN_PROGRESS", "Stack DELETE started"))
            self.engine.launch(stack.id, "DELETE")

    async def by_id(self, stack_id: str) -> Stack | None:
        async with self.db.session() as s:
            return await s.get(Stack, stack_id)

    # --- reading ------------------------------------------------------------------------

    async def find(self, ctx: RequestContext, ref: str, stack_id: str | None = None) -> Stack:
        """A stack by name or id (``name/id`` when both are given); deleted ones by id only."""
        async with self.db.session() as s:
            stmt = select(Stack)
            if stack_id is not None:
                stmt = stmt.where(Stack.id == stack_id, Stack.name == ref)
            else:
                stmt = stmt.where(
                    (Stack.id == ref) | ((Stack.name == ref) & Stack.deleted_at.is_(None))
                )
            if not ctx.is_admin:
                stmt = stmt.where(Stack.project_id == ctx.project_id)
            found = list(await s.scalars(stmt.order_by(Stack.created_at.desc())))
        live = [r for r in found if r.deleted_at is None] or found
        if not live:
            raise _stack_not_found(stack_id or ref)
        return live[0]

    async def listing(
        self, ctx: RequestContext, q: stacklist.ListQuery
    ) -> tuple[list[Stack], int | None]:
        """One page of the stacks ``q`` selects and, with ``with_count``, how many it selects.
        Deleted stacks stay as rows (DELETE_COMPLETE, ``deleted_at`` set): ``show_deleted``
        lists them."""
        async with self.db.session() as s:
            stmt = select(Stack)
            if not q.show_deleted:
                stmt = stmt.where(Stack.deleted_at.is_(None))
            if not q.show_nested:
                stmt = stmt.where(Stack.owner_id.is_(None))
            if not q.global_tenant:
                stmt = stmt.where(Stack.project_id == ctx.project_id)
            for column, values in q.filters.items():
                stmt = stmt.where(getattr(Stack, column).in_(values))
            stmt = stacklist.ordered(stmt, q.sort_keys, q.sort_dir)
            hidden = [t.strip() for t in self.settings.hidden_stack_tags.split(",") if t.strip()]
            return await stacklist.page(s, stmt, q, hidden)

    async def resources(self, stack: Stack) -> list[Resource]:
        return await self.engine.store.resources(stack.id)

    async def nested_resources(
        self, stack: Stack, depth: int
    ) -> tuple[list[tuple[Stack, Resource, str | None]], dict[str, Stack]]:
        """The stack's resources and, ``depth`` levels down, those of the nested stacks its
        resources own: (stack, resource, parent resource's name); and the nested stacks of
        every stack listed, by id."""
        out: list[tuple[Stack, Resource, str | None]] = []
        kids: dict[str, Stack] = {}
        level: list[tuple[Stack, str | None]] = [(stack, None)]
        for at_depth in range(depth + 1):
            following: list[tuple[Stack, str | None]] = []
            for owner, parent in level:
                rows = await self.resources(owner)
                out += [(owner, r, parent) for r in rows]
                async with self.db.session() as s:
                    found = await s.scalars(
                        select(Stack).where(Stack.owner_id == owner.id, Stack.deleted_at.is_(None))
                    )
                    kids.update({k.id: k for k in found})
                if at_depth < depth:
                    following += [(kids[r.physical_resource_id], r.name) for r in rows
                                  if r.physical_resource_id in kids]  # fmt: skip
            level = following
        return out, kids

    async def child_ids(self, stack: Stack) -> set[str]:
        async with self.db.session() as s:
            return set(
                await s.scalars(
                    select(Stack.id).where(Stack.owner_id == stack.id, Stack.deleted_at.is_(None))
                )
            )

    async def signal(self, stack: Stack, name: str, details: Any) -> None:
        """``POST .../resources/{name}/signal``: the resource's plugin takes it (a wait
        handle records it, a scaling policy resizes its group), and an event tells of it."""
        if stack.deleted_at is not None:
            raise _stack_not_found(stack.name)
        row = await self.resource(stack, name)
        if await hooks.unset(self.engine.store, stack, row, details):
            return
        plugin_cls = plugin_type(row.type)
        deleting = plugin_cls is not None and plugin_cls.signal_while_deleting
        if stack.action == "DELETE" and not deleting:
            raise _stack_not_found(stack.name)
        if (
            plugin_cls is None
            or (not row.physical_resource_id and not plugin_cls.signal_while_creating)
            or (row.action == "DELETE" and not deleting)
        ):
            raise StackValidationFailed(
                message=f"Signal resource during {row.action} is not supported."
            )
        c = self.engine.context(stack)
        at = Context(c.runtime, c.ctx, stack.id, stack.name, name)
        details = details if isinstance(details, dict) else {}
        await plugin_cls().signal(at, row, details)
        if plugin_cls.type_name != "OS::Heat::ScalingPolicy":  # it tells its own outcome
            await self.engine.store.resource_event(
                row.id, "SIGNAL", "COMPLETE",
                "Signal: status:{} reason:{}".format(details.get("status", "SUCCESS"),
                                                     details.get("reason", "")),
            )  # fmt: skip

    async def signal_secret(self, project_id: str, ref: str, stack_id: str, name: str) -> str:
        """The secret a resource's signal accepts instead of a token ("" when it has none
        or does not exist)."""
        async with self.db.session() as s:
            stack = await s.get(Stack, stack_id)
            if stack is None or stack.project_id != project_id or stack.name != ref:
                return ""
            rows = await s.scalars(
                select(Resource).where(Resource.stack_id == stack_id, Resource.name == name)
            )
            row = rows.first()
            return str((row.data or {}).get("__signal_secret") or "") if row else ""

    async def resource_metadata(self, stack: Stack, row: Resource) -> dict[str, Any]:
        """Heat's resource metadata: its template's, resolved, with what it keeps itself."""
        plugin_cls = plugin_type(row.type)
        if plugin_cls is None:
            return dict(row.rsrc_metadata or {})
        c = self.engine.context(stack)
        at = Context(c.runtime, c.ctx, stack.id, stack.name, row.name)
        return await plugin_cls().metadata(at, row)

    async def resource(self, stack: Stack, name: str) -> Resource:
        for row in await self.resources(stack):
            if row.name == name:
                return row
        raise EntityNotFound(entity="Resource", name=name)

    async def events(
        self, stack: Stack, resource: str | None, marker: str | None, limit: int | None,
        sort_dir: str, action: list[str], status: list[str],
    ) -> list[Event]:  # fmt: skip
        async with self.db.session() as s:
            stmt = select(Event).where(Event.stack_id == stack.id)
            if resource is not None:
                stmt = stmt.where(Event.resource_name == resource)
            if action:
                stmt = stmt.where(Event.action.in_(action))
            if status:
                stmt = stmt.where(Event.status.in_(status))
            if marker:
                seq = await s.scalar(select(Event.seq).where(Event.id == marker))
                if seq is None:
                    raise EntityNotFound(entity="Event", name=marker)
                stmt = stmt.where(Event.seq > seq if sort_dir == "asc" else Event.seq < seq)
            stmt = stmt.order_by(Event.seq.asc() if sort_dir == "asc" else Event.seq.desc())
            if limit:
                stmt = stmt.limit(limit)
            return list(await s.scalars(stmt))

    async def outputs(self, stack: Stack) -> list[dict[str, Any]]:
        """Each output's value, evaluated now (an error becomes ``output_error``)."""
        rows = await self.resources(stack)
        tmpl, scope = stack_scope(stack, rows)
        if stack.deleted_at is None:
            wanted = [
                r
                for spec in tmpl.outputs.values()
                for r in functions.references(spec.get("value"), tmpl.functions, "outputs")
            ]
            await self.engine.refresh_refs(self.engine.context(stack), tmpl, scope, wanted)
        out = []
        for key, spec in tmpl.outputs.items():
            item: dict[str, Any] = {
                "output_key": key,
                "description": spec.get("description", "No description given"),
            }
            cond = spec.get("condition")
            if cond is not None and not (scope.condition(cond) if isinstance(cond, str) else cond):
                item["output_value"] = None
            else:
                try:
                    item["output_value"] = await evaluate_off_loop(
                        spec.get("value"), tmpl.functions, scope, f"outputs.{key}.value"
                    )
                except errors.OneStackError as exc:
                    item["output_value"] = None
                    item["output_error"] = exc.message
            out.append(item)
        return out


def _new_row(
    stack_id: str, name: str, rdef: hot.ResourceDef, live: dict[str, hot.ResourceDef]
) -> Resource:
    return Resource(
        id=str(uuid.uuid4()),
        stack_id=stack_id,
        name=name,
        type=rdef.type,
        action="INIT",
        status="COMPLETE",
        status_reason="",
        properties={},
        attributes={},
        data={"__deletion_policy": rdef.deletion_policy},
        requires=sorted(hot.requires(rdef, live)),
        created_at=utcnow(),
    )


def _merged_environment(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """A PATCH's environment loaded over the stack's, section by section (Heat's
    ``Environment.load`` on the existing one): a registry entry or parameter it does not
    name is kept."""
    out = dict(old or {})
    for key, value in (new or {}).items():
        kept = out.get(key)
        out[key] = (
            {**kept, **value} if isinstance(kept, dict) and isinstance(value, dict) else value
        )
    return out


def _environment(tmpl: hot.Template, env: dict[str, Any]) -> dict[str, Any]:
    """The environment as Heat's validate shows it: every section, and in the registry each
    template file a resource is made from mapped to itself (Heat registers those)."""
    registry: dict[str, Any] = {**(env.get("resource_registry") or {})}
    for rdef in tmpl.resources.values():
        if rdef.type.endswith((".yaml", ".template")):
            registry.setdefault(rdef.type, rdef.type)
    registry.setdefault("resources", {})
    return {
        "parameters": dict(env.get("parameters") or {}),
        "parameter_defaults": dict(env.get("parameter_defaults") or {}),
        "resource_registry": registry,
        "event_sinks": list(env.get("event_sinks") or []),
    }


def _placeholder(param: parameters.Parameter) -> Any:
    """A value of the parameter's type for validating a template without values."""
    return {"number": 0, "boolean": False, "json": {}, "comma_delimited_list": []}.get(
        param.type, ""
    )
