"""Template parameters: their schema (type, default, hidden, constraints) and the values a
stack gets from the user, the environment's ``parameters`` and ``parameter_defaults``."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from onestack.orchestration.errors import StackValidationFailed, UserParameterMissing, not_allowed

TYPES = ("string", "number", "comma_delimited_list", "json", "boolean")
_SCHEMA_KEYS = {
    "type", "default", "description", "label", "hidden", "constraints", "immutable", "tags",
}  # fmt: skip
_TRUE = {"true", "1", "yes", "y", "on", "t"}
_FALSE = {"false", "0", "no", "n", "off", "f"}


class UnknownUserParameter(StackValidationFailed):
    template = "The Parameter ({key}) was not defined in template."


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    default: Any = None
    has_default: bool = False
    description: str = ""
    label: str = ""
    hidden: bool = False
    constraints: list[dict[str, Any]] = field(default_factory=list)

    def schema(self) -> dict[str, Any]:
        """What ``validate`` shows of it (Heat's ``Parameters`` map)."""
        out: dict[str, Any] = {
            "Type": {"string": "String", "number": "Number", "boolean": "Boolean",
                     "json": "Json", "comma_delimited_list": "CommaDelimitedList"}[self.type],
            "Description": self.description,
            "Label": self.label or self.name,
            "NoEcho": "true" if self.hidden else "false",
        }  # fmt: skip
        if self.has_default:
            out["Default"] = self.default
        for c in self.constraints:
            if "allowed_values" in c:
                out["AllowedValues"] = c["allowed_values"]
            if "allowed_pattern" in c:
                out["AllowedPattern"] = c["allowed_pattern"]
            if "length" in c:
                out.update({f"{k.title()}Length": v for k, v in c["length"].items()})
            if "range" in c:
                out.update({f"{k.title()}Value": v for k, v in c["range"].items()})
        return out


def parse_parameters(section: Any) -> dict[str, Parameter]:
    if section is None:
        return {}
    if not isinstance(section, dict):
        raise StackValidationFailed(message="The template section is invalid: parameters")
    out: dict[str, Parameter] = {}
    for name, schema in section.items():
        where = f"parameters.{name}"
        if not isinstance(schema, dict):
            raise StackValidationFailed(message=f"{where}: Invalid parameter schema")
        unknown = set(schema) - _SCHEMA_KEYS
        if unknown:
            raise StackValidationFailed(message=f'{where}: Invalid key "{sorted(unknown)[0]}"')
        ptype = schema.get("type")
        if ptype not in TYPES:
            raise StackValidationFailed(
                message=f"{where}: Invalid type ({ptype}): must be one of {', '.join(TYPES)}"
            )
        constraints = schema.get("constraints") or []
        if not isinstance(constraints, list) or not all(isinstance(c, dict) for c in constraints):
            raise StackValidationFailed(message=f"{where}: constraints must be a list of maps")
        param = Parameter(
            name=str(name),
            type=ptype,
            default=schema.get("default"),
            has_default="default" in schema,
            description=str(schema.get("description", "")),
            label=str(schema.get("label", "")),
            hidden=bool(schema.get("hidden", False)),
            constraints=constraints,
        )
        if param.has_default and param.default is not None:
            check(param, coerce(param, param.default))
        out[str(name)] = param
    return out


def coerce(param: Parameter, value: Any) -> Any:
    """``value`` (often a string from the client) as the parameter's type; 400 if it is not."""

    def bad(reason: str) -> StackValidationFailed:
        return StackValidationFailed(message=f"Parameter '{param.name}' is invalid: {reason}")

    if param.type == "string":
        if isinstance(value, (dict, list)):
            raise bad(f'Value must be a string; got "{value}"')
        return value if isinstance(value, str) else json.dumps(value)
    if param.type == "number":
        if isinstance(value, bool):
            raise bad(f"Value '{value}' is not an integer")
        if isinstance(value, (int, float)):
            return value
        try:
            return int(str(value))
        except ValueError:
            try:
                return float(str(value))
            except ValueError:
                raise bad(f"Value '{value}' is not an integer") from None
    if param.type == "boolean":
        if isinstance(value, bool):
            return value
        text = str(value).lower()
        if text in _TRUE | _FALSE:
            return text in _TRUE
        raise bad(f'Unrecognized value "{value}", acceptable values are: true, false.')
    if param.type == "comma_delimited_list":
        if isinstance(value, list):
            return [str(v) for v in value]
        return [v.strip() for v in str(value).split(",")] if str(value) else []
    if isinstance(value, (dict, list)):  # json
        return value
    try:
        return json.loads(str(value)) if str(value) else {}
    except ValueError:
        raise bad(f"Value must be valid JSON: {value}") from None


def check(param: Parameter, value: Any) -> None:
    """400 naming the parameter when ``value`` violates one of its constraints."""
    for c in param.constraints:
        failure = _violation(c, value)
        if failure:
            reason = c.get("description") or failure
            raise StackValidationFailed(message=f"Parameter '{param.name}' is invalid: {reason}")


def _violation(c: dict[str, Any], value: Any) -> str:
    if "length" in c:
        lo, hi = c["length"].get("min"), c["length"].get("max")
        n = len(value) if isinstance(value, (str, list, dict)) else len(str(value))
        if (lo is not None and n < lo) or (hi is not None and n > hi):
            return f"length ({n}) is out of range (min: {lo}, max: {hi})"
    if "range" in c:
        lo, hi = c["range"].get("min"), c["range"].get("max")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            return f"{value} is out of range (min: {lo}, max: {hi})"
    if "modulo" in c:
        step, offset = c["modulo"].get("step", 1), c["modulo"].get("offset", 0)
        if step and (value - offset) % step:
            return f"{value} is not a multiple of {step} with an offset of {offset}"
    if "allowed_values" in c:
        allowed = c["allowed_values"]
        values = value if isinstance(value, list) else [value]
        if any(v not in allowed for v in values):
            return not_allowed(value, allowed)
    if "allowed_pattern" in c and re.fullmatch(str(c["allowed_pattern"]), str(value)) is None:
        return f'"{value}" does not match pattern "{c["allowed_pattern"]}"'
    return ""


def resolve(
    params: dict[str, Parameter],
    given: dict[str, Any],
    env_params: dict[str, Any],
    defaults: dict[str, Any],
) -> dict[str, Any]:
    """Each parameter's value: the user's, else the environment's, else parameter_defaults,
    else the template default; 400 for a missing one, an unknown one or a bad value."""
    for key in given:
        if key not in params:
            raise UnknownUserParameter(key=key)
    values: dict[str, Any] = {}
    for name, param in params.items():
        if name in given:
            raw = given[name]
        elif name in env_params:
            raw = env_params[name]
        elif name in defaults:
            raw = defaults[name]
        elif param.has_default:
            raw = param.default
        else:
            raise UserParameterMissing(key=name)
        value = coerce(param, raw)
        check(param, value)
        values[name] = value
    return values
