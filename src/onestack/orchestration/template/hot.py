"""A HOT document: parsed (YAML or JSON), its version checked, its sections read, and the
whole checked before anything is created, each error naming the resource and the path."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import yaml

from onestack.orchestration.errors import (
    CircularDependencyException,
    InvalidTemplateReference,
    InvalidTemplateVersion,
    StackValidationFailed,
)
from onestack.orchestration.resources import plugin_type
from onestack.orchestration.resources.base import Checking
from onestack.orchestration.template import cfn, functions, hotlegacy, parameters
from onestack.orchestration.template.functions import Ref

SECTIONS = {
    "heat_template_version", "description", "parameter_groups", "parameters", "resources",
    "outputs", "conditions",
}  # fmt: skip
RESOURCE_KEYS = {
    "type", "properties", "metadata", "depends_on", "update_policy", "deletion_policy",
    "condition", "external_id", "description",
}  # fmt: skip
PSEUDO_PARAMS = ("OS::stack_name", "OS::stack_id", "OS::project_id")


def template_versions() -> list[dict[str, Any]]:
    """Heat's list: each HOT version with its release-name aliases, and CloudFormation's."""
    cfn_versions = [{"version": v, "type": "cfn", "aliases": []} for v in cfn.version_names()]
    return [
        {
            "version": f"heat_template_version.{v}",
            "type": "hot",
            "aliases": [
                f"heat_template_version.{a}" for a, d in functions.ALIASES.items() if d == v
            ],
        }
        for v in functions.VERSIONS
    ] + cfn_versions


def load(text: str) -> Any:
    """YAML (a JSON document is YAML too); 400 with the parser's words when malformed."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise StackValidationFailed(message=f"Error parsing template: {exc}") from None
    # YAML's dates (heat_template_version: 2018-08-31) become the strings JSON stores.
    return json.loads(json.dumps(doc, default=str))


@dataclass
class ResourceDef:
    name: str
    type: str
    properties: dict[str, Any]
    depends_on: list[str]
    deletion_policy: str
    condition: Any
    refs: list[Ref] = field(default_factory=list)
    update_policy: Any = None
    external_id: Any = None  # a resource made elsewhere, which the stack takes as it is
    metadata: Any = None  # its ``metadata`` section, unresolved (a map or one function call)


@dataclass
class Template:
    raw: dict[str, Any]
    version: str
    functions: frozenset[str]
    description: str
    parameters: dict[str, parameters.Parameter]
    resources: dict[str, ResourceDef]
    outputs: dict[str, dict[str, Any]]
    conditions: dict[str, Any]
    registry: dict[str, Any] = field(default_factory=dict)


def _version(raw: dict[str, Any]) -> str:
    if "heat_template_version" not in raw:
        keys = ", ".join(f'"{k}"' for k in ("heat_template_version",))
        raise InvalidTemplateVersion(
            explanation=f"Template format version not found. Supported: {keys}"
        )
    value = raw["heat_template_version"]
    text = value.isoformat() if isinstance(value, date) else str(value)
    if text not in functions.VERSIONS and text not in functions.ALIASES:
        supported = ", ".join(f'"heat_template_version.{v}"' for v in functions.VERSIONS)
        raise InvalidTemplateVersion(
            explanation=f'"heat_template_version: {text}". "heat_template_version" should be '
            f"one of: {supported}"
        )
    return text


def parse(raw: Any, registry: dict[str, Any] | None = None) -> Template:
    """The template's sections, each checked for shape (not yet against parameter values);
    resource types mapped through the environment's ``resource_registry``. A CloudFormation
    template is read as the HOT document it translates to, and keeps its own text."""
    if isinstance(raw, str):
        raw = load(raw)
    if not isinstance(raw, dict):
        raise StackValidationFailed(message="The template is not a JSON object or YAML mapping.")
    if cfn.is_cfn(raw):
        tmpl = _parse(cfn.translate(raw), registry, cfn.FUNCTIONS)
        tmpl.raw = raw
        return tmpl
    version = _version(raw)
    tmpl = _parse(hotlegacy.translate(raw, version), registry, hotlegacy.kept(version))
    tmpl.raw = raw
    return tmpl


