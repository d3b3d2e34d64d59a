"""The orchestration API's request bodies, declared as models taken through
``common.api.body``, with Heat's wording.

Heat checks its bodies by hand in the API (``InstantiationData``, ``prepare_args``, the
actions and mark-unhealthy controllers) and in the engine (``extract_args``, the stack name),
each failure a 400 with its own sentence and error type (``HTTPBadRequest`` from the API,
``StackValidationFailed`` from the engine). Each model here runs those checks, in Heat's
order, in one ``before`` validator that raises the error Heat gives (pydantic passes the API's
errors through unchanged), and holds the values normalized: a model that validated is a body
the service can use as it is. Checks that need the service's state (the template's size
limit, the config a deployment names) stay in the service.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any, ClassVar, Literal

import yaml
from pydantic import BaseModel, ConfigDict, RootModel, model_validator

from onestack.common import errors
from onestack.common.http import READING
from onestack.orchestration.errors import StackValidationFailed

_NOT_OBJECT = "The request body must be a JSON object"
# Heat's Stack._validate_stack_name (re.match, so anchored at the start only).
_STACK_NAME = re.compile(r"[a-zA-Z][a-zA-Z0-9_.-]{0,254}")
ENV_SECTIONS = ("parameters", "parameter_defaults", "resource_registry", "event_sinks",
                "encrypted_param_names", "parameter_merge_strategies")  # fmt: skip


def invalid(message: str) -> StackValidationFailed:
    return StackValidationFailed(message=message)


def as_object(data: Any, error: errors.OneStackError | None = None) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise error or invalid(_NOT_OBJECT)
    return data


def a_map(body: dict[str, Any], key: str) -> dict[str, Any]:
    """An optional member that must be an object (absent, null or empty: {})."""
    value = body.get(key) or {}
    if not isinstance(value, dict):
        raise invalid(f"{key} must be a map")
    return value


def heat_bool(name: str, value: Any) -> bool:
    """Heat's ``param_utils.extract_bool``: true or false, as JSON or as a word."""
    if str(value).lower() not in ("true", "false"):
        raise errors.BadRequest(
            f'Unrecognized value "{value}" for "{name}", acceptable values are: true, false.'
        )
    return str(value).lower() == "true"


def heat_int(name: str, value: Any) -> int:
    """Heat's ``param_utils.extract_int`` (zero allowed, negatives not): an integer, or a
    string that is one as written (oslo's ``is_int_like``)."""
    try:
        int_like = not isinstance(value, bool) and str(int(value)) == str(value)
    except (TypeError, ValueError):
        int_like = False
    if not int_like:
        raise errors.BadRequest(f"Only integer is acceptable by '{name}'.")
    if int(value) < 0:
        raise errors.BadRequest(
            f"Value '{value}' is invalid for '{name}' which only accepts non-negative integer."
        )
    return int(value)


def tags(raw: Any) -> list[str] | None:
    """A comma separated string (Heat's ``extract_tags``; each at most 80 characters), or a
    list (openstacksdk sends one)."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, str):
        found = [t for t in raw.split(",") if t]
    elif isinstance(raw, list):
        found = [str(t) for t in raw]
    else:
        raise invalid("tags must be a comma separated string or a list")
    for tag in found:
        if len(tag) > 80:
            raise errors.BadRequest(f'Invalid tag, "{tag}" is longer than 80 characters')
    return found


def environment(raw: Any) -> dict[str, Any]:
    """Heat's ``environment_format``: a map or YAML text of one, with Heat's sections only."""
    env = raw or {}
    if isinstance(env, str):
        try:
            env = yaml.safe_load(env) or {}
        except yaml.YAMLError as exc:
            raise errors.BadRequest(f"Environment not in valid format: {exc}") from None
        # YAML's dates become the strings JSON stores, as in a template.
        env = json.loads(json.dumps(env, default=str))
    if not isinstance(env, dict):
        raise errors.BadRequest(
            "Environment not in valid format: The environment is not a valid YAML mapping "
            "data type."
        )
    for key in env:
        if key not in ENV_SECTIONS:
            raise errors.BadRequest(
                f'Environment not in valid format: environment has wrong section "{key}"'
            )
    if not isinstance(env.get("resource_registry") or {}, dict):
        raise invalid("resource_registry must be a map")
    return env


def adopt_data(raw: Any) -> dict[str, Any] | None:
    """``adopt_stack_data`` (a JSON string or object): the template comes from it when the
    body has none, as in Heat's InstantiationData."""
    if raw is None:
        return None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise invalid("Invalid adopt data: not JSON") from None
    if not isinstance(raw, dict):
        raise invalid("Invalid adopt data: not a JSON object")
    if not isinstance(raw.get("resources", {}), dict):
        raise invalid("Invalid adopt data: resources must be a map")
    # What the create merges or the engine reads as maps: anything else is the caller's 400.
    if not isinstance(raw.get("parameters") or {}, dict):
        raise invalid("Invalid adopt data: parameters must be a map")
    for name, res in (raw.get("resources") or {}).items():
        if not isinstance(res, dict):
            raise invalid(f"Invalid adopt data: resource {name} must be a map")
    return raw


