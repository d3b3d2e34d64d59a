"""Resource types' attribute schemas (Gnocchi's ``resource_type`` module): each attribute a
``string``, ``uuid``, ``number``, ``bool`` or ``datetime``, required or not, with bounds;
and the types Ceilometer's Gnocchi publisher creates."""

from __future__ import annotations

import re
import uuid
from typing import Any

from onestack.common import errors
from onestack.metering import timeutil

RESERVED = {
    "id", "type", "metrics", "revision", "revision_start", "revision_end", "started_at",
    "ended_at", "user_id", "project_id", "created_by_user_id", "created_by_project_id",
    "creator", "original_resource_id",
}  # fmt: skip
CORE_FIELDS = {
    "id": "string", "type": "string", "original_resource_id": "string",
    "project_id": "string", "user_id": "string", "creator": "string",
    "created_by_user_id": "string", "created_by_project_id": "string",
    "started_at": "datetime", "ended_at": "datetime", "revision_start": "datetime",
    "revision_end": "datetime",
}  # fmt: skip
NAME = re.compile(r"^[a-zA-Z][a-zA-Z0-9_]*$")
TYPES = ("string", "uuid", "number", "bool", "datetime")
MAX_STRING = 255


def check_schema(name: str, spec: Any) -> dict[str, Any]:
    """One attribute's schema with its defaults; 400 for an unknown type or bad bounds."""
    if not NAME.match(name) or name in RESERVED or len(name) > 63:
        raise errors.BadRequest(f"Invalid input: {name} is not a valid attribute name")
    if not isinstance(spec, dict):
        raise errors.BadRequest(f"Invalid input: the schema of {name} must be an object")
    kind = spec.get("type")
    if kind not in TYPES:
        raise errors.BadRequest(
            f"Invalid input: Unknown attribute type {kind!r} of {name} (one of {TYPES})"
        )
    required = spec.get("required", True)
    if not isinstance(required, bool):
        raise errors.BadRequest(f"Invalid input: required of {name} must be a boolean")
    allowed = {"type", "required", "options"}
    out: dict[str, Any] = {"type": kind, "required": required}
    if kind == "string":
        allowed |= {"min_length", "max_length"}
        out["min_length"] = _int(spec.get("min_length", 0), name, 0, MAX_STRING)
        out["max_length"] = _int(spec.get("max_length", MAX_STRING), name, 0, MAX_STRING)
        if out["min_length"] > out["max_length"]:
            raise errors.BadRequest(f"Invalid input: min_length > max_length for {name}")
    elif kind == "number":
        allowed |= {"min", "max"}
        out["min"] = _num(spec.get("min"), name)
        out["max"] = _num(spec.get("max"), name)
        if out["min"] is not None and out["max"] is not None and out["min"] > out["max"]:
            raise errors.BadRequest(f"Invalid input: min > max for {name}")
    extra = set(spec) - allowed
    if extra:
        raise errors.BadRequest(f"Invalid input: unknown keys {sorted(extra)} for {name}")
    return out


def _int(value: Any, name: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise errors.BadRequest(
            f"Invalid input: length bounds of {name} must be in [{low}, {high}]"
        )
    return value


def _num(value: Any, name: str) -> float | None:
    if value is None:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise errors.BadRequest(f"Invalid input: bounds of {name} must be numbers")
    return float(value)


def check_value(name: str, schema: dict[str, Any], value: Any) -> Any:
    """A resource's attribute value as stored; 400 when it does not fit the schema."""
    if value is None:
        if schema.get("required"):
            raise errors.BadRequest(f"Invalid input: {name} is required and may not be null")
        return None
    kind = schema["type"]
    if kind == "string":
        if not isinstance(value, str):
            raise errors.BadRequest(f"Invalid input: expected str for dictionary value @ {name}")
        if not schema.get("min_length", 0) <= len(value) <= schema.get("max_length", MAX_STRING):
            raise errors.BadRequest(f"Invalid input: length of value must be in bounds @ {name}")
        return value
    if kind == "uuid":
        try:
            return str(uuid.UUID(str(value)))
        except ValueError:
            raise errors.BadRequest(f"Invalid input: {value!r} is not a UUID @ {name}") from None
    if kind == "number":
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise errors.BadRequest(f"Invalid input: expected a number @ {name}")
        low, high = schema.get("min"), schema.get("max")
        if (low is not None and value < low) or (high is not None and value > high):
            raise errors.BadRequest(f"Invalid input: value must be in bounds @ {name}")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise errors.BadRequest(f"Invalid input: expected a boolean @ {name}")
        return value
    ns = timeutil.parse_timestamp(value)
    return timeutil.format_timestamp(ns)


def filter_fields(attributes: dict[str, Any]) -> dict[str, str]:
    """Searchable fields of a type: the core ones and its attributes, with their kinds."""
    kinds = {k: ("string" if s["type"] == "uuid" else s["type"]) for k, s in attributes.items()}
    return {**CORE_FIELDS, **kinds}


def _s(required: bool = False) -> dict[str, Any]:
    return {"type": "string", "required": required, "min_length": 0, "max_length": 255}


def _u(required: bool = False) -> dict[str, Any]:
    return {"type": "uuid", "required": required}


def _d() -> dict[str, Any]:
    return {"type": "datetime", "required": False}


# Ceilometer's resource types (ceilometer/gnocchi_client.py ``resources_initial`` and the
# updates after it), created on start as `ceilometer-upgrade` does.
CEILOMETER_TYPES: dict[str, dict[str, Any]] = {
    "instance": {
        "flavor_id": _s(True), "image_ref": _s(), "host": _s(True), "display_name": _s(True),
        "server_group": _s(), "flavor_name": _s(), "launched_at": _d(), "created_at": _d(),
        "deleted_at": _d(),
    },
    "instance_disk": {"name": _s(True), "instance_id": _u(True)},
    "instance_network_interface": {"name": _s(True), "instance_id": _u(True)},
    "volume": {
        "display_name": _s(), "volume_type": _s(), "image_id": _u(), "instance_id": _u(),
    },
    "image": {"name": _s(True), "container_format": _s(True), "disk_format": _s(True)},
    "network": {},
    "port": {"name": _s(), "network_id": _u(), "device_id": _s()},
    "floatingip": {},
    "router": {},
    "swift_account": {},
    "host": {"host_name": _s(True)},
}  # fmt: skip