def _parse(raw: dict[str, Any], registry: dict[str, Any] | None, extra: frozenset[str]) -> Template:
    version = _version(raw)
    for key in raw:
        if key not in SECTIONS:
            raise StackValidationFailed(message=f"The template section is invalid: {key}")
    fns = functions.version_functions(version) | extra
    resources_raw = raw.get("resources") or {}
    if not isinstance(resources_raw, dict):
        raise StackValidationFailed(message="The template section is invalid: resources")
    resources = {str(n): _resource(str(n), d, fns) for n, d in resources_raw.items()}
    for rdef in resources.values():
        rdef.type = _registered(rdef, registry or {})
    outputs = raw.get("outputs") or {}
    if not isinstance(outputs, dict) or not all(isinstance(o, dict) for o in outputs.values()):
        raise StackValidationFailed(message="The template section is invalid: outputs")
    conditions = raw.get("conditions") or {}
    if not isinstance(conditions, dict):
        raise StackValidationFailed(message="The template section is invalid: conditions")
    params = parameters.parse_parameters(raw.get("parameters"))
    _check_groups(raw.get("parameter_groups"), params)
    return Template(
        raw=raw,
        version=version,
        functions=fns,
        description=str(raw.get("description", "")),
        parameters=params,
        resources=resources,
        outputs=outputs,
        conditions=conditions,
        registry=dict(registry or {}),
    )


def _check_groups(groups: Any, params: dict[str, parameters.Parameter]) -> None:
    """Heat's ParameterGroups.validate: a list of groups, each listing parameters of the
    template, none in two groups."""
    if not groups:
        return

    def fail(label: Any, text: str) -> StackValidationFailed:
        where = "parameter_groups" + (f".{label}" if label is not None else "")
        return StackValidationFailed(message=f"Parameter Groups error: {where}: {text}")

    if not isinstance(groups, list):
        raise fail(None, "The parameter_groups should be a list.")
    grouped: set[str] = set()
    for group in groups:
        label = group.get("label", "") if isinstance(group, dict) else ""
        names = group.get("parameters") if isinstance(group, dict) else None
        if names is None:
            raise fail(label, "The parameters must be provided for each parameter group.")
        if not isinstance(names, list):
            raise fail(label, "The parameters of parameter group should be a list.")
        for name in names:
            if name in grouped:
                raise fail(label, f"The {name} parameter must be assigned to one parameter "
                                  "group only.")  # fmt: skip
            grouped.add(name)
            if name not in params:
                raise fail(label, f"The grouped parameter {name} does not reference a valid "
                                  "parameter.")  # fmt: skip


def _resource(name: str, body: Any, fns: frozenset[str]) -> ResourceDef:
    path = f"resources.{name}"
    if not isinstance(body, dict):
        raise StackValidationFailed(message=f"{path}: Resource definition must be a map")
    for key in body:
        if key not in RESOURCE_KEYS:
            raise StackValidationFailed(message=f'{path}: "{key}" is not a valid keyword '
                                        "inside a resource definition")  # fmt: skip
    rtype = body.get("type")
    if not isinstance(rtype, str):
        raise StackValidationFailed(message=f'{path}: Resource {name} is missing "type"')
    props = body.get("properties") or {}
    if not isinstance(props, dict):
        raise StackValidationFailed(message=f"{path}.properties: Properties must be a map")
    deps = body.get("depends_on") or []
    deps = [deps] if isinstance(deps, str) else deps
    if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
        raise StackValidationFailed(message=f"{path}.depends_on: must be a name or list of names")
    policy = str(body.get("deletion_policy", "Delete"))
    if policy not in ("Delete", "Retain", "Snapshot"):
        raise StackValidationFailed(message=f'{path}.deletion_policy: Invalid deletion policy '
                                    f'"{policy}"')  # fmt: skip
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise StackValidationFailed(message=f"{path}: Resource {name} metadata type must be "
                                    "object")  # fmt: skip
    refs = functions.references(props, fns, f"{path}.properties")
    refs += functions.references(metadata or {}, fns, f"{path}.metadata")
    refs += functions.references(body.get("external_id"), fns, f"{path}.external_id")
    return ResourceDef(
        name,
        rtype,
        props,
        deps,
        policy,
        body.get("condition"),
        refs,
        body.get("update_policy"),
        body.get("external_id"),
        metadata,
    )


def _registered(rdef: ResourceDef, registry: dict[str, Any]) -> str:
    """The type ``rdef`` is made as: the registry's mapping of its type, another type or a
    template (a key of the client's ``files``: a template resource, made as a nested
    stack)."""
    mapped = registry.get(rdef.type)
    if mapped is None:
        return rdef.type
    if not isinstance(mapped, str):
        raise StackValidationFailed(
            message=f"resources.{rdef.name}: resource_registry maps {rdef.type} to a non-string"
        )
    return mapped