# A resource signal's body: optional (blank is none), its Content-Type whatever curl sent.
SIGNAL = dataclasses.replace(READING, blank_is_empty=True, any_type=True)


class HeatBody(BaseModel):
    """A Heat request body: members it does not know are ignored, as Heat's are. ``optional``:
    a request may send none (taken with ``common.api.body(..., optional=True)``): as ``{}``."""

    # Validators built on first use, not at import: a start needs none of them (#19).
    model_config = ConfigDict(frozen=True, defer_build=True, extra="ignore")

    @classmethod
    def check(cls, body: dict[str, Any]) -> dict[str, Any]:
        """Heat's checks of ``body``, in Heat's order; the members normalized."""
        return body

    optional: ClassVar[bool] = False

    @model_validator(mode="before")
    @classmethod
    def _check_as_heat_does(cls, data: Any) -> dict[str, Any]:
        return cls.check(as_object({} if data is None and cls.optional else data))


# --- stacks --------------------------------------------------------------------------------


class TemplateBody(HeatBody):
    """What Heat's ``InstantiationData`` reads: the template (parsed by the service, which
    knows the size limit), its parameters, environment and files (template validate)."""

    template: Any = None
    template_url: Any = None
    parameters: dict[str, Any] = {}
    environment: dict[str, Any] = {}
    files: dict[str, Any] = {}

    @classmethod
    def check(cls, body: dict[str, Any]) -> dict[str, Any]:
        out = dict(body)
        out["parameters"] = a_map(body, "parameters")
        out["environment"] = environment(body.get("environment"))
        out["files"] = a_map(body, "files")
        return out


class StackBody(TemplateBody):
    """A stack update (``PUT``/``PATCH``, and their previews): the template and Heat's args."""

    timeout_mins: int | None = None
    disable_rollback: bool = True
    tags: list[str] | None = None
    clear_parameters: list[str] = []
    converge: bool = False

    creating: ClassVar[bool] = False

    @classmethod
    def prepare_args(cls, body: dict[str, Any]) -> dict[str, Any]:
        """Heat API's ``prepare_args``."""
        out: dict[str, Any] = {}
        if body.get("timeout_mins") is not None:
            out["timeout_mins"] = heat_int("timeout_mins", body["timeout_mins"])
        if "tags" in body:
            out["tags"] = tags(body["tags"])
        if "converge" in body:
            if cls.creating:
                raise errors.BadRequest(
                    "converge flag only supported in stack update (or update preview) request."
                )
            out["converge"] = heat_bool("converge", body["converge"])
        return out

    @classmethod
    def extract_args(cls, body: dict[str, Any]) -> dict[str, Any]:
        """Heat engine's ``extract_args``, and the parameters a PATCH clears."""
        out: dict[str, Any] = {}
        if "disable_rollback" in body:
            out["disable_rollback"] = heat_bool("disable_rollback", body["disable_rollback"])
        cleared = body.get("clear_parameters") or []
        if not isinstance(cleared, list) or not all(isinstance(k, str) for k in cleared):
            raise invalid("clear_parameters must be a list of parameter names")
        out["clear_parameters"] = cleared
        return out

    @classmethod
    def check(cls, body: dict[str, Any]) -> dict[str, Any]:
        args = cls.prepare_args(body)
        return {**TemplateBody.check(body), **args, **cls.extract_args(body)}


