"""Resources made as nested stacks: ``OS::Heat::Stack``, template resources (a type the
environment maps to a template of the client's ``files``: properties are its parameters,
attributes its outputs) and ``OS::Heat::ResourceGroup`` (its members are the nested stack's
resources); the autoscaling group, built on the same base, is in ``autoscaling``."""

from __future__ import annotations

import copy
from typing import Any

from onestack.common import errors
from onestack.orchestration.engine.scope import OUTPUT_ERRORS
from onestack.orchestration.errors import ResourceFailure, StackValidationFailed
from onestack.orchestration.resources import rolling
from onestack.orchestration.resources.base import Checking, Context, Created, Plugin, Prop

MAX_DEPTH = 5  # Heat's max_nested_stack_depth
GROUP_VERSION = "2015-04-30"


def is_template(name: str) -> bool:
    """A type naming a template (Heat's template resources)."""
    return name.endswith((".yaml", ".yml", ".template")) or name.startswith(
        ("file:", "http://", "https://")
    )


def nested_engine() -> Any:
    # The engine imports the resource registry: import it late.
    from onestack.orchestration.engine import nested

    return nested


def _is_call(value: Any, tmpl: Any) -> bool:
    from onestack.orchestration.template import hot

    return hot._is_call(value, tmpl.functions)


def check_child(
    raw: Any, env: Checking, path: str, given: dict[str, Any] | None, key: str | None
) -> None:
    """A nested template checked as a stack would be: its types, properties, references
    and graph, the ``given`` properties against its parameters (function calls are not
    known yet and pass); a template that (indirectly) contains itself is a 400."""
    from onestack.orchestration.template import hot, parameters

    if key is not None and key in env.trail:
        raise StackValidationFailed(
            message=f"{path}: Circular reference to the template {key}: "
            + " -> ".join([*env.trail, key])
        )
    if len(env.trail) >= MAX_DEPTH:
        raise StackValidationFailed(
            message=f"{path}: Recursion depth exceeds {MAX_DEPTH} nested stacks."
        )
    strict = given is not None and not env.lenient
    given = given or {}
    try:
        child = hot.parse(raw, env.tmpl.registry)
        if env.lenient:
            given = {k: v for k, v in given.items() if k in child.parameters}
        if strict:
            for name in given:
                if name not in child.parameters:
                    raise StackValidationFailed(message=f"Property error: Unknown Property {name}")
        values: dict[str, Any] = {}
        for name, param in child.parameters.items():
            if name in given and not _is_call(given[name], env.tmpl):
                values[name] = parameters.coerce(param, given[name])
                parameters.check(param, values[name])
            elif param.has_default:
                values[name] = parameters.coerce(param, param.default)
            elif strict and name not in given:
                raise StackValidationFailed(message=f"Property error: Property {name} not "
                                            "assigned")  # fmt: skip
            else:
                values[name] = _placeholder(param)
        trail = (*env.trail, key or "<inline>")
        hot.check(child, values, env.files, env.max_resources, trail, env.lenient)
    except errors.BadRequest as exc:
        raise StackValidationFailed(message=f"{path}: {exc.message}") from None


def _placeholder(param: Any) -> Any:
    return {"number": 0, "boolean": False, "json": {}, "comma_delimited_list": []}.get(
        param.type, ""
    )


class StackBacked(Plugin):
    """A resource whose physical id is its nested stack's."""

    open_attributes = True
    update_failed_in_place = True

    async def delete(self, c: Context, physical_id: str, data: dict[str, Any]) -> None:
        await nested_engine().delete(c, physical_id)

    async def orphans(self, c: Context) -> list[str]:
        return list(await nested_engine().orphans(c))

    async def suspend(self, c: Context, physical_id: str, data: dict[str, Any]) -> None:
        await nested_engine().act(c, physical_id, "SUSPEND")

    async def resume(self, c: Context, physical_id: str, data: dict[str, Any]) -> None:
        await nested_engine().act(c, physical_id, "RESUME")

    async def refresh(
        self, c: Context, physical_id: str, data: dict[str, Any]
    ) -> dict[str, Any] | None:
        child = await nested_engine().child(c, physical_id)
        if child is None or child.deleted_at is not None:
            raise errors.NotFound(f"Stack {physical_id} not found")
        return await self.attributes_of(c, child)

    async def adopt(self, c: Context, given: dict[str, Any]) -> Created | None:
        """Heat's StackResource adopt: the abandoned nested stack's template and resources
        adopted by a new nested stack."""
        if not isinstance(given.get("resources"), dict) or not given.get("template"):
            return None
        child_id, child = await nested_engine().create(
            c, given["template"], dict(given.get("parameters") or {}), adopt=given["resources"]
        )
        return Created(child_id, await self.attributes_of(c, child))

    async def restore_nested(
        self, c: Context, physical_id: str, kept: dict[str, Any]
    ) -> dict[str, Any] | None:
        child = await nested_engine().restore(c, physical_id, kept)
        return await self.attributes_of(c, child)

    async def attributes_of(self, c: Context, child: Any) -> dict[str, Any]:
        outs, failed = await nested_engine().outputs(c, child)
        return {**outs, "outputs": outs, OUTPUT_ERRORS: failed}

    async def _create(
        self, c: Context, raw: Any, given: dict[str, Any], timeout_mins: float | None = None
    ) -> Created:
        child_id, child = await nested_engine().create(c, raw, given, timeout_mins)
        return Created(child_id, await self.attributes_of(c, child))

    async def _update(
        self, c: Context, physical_id: str, raw: Any, given: dict[str, Any]
    ) -> dict[str, Any]:
        child = await nested_engine().update(c, physical_id, raw, given)
        return await self.attributes_of(c, child)