class _CondScope:
    """Scope for evaluating conditions: parameters and other conditions only."""

    def __init__(self, tmpl: Template, values: dict[str, Any]) -> None:
        self.tmpl, self.values, self.seen = tmpl, values, dict[str, bool]()
        self.stack: list[str] = []

    def param(self, name: str) -> Any:
        if name not in self.values:
            raise StackValidationFailed(message=f"The Parameter ({name}) could not be found.")
        return self.values[name]

    def resource_ref(self, name: str) -> Any:
        raise StackValidationFailed(message="Conditions may not refer to resources")

    def attribute(self, resource: str, attr: str | None) -> Any:
        raise StackValidationFailed(message="Conditions may not refer to resources")

    def file(self, name: str) -> Any:
        raise StackValidationFailed(message="Conditions may not use get_file")

    def parent_facade(self, attr: str) -> Any:
        raise StackValidationFailed(message="Conditions may not use resource_facade")

    def condition(self, name: str) -> bool:
        if name in self.seen:
            return self.seen[name]
        if name not in self.tmpl.conditions:
            raise StackValidationFailed(message=f'Invalid condition "{name}"')
        if name in self.stack:
            raise CircularDependencyException(cycle=" -> ".join([*self.stack, name]))
        self.stack.append(name)
        value = bool(functions.evaluate(self.tmpl.conditions[name], self.tmpl.functions, self,
                                        f"conditions.{name}"))  # fmt: skip
        self.stack.pop()
        self.seen[name] = value
        return value


def evaluate_conditions(tmpl: Template, values: dict[str, Any]) -> dict[str, bool]:
    scope = _CondScope(tmpl, values)
    return {name: scope.condition(name) for name in tmpl.conditions}


def active(tmpl: Template, conds: dict[str, bool]) -> dict[str, ResourceDef]:
    """The resources whose condition holds (a condition is a name or a literal boolean)."""
    out = {}
    for name, rdef in tmpl.resources.items():
        cond = rdef.condition
        if cond is None or (conds.get(cond, False) if isinstance(cond, str) else bool(cond)):
            out[name] = rdef
    return out


def check(
    tmpl: Template,
    values: dict[str, Any],
    files: dict[str, Any],
    max_resources: int,
    trail: tuple[str, ...] = (),
    lenient: bool = False,
) -> tuple[dict[str, ResourceDef], dict[str, bool]]:
    """Everything that can be known before creating: types, properties, references,
    attributes, the dependency graph (no cycle). Returns the active resources."""
    conds = evaluate_conditions(tmpl, values)
    live = active(tmpl, conds)
    if max_resources >= 0 and len(live) > max_resources:
        raise StackValidationFailed(message=f"Maximum resources per stack exceeded "
                                    f"({len(live)} > {max_resources}).")  # fmt: skip
    for name, rdef in live.items():
        plugin = plugin_type(rdef.type)
        path = f"resources.{name}"
        if plugin is None:
            raise StackValidationFailed(
                message=f"{path}: The Resource Type ({rdef.type}) could not be found."
            )
        if rdef.deletion_policy == "Snapshot" and not plugin.takes_snapshot_delete():
            raise StackValidationFailed(  # Heat's validate_deletion_policy
                message=f'{path}.deletion_policy: "Snapshot" deletion policy not supported'
            )
        literal = {k for k, v in rdef.properties.items() if not _is_call(v, tmpl.functions)}
        problem = plugin.check_properties(rdef.properties, f"{path}.properties", literal)
        if problem:
            raise StackValidationFailed(message=f"Property error: {problem}")
        plugin.check_definition(rdef, Checking(tmpl, values, files, max_resources, trail, lenient))
        for dep in rdef.depends_on:
            if dep not in live:
                raise InvalidTemplateReference(resource=dep, key=f"{path}.depends_on")
        _check_refs(rdef.refs, tmpl, live, values, files)
    for name, out in tmpl.outputs.items():
        refs = functions.references(out.get("value"), tmpl.functions, f"outputs.{name}.value")
        # A parameter the template lacks is that output's error, not the stack's (Heat's).
        _check_refs([r for r in refs if r.kind != "param"], tmpl, tmpl.resources, values, files)
    order(live)
    return live, conds


def _is_call(value: Any, fns: frozenset[str]) -> bool:
    if isinstance(value, dict):
        return (len(value) == 1 and next(iter(value)) in fns) or any(
            _is_call(v, fns) for v in value.values()
        )
    if isinstance(value, list):
        return any(_is_call(v, fns) for v in value)
    return False


def _check_refs(
    refs: list[Ref],
    tmpl: Template,
    resources: dict[str, ResourceDef],
    values: dict[str, Any],
    files: dict[str, Any],
) -> None:
    for ref in refs:
        if ref.kind == "param" and ref.target not in values and ref.target not in PSEUDO_PARAMS:
            raise StackValidationFailed(message=_missing_param(ref))
        if ref.kind in ("resource", "attr") and ref.target not in resources:
            raise InvalidTemplateReference(resource=ref.target, key=ref.path)
        if ref.kind == "file" and ref.target not in files:
            raise StackValidationFailed(
                message=f"{ref.path}: No content found in the "
                f'"files" section for get_file path: {ref.target}'
            )
        if ref.kind == "attr" and ref.attr is not None:
            plugin = plugin_type(resources[ref.target].type)
            if (
                plugin is not None
                and not plugin.open_attributes
                and ref.attr not in plugin.attributes
                and ref.attr != "show"
            ):
                raise StackValidationFailed(
                    message=f"{ref.path}: The Referenced Attribute ({ref.target} {ref.attr}) "
                    "is incorrect."
                )