class StackCreate(StackBody):
    """A stack create or preview: a name, and perhaps the data of an abandoned stack."""

    stack_name: str
    adopt_stack_data: dict[str, Any] | None = None

    creating = True

    @classmethod
    def check(cls, body: dict[str, Any]) -> dict[str, Any]:
        args = cls.prepare_args(body)
        if "stack_name" not in body:
            raise errors.BadRequest("No stack name specified")
        out = {**TemplateBody.check(body), **args, **cls.extract_args(body)}
        out["adopt_stack_data"] = adopt_data(body.get("adopt_stack_data"))
        name = body["stack_name"]
        if not isinstance(name, str):
            raise invalid(f"Invalid stack name {name}, must be a string")
        if not _STACK_NAME.fullmatch(name):
            raise invalid(
                f'Invalid stack name {name} must contain only alphanumeric or "_-." '
                "characters, must start with alpha and must be 255 characters or less."
            )
        return out


class StackAction(HeatBody):
    """``POST .../actions``: exactly one of Heat's actions, the body's one key."""

    action: Literal["suspend", "resume", "check", "cancel_update", "cancel_without_rollback"]

    @classmethod
    def check(cls, body: dict[str, Any]) -> dict[str, Any]:
        if not body:
            raise errors.BadRequest("No action specified")
        if len(body) > 1:
            raise errors.BadRequest("Multiple actions specified")
        action = next(iter(body))
        if action not in ("suspend", "resume", "check", "cancel_update",
                          "cancel_without_rollback"):  # fmt: skip
            raise errors.BadRequest(f"Invalid action {action} specified")
        return {"action": action}

    @model_validator(mode="before")
    @classmethod
    def _check_as_heat_does(cls, data: Any) -> dict[str, Any]:
        # Heat: ``body or {}``, so a body that is no object names no action either.
        return cls.check(as_object(data, errors.BadRequest("No action specified")))


class MarkUnhealthy(HeatBody):
    """``PATCH .../resources/{name}``: Heat's resource mark unhealthy."""

    mark_unhealthy: bool
    resource_status_reason: str = ""

    @classmethod
    def check(cls, body: dict[str, Any]) -> dict[str, Any]:
        unknown = set(body) - {"mark_unhealthy", "resource_status_reason"}
        if unknown:  # Heat names them as the set they are
            names = ", ".join(repr(k) for k in sorted(unknown))
            raise errors.BadRequest(f"Invalid keys in resource mark unhealthy {{{names}}}")
        if "mark_unhealthy" not in body:
            raise errors.BadRequest(
                "Missing mandatory (mark_unhealthy) key from mark unhealthy request"
            )
        return {
            "mark_unhealthy": heat_bool("mark_unhealthy", body["mark_unhealthy"]),
            "resource_status_reason": str(body.get("resource_status_reason") or ""),
        }


class SnapshotCreate(HeatBody):
    """``POST .../snapshots``: an optional body with an optional name."""

    name: str | None = None

    optional = True

    @classmethod
    def check(cls, body: dict[str, Any]) -> dict[str, Any]:
        name = body.get("name")
        return {"name": str(name) if name else None}


