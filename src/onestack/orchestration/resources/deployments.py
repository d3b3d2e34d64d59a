"""Heat's deployment variants: StructuredDeployment (a StructuredConfig's map with its
``get_input`` calls replaced by the deployment's input values) and the deployment groups
(SoftwareDeploymentGroup, StructuredDeploymentGroup: one deployment per server of the
``servers`` map, in a nested stack like a ResourceGroup's, named by the map's keys)."""

from __future__ import annotations

from typing import Any

from onestack.orchestration.errors import ResourceFailure, not_allowed
from onestack.orchestration.resources.base import Context, Created, Plugin, Prop
from onestack.orchestration.resources.software import SoftwareDeployment, check_actions
from onestack.orchestration.resources.stacks import (
    GROUP_VERSION,
    StackBacked,
    group_attributes,
    nested_engine,
)
from onestack.orchestration.software import SIGNAL_TRANSPORTS

_STRUCTURED = {
    "input_key": Prop("string", default="get_input",
                      description="Name of key to use for substituting inputs during deployment"),
    "input_values_validate": Prop(
        "string", default="LAX",
        description="Perform a check on the input values passed to verify that each required "
        "input has a corresponding value. When the property is set to STRICT and no value is "
        "passed, an exception is raised.",
    ),
}  # fmt: skip
_VALIDATE = ("LAX", "STRICT")


def _check_validate(props: dict[str, Any], path: str, literal: set[str]) -> str:
    mode = props.get("input_values_validate")
    if "input_values_validate" in literal and mode is not None and mode not in _VALIDATE:
        return f"{path}.input_values_validate: {not_allowed(mode, ('LAX', 'STRICT'))}"
    return ""


def substitute(inputs: dict[str, Any], key: str, snippet: Any, strict: bool) -> Any:
    """Heat's StructuredDeployment.parse: each ``{key: name}`` map becomes input ``name``'s
    value (a missing one None, or an error when ``strict``)."""
    if isinstance(snippet, dict):
        if len(snippet) == 1:
            (fn, arg), = snippet.items()  # fmt: skip
            if fn == key and isinstance(arg, str):
                if strict and arg not in inputs:
                    raise ResourceFailure(f"The Parameter ({arg}) was not provided.")
                return inputs.get(arg)
        return {k: substitute(inputs, key, v, strict) for k, v in snippet.items()}
    if isinstance(snippet, list):
        return [substitute(inputs, key, v, strict) for v in snippet]
    return snippet


class StructuredDeployment(SoftwareDeployment):
    type_name = "OS::Heat::StructuredDeployment"
    description = "A deployment resource like OS::Heat::SoftwareDeployment, but which performs "
    "input value substitution on the config defined by a OS::Heat::StructuredConfig resource."
    properties = {**SoftwareDeployment.properties, **_STRUCTURED}

    @classmethod
    def check_properties(cls, props: dict[str, Any], path: str, literal: set[str]) -> str:
        return super().check_properties(props, path, literal) or _check_validate(
            props, path, literal
        )

    def derived_config(
        self, props: dict[str, Any], source: dict[str, Any], inputs: list[dict[str, Any]]
    ) -> Any:
        values = {str(i["name"]): i.get("value") for i in inputs}
        strict = props.get("input_values_validate") == "STRICT"
        key = str(props.get("input_key") or "get_input")
        return substitute(values, key, source.get("config"), strict) or {}


_GROUP_PROPS = {
    "servers": Prop("map", required=True, update_allowed=True,
                    description="A map of names and server IDs to apply configuration to. The "
                    "name is arbitrary and is used as the Heat resource name for the "
                    "corresponding deployment."),
    **{k: v for k, v in SoftwareDeployment.properties.items() if k != "server"},
}  # fmt: skip
_GROUP_ATTRS = {
    "deploy_stdouts": ("deploy_stdout", "A map of Nova names and captured stdouts from the "
                       "configuration execution to each server."),
    "deploy_stderrs": ("deploy_stderr", "A map of Nova names and captured stderrs from the "
                       "configuration execution to each server."),
    "deploy_status_codes": ("deploy_status_code", "A map of Nova names and returned status "
                            "code from the configuration execution."),
}  # fmt: skip


class SoftwareDeploymentGroup(StackBacked):
    type_name = "OS::Heat::SoftwareDeploymentGroup"
    description = "This resource associates a group of servers with some configuration."
    member_type = SoftwareDeployment.type_name
    properties = _GROUP_PROPS
    attributes = {k: d for k, (_a, d) in _GROUP_ATTRS.items()}

    @classmethod
    def check_properties(cls, props: dict[str, Any], path: str, literal: set[str]) -> str:
        problem = super().check_properties(props, path, literal)
        servers = props.get("servers")
        if not problem and "servers" in literal and isinstance(servers, dict):
            for key in servers:
                if not str(key) or "/" in str(key):
                    problem = f'{path}.servers: "{key}" is not a valid deployment name'
        transport = props.get("signal_transport")
        if not problem and "signal_transport" in literal and transport not in SIGNAL_TRANSPORTS:
            problem = f"{path}.signal_transport: {not_allowed(transport, SIGNAL_TRANSPORTS)}"
        return problem or check_actions(props, path, literal)

    def _template(self, props: dict[str, Any]) -> dict[str, Any]:
        member = {k: v for k, v in props.items() if k != "servers" and v is not None}
        servers = props.get("servers") or {}
        return {
            "heat_template_version": GROUP_VERSION,
            "resources": {
                str(name): {"type": self.member_type, "properties": {**member, "server": sid}}
                for name, sid in servers.items()
            },
        }

    async def attributes_of(self, c: Context, child: Any) -> dict[str, Any]:
        members = await nested_engine().members(c, child)
        out = group_attributes(members)
        del out["attributes"]
        # Heat: any member attribute (a config's declared output) is a map by server name.
        for key in {k for _n, _id, a in members for k in a}:
            out[key] = {n: a.get(key) for n, _id, a in members}
        for name, (attr, _d) in _GROUP_ATTRS.items():
            out[name] = {n: a.get(attr) for n, _id, a in members}
        return out

    async def create(self, c: Context, props: dict[str, Any]) -> Created:
        return await self._create(c, self._template(props), {})

    async def update(
        self, c: Context, physical_id: str, data: dict[str, Any], old: dict[str, Any],
        new: dict[str, Any],
    ) -> dict[str, Any]:  # fmt: skip
        return await self._update(c, physical_id, self._template(new), {})


class StructuredDeploymentGroup(SoftwareDeploymentGroup):
    type_name = "OS::Heat::StructuredDeploymentGroup"
    description = "This resource associates a group of servers with some structured "
    "configuration."
    member_type = StructuredDeployment.type_name
    properties = {**_GROUP_PROPS, **_STRUCTURED}

    @classmethod
    def check_properties(cls, props: dict[str, Any], path: str, literal: set[str]) -> str:
        return super().check_properties(props, path, literal) or _check_validate(
            props, path, literal
        )


class SoftwareDeployments(SoftwareDeploymentGroup):
    type_name = "OS::Heat::SoftwareDeployments"
    description = "Deprecated: use OS::Heat::SoftwareDeploymentGroup instead."


class StructuredDeployments(StructuredDeploymentGroup):
    type_name = "OS::Heat::StructuredDeployments"
    description = "Deprecated: use OS::Heat::StructuredDeploymentGroup instead."


PLUGINS: tuple[type[Plugin], ...] = (
    StructuredDeployment,
    SoftwareDeploymentGroup,
    StructuredDeploymentGroup,
    SoftwareDeployments,
    StructuredDeployments,
)