def region_of(rdef: Any) -> str | None:
    """The literal ``context.region_name`` of an ``OS::Heat::Stack`` definition."""
    context = rdef.properties.get("context")
    region = context.get("region_name") if isinstance(context, dict) else None
    return region if isinstance(region, str) else None


class NestedStack(StackBacked):
    type_name = "OS::Heat::Stack"
    follows_definition = True
    description = "A resource representing a stack which can be used in a template."
    properties = {
        "template": Prop("string", required=True, update_allowed=True,
                         description="The nested template."),
        "parameters": Prop("map", default={}, update_allowed=True,
                           description="The parameters of the nested stack."),
        "timeout": Prop("number", update_allowed=True,
                        description="The stack creation timeout in minutes."),
        "context": Prop("map", description="Context for this stack."),
        "tags": Prop("list", update_allowed=True, description="Tags of the nested stack."),
    }  # fmt: skip
    attributes = {
        "outputs": "A dict of key-value pairs output from the stack.",
        "stack_resource": "The nested stack's resource (its id).",
    }

    @classmethod
    def check_definition(cls, rdef: Any, env: Checking) -> None:
        raw, key = rdef.properties.get("template"), None
        if isinstance(raw, dict) and list(raw) == ["get_file"] and isinstance(raw["get_file"], str):
            key = raw["get_file"]
            raw = env.files.get(key)
        if raw is None or _is_call(raw, env.tmpl):
            return
        given = rdef.properties.get("parameters")
        if not isinstance(given, dict) or _is_call(given, env.tmpl):
            given = None
        region = region_of(rdef)
        if region is None:
            check_child(raw, env, f"resources.{rdef.name}.properties.template", given, key)
            return
        try:
            check_child(raw, env, "", given, key)
        except StackValidationFailed as exc:
            # Heat validates a stack with a region through that region's Heat API.
            raise StackValidationFailed(
                message=f"Failed validating stack template using Heat endpoint at region "
                f'"{region}" due to "ERROR: {exc.message.removeprefix(": ")}"'
            ) from None

    async def create(self, c: Context, props: dict[str, Any]) -> Created:
        return await self._create(
            c, props["template"], props.get("parameters") or {}, props.get("timeout")
        )

    async def update(
        self, c: Context, physical_id: str, data: dict[str, Any], old: dict[str, Any],
        new: dict[str, Any],
    ) -> dict[str, Any]:  # fmt: skip
        return await self._update(c, physical_id, new["template"], new.get("parameters") or {})


class TemplateResource(StackBacked):
    """A type the environment maps to a template (or a type naming a template file)."""

    type_name = "<template>"
    follows_definition = True
    description = "A resource whose type is a template: a nested stack of it."

    @classmethod
    def check_properties(cls, props: dict[str, Any], path: str, literal: set[str]) -> str:
        return ""  # the template's parameters are checked in check_definition

    @classmethod
    def with_defaults(cls, props: dict[str, Any]) -> dict[str, Any]:
        return dict(props)

    @classmethod
    def check_definition(cls, rdef: Any, env: Checking) -> None:
        raw = env.files.get(rdef.type)
        if raw is None:
            raise StackValidationFailed(
                message=f'resources.{rdef.name}: Could not fetch remote template "{rdef.type}": '
                "it is not in the files map"
            )
        check_child(raw, env, f"resources.{rdef.name}", rdef.properties, rdef.type)

    async def _template(self, c: Context) -> Any:
        nested = nested_engine()
        row = await nested.engine_of(c).store.resource_named(c.stack_id, c.resource_name)
        parent = await nested.parent_of(c)
        assert row is not None
        raw = (parent.files or {}).get(row.type)
        if raw is None:
            raise ResourceFailure(f'Could not fetch remote template "{row.type}"')
        return raw

    async def create(self, c: Context, props: dict[str, Any]) -> Created:
        return await self._create(c, await self._template(c), props)

    async def update(
        self, c: Context, physical_id: str, data: dict[str, Any], old: dict[str, Any],
        new: dict[str, Any],
    ) -> dict[str, Any]:  # fmt: skip
        return await self._update(c, physical_id, await self._template(c), new)