class ResourceSignal(RootModel[dict[str, Any]]):
    """``POST .../resources/{name}/signal``: whatever the signaller sent (a wait condition's
    status, an alarm's data); what is no JSON object signals no details."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    @model_validator(mode="before")
    @classmethod
    def _details(cls, data: Any) -> dict[str, Any]:
        return data if isinstance(data, dict) else {}


# --- software configs and deployments ------------------------------------------------------

# What the guest hook can apply: a script, and Heat::Ungrouped (cloud-config and MIME parts
# that cloud-init, not the hook, reads; a script when the hook is given one).
GROUPS = ("script", "Heat::Ungrouped")
_INPUT_KEYS = {"name", "type", "default", "description", "replace_on_change", "value"}
_OUTPUT_KEYS = {"name", "type", "description", "error_output"}


def check_group(group: str) -> None:
    if group not in GROUPS:
        raise invalid(
            f'Software config group "{group}" is not supported: this cloud\'s guest '
            f"hook applies {' and '.join(GROUPS)}."
        )


def _io_list(value: Any, allowed: set[str], what: str) -> list[dict[str, Any]]:
    """A config's inputs or outputs: maps, each named, with Heat's keys only."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(i, dict) for i in value):
        raise invalid(f"{what} must be a list of maps")
    for item in value:
        if not isinstance(item.get("name"), str) or not item["name"]:
            raise invalid(f"Each of {what} must have a name")
        unknown = set(item) - allowed
        if unknown:
            raise invalid(f"Unknown key(s) {sorted(unknown)} in {what}")
    return value


class SoftwareConfigCreate(HeatBody):
    """``POST /software_configs`` (and the configs a stack's resources derive)."""

    name: str = ""
    group: str = "Heat::Ungrouped"
    config: Any = ""  # a script's text, or the structure a structured config holds
    inputs: list[dict[str, Any]] = []
    outputs: list[dict[str, Any]] = []
    options: dict[str, Any] = {}

    @classmethod
    def check(cls, body: dict[str, Any]) -> dict[str, Any]:
        name = body.get("name") or ""
        group = body.get("group") or "Heat::Ungrouped"
        config = body.get("config")
        if not isinstance(name, str) or not isinstance(group, str):
            raise invalid("name and group must be strings")
        if config is not None and not isinstance(config, (str, dict, list)):
            raise invalid("config must be a string or a structure")
        check_group(group)
        options = a_map(body, "options")
        return {
            "name": name,
            "group": group,
            "config": config if config is not None else "",
            "options": options,
            "inputs": _io_list(body.get("inputs"), _INPUT_KEYS, "inputs"),
            "outputs": _io_list(body.get("outputs"), _OUTPUT_KEYS, "outputs"),
        }


class SoftwareDeploymentCreate(HeatBody):
    """``POST /software_deployments``: a config to apply to a server."""

    server_id: str
    config_id: str
    input_values: dict[str, Any] = {}
    action: str = "INIT"
    status: str = "COMPLETE"
    status_reason: str = ""

    @classmethod
    def check(cls, body: dict[str, Any]) -> dict[str, Any]:
        for key in ("server_id", "config_id"):
            if not isinstance(body.get(key), str) or not body[key]:
                raise invalid(f"{key} is required")
        return {
            "server_id": body["server_id"],
            "config_id": body["config_id"],
            "input_values": a_map(body, "input_values"),
            **{k: str(body.get(k) or default) for k, default in
               (("action", "INIT"), ("status", "COMPLETE"), ("status_reason", ""))},
        }  # fmt: skip


class SoftwareDeploymentUpdate(HeatBody):
    """``PUT /software_deployments/{id}``: what changes (Heat's: the members not null)."""

    config_id: str | None = None
    input_values: dict[str, Any] | None = None
    output_values: dict[str, Any] | None = None
    action: str | None = None
    status: str | None = None
    status_reason: str | None = None

    @classmethod
    def check(cls, body: dict[str, Any]) -> dict[str, Any]:
        keys = ("config_id", "input_values", "output_values", "action", "status",
                "status_reason")  # fmt: skip
        given = {k: body[k] for k in keys if body.get(k) is not None}
        for key in ("input_values", "output_values"):
            if key in given and not isinstance(given[key], dict):
                raise invalid(f"{key} must be a map")
        for key in ("config_id", "action", "status", "status_reason"):
            if key in given:
                given[key] = str(given[key])
        return given

    def changes(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.model_fields_set}


class DeploymentSignal(RootModel[dict[str, Any]]):
    """The guest's outcome on a deployment's signal URL: ``deploy_stdout``, ``deploy_stderr``,
    ``deploy_status_code`` and the config's outputs, by name."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    @model_validator(mode="before")
    @classmethod
    def _object(cls, data: Any) -> dict[str, Any]:
        return as_object(data)