def _missing_param(ref: Ref) -> str:
    """Heat's message for a parameter the template lacks: in a resource's properties, the
    properties' validation names the property (``resources.a.properties.length``)."""
    head, sep, rest = ref.path.partition(".properties.")
    if not sep or not head.startswith("resources."):
        return f"{ref.path}: The Parameter ({ref.target}) could not be found."
    prop = re.split(r"[.\[]", rest, maxsplit=1)[0]
    return (
        f"Property error: : {head}.properties.{prop}: : The Parameter ({ref.target}) was not "
        "provided."
    )


def requires(rdef: ResourceDef, live: dict[str, ResourceDef]) -> set[str]:
    """The resources ``rdef`` waits for: depends_on, get_resource and get_attr targets, and
    the subnets Heat makes it wait for (``_subnets_of_its_networks``)."""
    deps = set(rdef.depends_on)
    deps |= {r.target for r in rdef.refs if r.kind in ("resource", "attr")}
    deps |= _subnets_of_its_networks(rdef, live)
    deps |= _router_interfaces(rdef, live)
    return {d for d in deps if d in live and d != rdef.name}


def _router_interfaces(rdef: ResourceDef, live: dict[str, ResourceDef]) -> set[str]:
    """A floating IP's association with a port waits for the stack's router interfaces (the
    port's subnet must be routed to the floating network), so is undone before them (else
    the interface's delete is RouterInterfaceInUseByFloatingIP). Which subnet the port is on
    is not known before it exists: every interface, as Heat's
    ``FloatingIPAssociation.add_dependencies`` when the port names no fixed IP."""
    props = rdef.properties if isinstance(rdef.properties, dict) else {}
    if rdef.type == "OS::Neutron::FloatingIPAssociation" or (
        rdef.type == "OS::Neutron::FloatingIP" and props.get("port_id")
    ):
        return {n for n, other in live.items() if other.type == "OS::Neutron::RouterInterface"}
    return set()


def _subnets_of_its_networks(rdef: ResourceDef, live: dict[str, ResourceDef]) -> set[str]:
    """Heat's implicit dependencies: a server or port on a network waits for every subnet
    of that network in the stack (which subnet it gets an address of is not known), so is
    deleted before them (else the subnet's delete finds the port's address: SubnetInUse).
    A server entry naming no network (only a port or a subnet) may be on any of them, and
    a subnet whose network is not known may be the server's: both are waited for, as
    Heat's ``Server.add_dependencies`` does."""
    props = rdef.properties if isinstance(rdef.properties, dict) else {}
    unknown = False
    if rdef.type == "OS::Nova::Server":
        entries = props.get("networks")
        entries = [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []
        nets = [e.get("network") or e.get("uuid") for e in entries]
        unknown = not all(nets)
    elif rdef.type == "OS::Neutron::Port":
        nets = [props.get("network") or props.get("network_id")]
    else:
        return set()
    nets = [n for n in nets if n]
    if not nets and not unknown:
        return set()
    out = set()
    for name, other in live.items():
        if other.type != "OS::Neutron::Subnet" or not isinstance(other.properties, dict):
            continue
        net = other.properties.get("network") or other.properties.get("network_id")
        if unknown or net in nets or (rdef.type == "OS::Nova::Server" and not net):
            out.add(name)
    return out


def order(live: dict[str, ResourceDef]) -> list[str]:
    """A creation order; 400 naming the cycle when there is one."""
    graph = {name: requires(rdef, live) for name, rdef in live.items()}
    for name, rdef in live.items():
        if any(r.target == name for r in rdef.refs if r.kind in ("resource", "attr")) or (
            name in rdef.depends_on
        ):
            raise CircularDependencyException(cycle=f"{name} -> {name}")
    done: list[str] = []
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        if state.get(node) == 2:
            return
        if state.get(node) == 1:
            cycle = [*trail[trail.index(node) :], node]
            raise CircularDependencyException(cycle=" -> ".join(cycle))
        state[node] = 1
        for dep in sorted(graph[node]):
            visit(dep, [*trail, node])
        state[node] = 2
        done.append(node)

    for node in sorted(graph):
        visit(node, [])
    return done
