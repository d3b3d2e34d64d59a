"""Heat's software configuration types: SoftwareConfig, StructuredConfig, CloudConfig,
MultipartMime (each a stored software config; its id is the resource's) and
SoftwareDeployment (a config applied to a server of the stack, made COMPLETE or FAILED by
the guest's signal; see ``orchestration.software`` for how the guest gets it)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import uuid
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from typing import Any

import yaml

from onestack.common import errors
from onestack.compute.facade import ComputeAPI
from onestack.orchestration.errors import ResourceFailure, not_allowed
from onestack.orchestration.resources.base import Context, Created, Plugin, Prop, Replace
from onestack.orchestration.schemas import (
    GROUPS,
    SoftwareConfigCreate,
    SoftwareDeploymentCreate,
    SoftwareDeploymentUpdate,
    check_group,
)
from onestack.orchestration.software import SIGNAL_TRANSPORTS, SoftwareService, signal_url

DEPLOY_ACTIONS = ("CREATE", "UPDATE", "DELETE", "SUSPEND", "RESUME")
DEPLOY_TIMEOUT = 3600.0  # seconds a deployment waits for its guest's signal
POLL = 0.5


def _svc(c: Context) -> SoftwareService:
    return c.runtime.service(SoftwareService)


class _StoredConfig(Plugin):
    """A resource that is one software config, made once (any change makes a new one)."""

    attributes = {"config": "The config value of the software config."}

    def group(self, props: dict[str, Any]) -> str:
        return str(props.get("group") or "Heat::Ungrouped")

    async def text(self, c: Context, props: dict[str, Any]) -> Any:
        return props.get("config") or ""

    async def create(self, c: Context, props: dict[str, Any]) -> Created:
        config = await self.text(c, props)
        group = self.group(props)
        try:
            row = await _svc(c).create_config(
                c.ctx,
                SoftwareConfigCreate.model_validate({
                    "name": f"{c.stack_name}-{c.resource_name}",
                    "group": group,
                    "config": config,
                    "inputs": props.get("inputs") or [],
                    "outputs": props.get("outputs") or [],
                    "options": props.get("options") or {},
                }),
            )  # fmt: skip
        except errors.BadRequest as exc:
            raise ResourceFailure(exc.message) from None
        return Created(row.id, {"config": config})

    async def delete(self, c: Context, physical_id: str, data: dict[str, Any]) -> None:
        await _svc(c).delete_config(c.ctx, physical_id)


def _check_group(props: dict[str, Any], path: str, literal: set[str]) -> str:
    group = props.get("group")
    if "group" in literal and isinstance(group, str) and group not in GROUPS:
        return (
            f'{path}.group: Software config group "{group}" is not supported: this cloud\'s '
            f"guest hook applies {' and '.join(GROUPS)}."
        )
    return ""


class SoftwareConfig(_StoredConfig):
    type_name = "OS::Heat::SoftwareConfig"
    description = "A resource for describing and storing software configuration."
    properties = {
        "group": Prop(
            "string",
            default="Heat::Ungrouped",
            description="Namespace to group this software config by when delivered to a server.",
        ),
        "config": Prop("string", description="Configuration script or manifest."),
        "options": Prop("map", description="Map containing options specific to this group."),
        "inputs": Prop("list", description="Schema representing the inputs this config expects."),
        "outputs": Prop(
            "list", description="Schema representing the outputs this config produces."
        ),
    }

    @classmethod
    def check_properties(cls, props: dict[str, Any], path: str, literal: set[str]) -> str:
        return super().check_properties(props, path, literal) or _check_group(props, path, literal)


class StructuredConfig(SoftwareConfig):
    type_name = "OS::Heat::StructuredConfig"
    description = "A resource which has same logic with OS::Heat::SoftwareConfig, its config "
    "is a map (for the groups that take structured data)."
    properties = {**SoftwareConfig.properties, "config": Prop("map", description="Map "
                  "representing the configuration data structure.")}  # fmt: skip


class CloudConfig(_StoredConfig):
    type_name = "OS::Heat::CloudConfig"
    description = "A configuration resource for representing cloud-init cloud-config."
    properties = {"cloud_config": Prop("map", description="Map representing the cloud-config "
                  "data structure which will be formatted as YAML.")}  # fmt: skip

    async def text(self, c: Context, props: dict[str, Any]) -> Any:
        body = yaml.safe_dump(props.get("cloud_config") or {}, default_flow_style=False)
        return f"#cloud-config\n{body}"


class MultipartMime(_StoredConfig):
    type_name = "OS::Heat::MultipartMime"
    description = "Assembles a collection of software configurations as a multi-part mime."
    properties = {
        "parts": Prop(
            "list",
            default=[],
            description="Parts belonging to this message: "
            "maps of config, filename, subtype, type (text or multipart).",
        ),
        "group": Prop(
            "string",
            default="Heat::Ungrouped",
            description="Namespace to group this software config by when delivered to a server.",
        ),
    }

    @classmethod
    def check_properties(cls, props: dict[str, Any], path: str, literal: set[str]) -> str:
        problem = super().check_properties(props, path, literal) or _check_group(
            props, path, literal
        )
        if problem or "parts" not in literal:
            return problem
        for i, part in enumerate(props.get("parts") or []):
            if not isinstance(part, dict) or "config" not in part:
                return f"{path}.parts[{i}]: Property config not assigned"
            if part.get("type", "text") not in ("text", "multipart"):
                return f"{path}.parts[{i}].type: {not_allowed(part['type'], ('text', 'multipart'))}"
        return ""

    async def text(self, c: Context, props: dict[str, Any]) -> Any:
        subparts: list[Any] = []
        for item in props.get("parts") or []:
            part = str(item.get("config") or "")
            with contextlib.suppress(ValueError, errors.NotFound):
                uuid.UUID(part)  # a software config's id: its text goes in
                part = str((await _svc(c).config(c.ctx, part)).config.get("config", ""))
            if item.get("type") == "multipart":
                from email import message_from_string

                subparts.extend(message_from_string(part).get_payload() or [])
                continue
            filename = str(item.get("filename") or "")
            subtype = str(item.get("subtype") or "") or (
                os.path.splitext(filename)[0] if filename else ""
            )
            msg = MIMEText(part, _subtype=subtype) if subtype else MIMEText(part)
            if filename:
                msg.add_header("Content-Disposition", "attachment", filename=filename)
            subparts.append(msg)
        return MIMEMultipart(_subparts=subparts).as_string()


class SoftwareDeployment(Plugin):
    type_name = "OS::Heat::SoftwareDeployment"
    description = "This resource associates a server with some configuration."
    properties = {
        "config": Prop(
            "string",
            description="ID of software configuration resource to "
            "execute when applying to the server.",
            update_allowed=True,
        ),
        "server": Prop(
            "string", required=True, description="ID of resource to apply configuration to."
        ),
        "input_values": Prop(
            "map",
            default={},
            description="Input values to apply to the software configuration on this server.",
            update_allowed=True,
        ),
        "actions": Prop(
            "list",
            default=["CREATE", "UPDATE"],
            description="Which lifecycle "
            "actions of the deployment resource will result in this deployment "
            "being triggered.",
            update_allowed=True,
        ),
        "name": Prop(
            "string",
            description="Name of the derived config associated with this deployment.",
            update_allowed=True,
        ),
        "signal_transport": Prop(
            "string",
            default="CFN_SIGNAL",
            description="How the server should signal to heat with the deployment output values.",
        ),
    }
    attributes = {
        "deploy_stdout": "Captured stdout from the configuration execution.",
        "deploy_stderr": "Captured stderr from the configuration execution.",
        "deploy_status_code": "Returned status code from the configuration execution.",
    }
    # A config's declared outputs are attributes too: any name is accepted.
    open_attributes = True

    @classmethod
    def check_properties(cls, props: dict[str, Any], path: str, literal: set[str]) -> str:
        problem = super().check_properties(props, path, literal)
        transport = props.get("signal_transport")
        if not problem and "signal_transport" in literal and transport not in SIGNAL_TRANSPORTS:
            problem = f"{path}.signal_transport: {not_allowed(transport, SIGNAL_TRANSPORTS)}"
        return problem or check_actions(props, path, literal)

    async def _source(self, c: Context, props: dict[str, Any]) -> dict[str, Any]:
        """The config the deployment applies (an empty script when it names none)."""
        source: dict[str, Any] = {"group": "Heat::Ungrouped", "config": "", "inputs": [],
                                  "outputs": [], "options": {}}  # fmt: skip
        if props.get("config"):
            try:
                row = await _svc(c).config(c.ctx, str(props["config"]))
            except errors.NotFound as exc:
                raise ResourceFailure(exc.message) from None
            source = {"group": row.group, **row.config}
        try:
            check_group(source["group"])
        except errors.BadRequest as exc:
            raise ResourceFailure(exc.message) from None
        return source

    def _inputs(
        self, c: Context, props: dict[str, Any], source: dict[str, Any], action: str, dep_id: str
    ) -> list[dict[str, Any]]:
        """Heat's derived inputs: the config's declared ones with their values, undeclared
        input values, then the deploy_* ones the guest signals back with."""
        transport = str(props.get("signal_transport") or "CFN_SIGNAL")
        values = dict(props.get("input_values") or {})
        inputs = []
        for item in source.get("inputs") or []:
            item = dict(item)
            item["value"] = values.pop(item["name"], item.get("default"))
            inputs.append(item)
        inputs += [{"name": k, "type": "String", "value": v} for k, v in values.items()]
        extra = {
            "deploy_server_id": str(props["server"]),
            "deploy_action": action,
            "deploy_stack_id": f"{c.stack_name}/{c.stack_id}",
            "deploy_resource_name": c.resource_name,
            "deploy_signal_transport": transport,
        }
        if transport != "NO_SIGNAL":
            extra["deploy_signal_id"] = signal_url(c.runtime, c.ctx.project_id or "", dep_id)
            extra["deploy_signal_verb"] = "POST"
        inputs += [{"name": k, "type": "String", "value": v} for k, v in extra.items()]
        return inputs

    def derived_config(
        self, props: dict[str, Any], source: dict[str, Any], inputs: list[dict[str, Any]]
    ) -> Any:
        """The config body the server gets (a structured deployment substitutes inputs)."""
        return source.get("config") or ""

    async def _deploy(
        self, c: Context, props: dict[str, Any], source: dict[str, Any], action: str, dep_id: str
    ) -> tuple[str, dict[str, Any]]:
        """The derived config for ``action`` stored, and the deployment's new fields."""
        inputs = self._inputs(c, props, source, action, dep_id)
        derived = await _svc(c).create_config(
            c.ctx,
            SoftwareConfigCreate.model_validate({
                "name": props.get("name") or c.resource_name,
                "group": source["group"],
                "config": self.derived_config(props, source, inputs),
                "inputs": inputs,
                "outputs": source.get("outputs") or [],
                "options": source.get("options") or {},
            }),
        )  # fmt: skip
        waits = props.get("signal_transport") != "NO_SIGNAL"
        return derived.id, {
            "config_id": derived.id,
            "input_values": {i["name"]: i.get("value") for i in inputs},
            "action": action,
            "status": "IN_PROGRESS" if waits else "COMPLETE",
            "status_reason": "Deploy data available" if waits else "Not waiting for outputs "
            "signal",
        }  # fmt: skip

    async def _wait(self, c: Context, dep_id: str, server: str | None = None) -> dict[str, Any]:
        """Until the guest's signal: the deployment's outputs, or its failure raised. With
        ``server``: until that server is gone too (nothing is left to signal: Heat's
        check_delete_complete)."""
        svc = _svc(c)
        dep = await svc.deployment(c.ctx, dep_id)
        deadline = time.monotonic() + DEPLOY_TIMEOUT
        while dep.status == "IN_PROGRESS":
            if server is not None and not await server_exists(c, server):
                return {}
            if time.monotonic() > deadline:
                raise DeploymentFailed(dep_id, "Deployment to server failed: timed out")
            await asyncio.sleep(POLL)
            dep = await svc.deployment(c.ctx, dep_id)
        if dep.status == "FAILED":
            raise DeploymentFailed(dep_id, f"Deployment to server failed: {dep.status_reason}")
        return _attributes(dep.output_values)

    async def create(self, c: Context, props: dict[str, Any]) -> Created:
        bad = check_actions(props, "properties", {"actions"})
        if bad:  # a parameter's value, known only now
            raise ResourceFailure(f"Property error: {bad}")
        source = await self._source(c, props)
        dep_id = str(uuid.uuid4())
        derived, fields = await self._deploy(c, props, source, "CREATE", dep_id)
        if "CREATE" not in (props.get("actions") or []):
            fields.update(status="COMPLETE", status_reason="Not waiting for outputs signal")
        fields.update(server_id=str(props["server"]))
        await _svc(c).create_deployment(
            c.ctx, SoftwareDeploymentCreate.model_validate(fields), dep_id
        )
        try:
            outputs = await self._wait(c, dep_id)
        except asyncio.CancelledError:
            await _cancelled(c, dep_id)
            raise
        return Created(dep_id, outputs, {"derived_config": derived})

    async def update(
        self, c: Context, physical_id: str, data: dict[str, Any], old: dict[str, Any],
        new: dict[str, Any],
    ) -> dict[str, Any]:  # fmt: skip
        """Heat's handle_update: the deployment re-run in place (action UPDATE, IN_PROGRESS
        until the guest signals) with a new derived config; replaced when an input marked
        ``replace_on_change`` changed, left alone when UPDATE is not one of its actions."""
        svc = _svc(c)
        try:
            dep = await svc.deployment(c.ctx, physical_id)
        except errors.NotFound:
            raise Replace() from None
        previous = {i["name"]: i for i in (await self._previous_inputs(c, dep.config_id))}
        source = await self._source(c, new)
        for item in self._inputs(c, new, source, "UPDATE", physical_id):
            before = previous.get(item["name"])
            if (
                item.get("replace_on_change")
                and before is not None
                and (before.get("value") != item.get("value"))
            ):
                raise Replace()
        if "UPDATE" not in (new.get("actions") or []):
            return {}
        derived, fields = await self._deploy(c, new, source, "UPDATE", physical_id)
        await svc.update_deployment(
            c.ctx, physical_id, SoftwareDeploymentUpdate.model_validate(fields)
        )
        with contextlib.suppress(errors.NotFound, errors.BadRequest):
            await svc.delete_config(c.ctx, dep.config_id)
        return {**await self._wait(c, physical_id), "__data": {"derived_config": derived}}

    async def _previous_inputs(self, c: Context, config_id: str) -> list[dict[str, Any]]:
        try:
            return list((await _svc(c).config(c.ctx, config_id)).config.get("inputs") or [])
        except errors.NotFound:
            return []

    async def refresh(
        self, c: Context, physical_id: str, data: dict[str, Any]
    ) -> dict[str, Any] | None:
        return _attributes((await _svc(c).deployment(c.ctx, physical_id)).output_values)

    signal_while_creating = True
    signal_while_deleting = True

    async def signal(self, c: Context, row: Any, details: dict[str, Any]) -> None:
        """Heat's HEAT_SIGNAL transport: ``stack resource signal`` with the guest's outcome
        completes the deployment the create waits on, as its signal URL would."""
        svc = _svc(c)
        ids = [row.physical_resource_id] if row.physical_resource_id else []
        ids += await self.orphans(c)
        for dep_id in ids:
            if (await svc.deployment(c.ctx, dep_id)).status == "IN_PROGRESS":
                await svc.signal(dep_id, details)
                return
        raise errors.BadRequest(f"Resource {c.resource_name} has no deployment in progress "
                                "to signal")  # fmt: skip

    async def _rerun(
        self, c: Context, physical_id: str, data: dict[str, Any], action: str,
        server: str | None = None,
    ) -> None:  # fmt: skip
        """Heat's _handle_action for DELETE, SUSPEND and RESUME: when ``action`` is one of the
        deployment's actions it runs again with a new derived config for it, and the
        resource waits for the guest's signal (the deployment IN_PROGRESS until then)."""
        if action not in (data.get("actions") or []):
            return
        svc = _svc(c)
        dep = await svc.deployment(c.ctx, physical_id)
        source = await self._source(c, data)
        _derived, fields = await self._deploy(c, data, source, action, physical_id)
        await svc.update_deployment(
            c.ctx, physical_id, SoftwareDeploymentUpdate.model_validate(fields)
        )
        with contextlib.suppress(errors.NotFound, errors.BadRequest):
            await svc.delete_config(c.ctx, dep.config_id)
        await self._wait(c, physical_id, server)

    async def suspend(self, c: Context, physical_id: str, data: dict[str, Any]) -> None:
        await self._rerun(c, physical_id, data, "SUSPEND")

    async def resume(self, c: Context, physical_id: str, data: dict[str, Any]) -> None:
        await self._rerun(c, physical_id, data, "RESUME")

    async def delete(self, c: Context, physical_id: str, data: dict[str, Any]) -> None:
        """Heat's handle_delete: the DELETE action run when the deployment's server is
        still there (a server gone can neither run it nor signal), then the deployment
        and its derived config removed."""
        svc = _svc(c)
        with contextlib.suppress(errors.NotFound):
            dep = await svc.deployment(c.ctx, physical_id)
            if await server_exists(c, dep.server_id):
                await self._rerun(c, physical_id, data, "DELETE", dep.server_id)
            dep = await svc.deployment(c.ctx, physical_id)
            await svc.delete_deployment(c.ctx, physical_id)
            with contextlib.suppress(errors.NotFound):
                await svc.delete_config(c.ctx, dep.config_id)

    async def orphans(self, c: Context) -> list[str]:
        """Deployments a create left before its id was recorded: their derived config names
        this stack and resource."""
        svc = _svc(c)
        mark = f"{c.stack_name}/{c.stack_id}"
        found = []
        for dep in await svc.deployments(c.ctx, None):
            values = dep.input_values or {}
            if values.get("deploy_stack_id") == mark and (
                values.get("deploy_resource_name") == c.resource_name
            ):
                found.append(dep.id)
        return found