# --- groups ---------------------------------------------------------------------------


def _with_index(value: Any, var: str, index: str) -> Any:
    if isinstance(value, str):
        return value.replace(var, index)
    if isinstance(value, dict):
        return {k: _with_index(v, var, index) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_index(v, var, index) for v in value]
    return value


def member_definition(definition: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"type": definition["type"]}
    for key in ("properties", "metadata"):
        if definition.get(key):
            out[key] = copy.deepcopy(definition[key])
    return out


def check_member_def(definition: Any, env: Checking, path: str) -> None:
    from onestack.orchestration.resources import plugin_type
    from onestack.orchestration.template.hot import ResourceDef

    if not isinstance(definition, dict) or _is_call(definition.get("type"), env.tmpl):
        return
    rtype = definition.get("type")
    if not isinstance(rtype, str):
        raise StackValidationFailed(message=f'{path}: the member definition has no "type"')
    mapped = env.tmpl.registry.get(rtype, rtype)
    plugin = plugin_type(mapped) if isinstance(mapped, str) else None
    if plugin is None:
        raise StackValidationFailed(
            message=f"{path}: The Resource Type ({rtype}) could not be found."
        )
    props = definition.get("properties") or {}
    if not isinstance(props, dict):
        raise StackValidationFailed(message=f"{path}.properties: Properties must be a map")
    literal = {k for k, v in props.items() if not _is_call(v, env.tmpl)}
    problem = plugin.check_properties(props, f"{path}.properties", literal)
    if problem:
        raise StackValidationFailed(message=f"Property error: {problem}")
    plugin.check_definition(ResourceDef(path, mapped, props, [], "Delete", None), env)


def literal_int(value: Any, env: Checking) -> int | None:
    """An integer property's value when it is known before creating (a literal or a
    parameter's value)."""
    from onestack.orchestration.template import functions, hot

    try:
        value = functions.evaluate(value, env.tmpl.functions, hot._CondScope(env.tmpl, env.values))
        return int(value)
    except (errors.OneStackError, TypeError, ValueError):
        return None


def group_attributes(
    members: list[tuple[str, str | None, dict[str, Any]]],
) -> dict[str, Any]:
    """A group's attributes from its members: [group, name] a list of each member's,
    [group, attributes, name] a map by member, refs, refs_map, resource.N[.name]."""
    names: list[str] = []
    for _n, _id, attrs in members:
        names += [k for k in attrs if k not in names]
    out: dict[str, Any] = {k: [a.get(k) for _n, _id, a in members] for k in names}
    out["attributes"] = {k: {n: a.get(k) for n, _id, a in members} for k in names}
    for n, pid, attrs in members:
        out[f"resource.{n}"] = pid
        out.update({f"resource.{n}.{k}": v for k, v in attrs.items()})
    out["refs"] = [pid for _n, pid, _a in members]
    out["refs_map"] = {n: pid for n, pid, _a in members}
    return out