async def _cancelled(c: Context, dep_id: str) -> None:
    """Heat's handle_create_cancel: a deployment still waiting when its stack's create is cut
    short (its timeout, a delete) fails, its server no longer expected to signal it."""
    svc = _svc(c)
    gone = SoftwareDeploymentUpdate(status="FAILED", status_reason="Deployment cancelled.")
    # Best effort: the cancel itself must go on whatever this meets (a shutting-down store).
    with contextlib.suppress(Exception):
        if (await svc.deployment(c.ctx, dep_id)).status == "IN_PROGRESS":
            await svc.update_deployment(c.ctx, dep_id, gone)


async def server_exists(c: Context, server_id: str) -> bool:
    try:
        await c.runtime.service(ComputeAPI).get_server(c.ctx, server_id)
    except (errors.NotFound, errors.BadRequest):
        return False
    return True


def check_actions(props: dict[str, Any], path: str, literal: set[str]) -> str:
    """The first of ``actions`` Heat does not allow, or ""."""
    actions = props.get("actions")
    if "actions" not in literal or not isinstance(actions, list):
        return ""
    for index, action in enumerate(actions):
        if isinstance(action, str | int | float) and action not in DEPLOY_ACTIONS:
            return f"{path}.actions[{index}]: {not_allowed(action, DEPLOY_ACTIONS)}"
    return ""


def _attributes(outputs: dict[str, Any]) -> dict[str, Any]:
    out = {"deploy_stdout": None, "deploy_stderr": None, "deploy_status_code": None}
    out.update(outputs or {})
    return out


class DeploymentFailed(ResourceFailure):
    """A deployment the guest reported failed: its id is kept so a delete removes it."""

    def __init__(self, physical_id: str, reason: str) -> None:
        super().__init__(reason)
        self.physical_id = physical_id


PLUGINS: tuple[type[Plugin], ...] = (
    SoftwareConfig,
    StructuredConfig,
    CloudConfig,
    MultipartMime,
    SoftwareDeployment,
)