class ResourceGroup(StackBacked):
    type_name = "OS::Heat::ResourceGroup"
    description = "Creates one or more identically configured nested resources."
    properties = {
        "count": Prop("integer", default=1, update_allowed=True,
                      description="The number of resources to create."),
        "index_var": Prop("string", default="%index%", update_allowed=True,
                          description="A variable replaced with the member's index."),
        "resource_def": Prop("map", required=True, update_allowed=True,
                             description="Resource definition for the resources in the group."),
        "removal_policies": Prop("list", default=[], update_allowed=True,
                                 description="Policies for removal of resources on update."),
        "removal_policies_mode": Prop("string", default="append", update_allowed=True,
                                      description="append or update the removal policies."),
    }  # fmt: skip
    attributes = {
        "refs": "A list of resource IDs for the resources in the group.",
        "refs_map": "A map of resource names to IDs for the resources in the group.",
        "attributes": "A map of resource names to the specified attribute of each resource.",
        "removed_rsrc_list": "A list of removed resource names.",
    }

    update_policies: rolling.Schema = {
        "rolling_update": rolling.ROLLING,
        "batch_create": rolling.BATCH_CREATE,
    }

    @classmethod
    def check_definition(cls, rdef: Any, env: Checking) -> None:
        path = f"resources.{rdef.name}.properties"
        count = literal_int(rdef.properties.get("count", 1), env)
        if count is not None and count < 0:
            raise StackValidationFailed(
                message=f"Property error: {path}.count: {count} is out of range (min: 0, max: None)"
            )
        check_member_def(rdef.properties.get("resource_def"), env, f"{path}.resource_def")
        rolling.check_policy(rdef, env, cls.update_policies)

    @staticmethod
    def _removed(props: dict[str, Any], before: list[str]) -> list[str]:
        out = list(before) if props.get("removal_policies_mode") != "update" else []
        for policy in props.get("removal_policies") or []:
            for name in (policy or {}).get("resource_list") or []:
                if str(name) not in out:
                    out.append(str(name))
        return out

    @staticmethod
    def _names(removed: list[str], count: int) -> list[str]:
        """The first ``count`` indexes no removal policy took."""
        if count < 0:
            raise ResourceFailure(f"count {count} is out of range (min: 0)")
        names: list[str] = []
        i = 0
        while len(names) < count:
            if str(i) not in removed:
                names.append(str(i))
            i += 1
        return names

    @staticmethod
    def _member(props: dict[str, Any], name: str) -> dict[str, Any]:
        member = member_definition(props["resource_def"])
        result: dict[str, Any] = _with_index(member, props.get("index_var") or "%index%", name)
        return result

    @classmethod
    def _template(
        cls, props: dict[str, Any], removed: list[str], count: int | None = None
    ) -> dict[str, Any]:
        names = cls._names(removed, int(props["count"]) if count is None else count)
        return {
            "heat_template_version": GROUP_VERSION,
            "resources": {n: cls._member(props, n) for n in names},
        }

    async def attributes_of(self, c: Context, child: Any) -> dict[str, Any]:
        return group_attributes(await nested_engine().members(c, child))

    async def create(self, c: Context, props: dict[str, Any]) -> Created:
        removed = self._removed(props, [])
        batch = await rolling.policy_of(c, "batch_create", rolling.BATCH_CREATE)
        count = int(props["count"])
        if batch is None or count <= batch.max_batch_size:
            made = await self._create(c, self._template(props, removed), {})
        else:
            made = await self._batch_create(c, props, removed, batch)
        made.data["__removed"] = removed
        made.attributes["removed_rsrc_list"] = removed
        return made

    async def _batch_create(
        self, c: Context, props: dict[str, Any], removed: list[str], batch: rolling.Batching
    ) -> Created:
        """Heat's batch_create: the nested stack made with the first batch of members, the
        others added by updates of at most ``max_batch_size`` members."""
        steps = rolling.batches(int(props["count"]), 0, batch, grown_count=False)
        made: list[Created] = []

        async def apply(size: int, _new: int) -> None:
            tmpl = self._template(props, removed, size)
            if not made:
                made.append(await self._create(c, tmpl, {}))
            else:
                made[0].attributes = await self._update(c, made[0].physical_id, tmpl, {})

        await rolling.run_batches(c, steps, batch.pause_time, apply)
        return made[0]

    async def update(
        self, c: Context, physical_id: str, data: dict[str, Any], old: dict[str, Any],
        new: dict[str, Any],
    ) -> dict[str, Any]:  # fmt: skip
        removed = self._removed(new, list(data.get("__removed") or []))
        changed = any(old.get(k) != new.get(k) for k in ("resource_def", "index_var"))
        policy = await rolling.policy_of(c, "rolling_update", rolling.ROLLING)
        if changed and policy is not None:
            await self._rolling_update(c, physical_id, new, removed, policy)
        attrs = await self._update(c, physical_id, self._template(new, removed), {})
        return {**attrs, "removed_rsrc_list": removed, "__data": {"__removed": removed}}

    async def _rolling_update(
        self, c: Context, physical_id: str, new: dict[str, Any], removed: list[str],
        policy: rolling.Batching,
    ) -> None:  # fmt: skip
        """The members given the new definition in batches, the highest indexes first; the
        resize to the new count follows."""
        nested = nested_engine()

        async def have() -> dict[str, Any]:
            child = await nested.child(c, physical_id)
            members = (child.template.get("resources") or {}) if child else {}
            return {n: d for n, d in members.items() if n not in removed}

        target = int(new["count"])
        current = len(await have())
        steps = rolling.batches(min(current, target), current, policy, grown_count=False)

        async def apply(size: int, num_new: int) -> None:
            members = await have()
            names = self._names(removed, size)

            def priority(item: tuple[str, Any]) -> int:
                if item[0] not in names:
                    return 0  # not wanted at this size: dropped first
                index = names.index(item[0])
                return target - index if index < target else size

            pool = iter([n for n in names if n not in members])
            batch = rolling.member_definitions(
                sorted(members.items(), key=priority), lambda n: self._member(new, n), size,
                num_new, lambda: next(pool),
            )  # fmt: skip
            tmpl = {"heat_template_version": GROUP_VERSION, "resources": batch}
            await self._update(c, physical_id, tmpl, {})

        await rolling.run_batches(c, steps, policy.pause_time, apply)


PLUGINS: tuple[type[Plugin], ...] = (NestedStack, ResourceGroup)
