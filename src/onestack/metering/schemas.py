"""The metric API's request bodies, each declared once and taken through the one body path,
``common.api.body`` (``api.helpers.valid_body``), refused in Gnocchi's words.

Gnocchi checks its bodies with voluptuous and answers ``Invalid input: <voluptuous's
reason>`` (``required key not provided @ data['id']``), which gnocchiclient shows as it is.
Each model's ``_check`` (run before pydantic's own field checks) words its refusals so and
raises ``errors.InvalidInput``, which pydantic lets through; the fields hold what it made of
the body, so the service is handed checked values, never the raw document. Checks that need
the database (a policy exists, a name is free) stay with the service.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, SkipValidation, ValidationInfo, model_validator

from onestack.common import errors as common_errors
from onestack.common.db import utcnow
from onestack.metering import archive, errors, operations, resource_types, timeutil
from onestack.metering.archive import Granularity, Policy
from onestack.metering.series import Floats, Int64s

POLICY_KEYS = ("name", "back_window", "definition", "aggregation_methods")
RULE_KEYS = ("name", "metric_pattern", "archive_policy_name")
METRIC_KEYS = ("archive_policy_name", "name", "unit", "resource_id")
CORE_UPDATABLE = ("user_id", "project_id", "started_at", "ended_at")
ATTRIBUTE_PATH = "/attributes/"


def invalid(reason: str) -> errors.InvalidInput:
    return errors.InvalidInput(reason=reason)


def as_object(data: Any, reason: str = "the body must be a JSON object") -> dict[str, Any]:
    if not isinstance(data, dict):
        raise invalid(reason)
    return data


class GnocchiBody(BaseModel):
    """A body of the metric API; a subclass's ``_check`` makes its fields of the document."""

    # Validators built on first use, not at import: a start needs none of them (#19).
    model_config = ConfigDict(frozen=True, defer_build=True, arbitrary_types_allowed=True)


# --- archive policies and their rules ----------------------------------------------------


class ArchivePolicyCreate(GnocchiBody):
    name: str
    back_window: int
    definition: SkipValidation[tuple[Granularity, ...]]
    aggregation_methods: tuple[str, ...]

    @model_validator(mode="before")
    @classmethod
    def _check(cls, data: Any) -> dict[str, Any]:
        body = as_object(data)
        name = body.get("name")
        if not isinstance(name, str) or not name or "/" in name or len(name) > 255:
            raise invalid("name must be a non-empty string without '/'")
        unknown = set(body) - set(POLICY_KEYS)
        if unknown:
            raise invalid(f"extra keys not allowed: {sorted(unknown)}")
        back_window = body.get("back_window", 0)
        if not isinstance(back_window, int) or isinstance(back_window, bool) or back_window < 0:
            raise invalid("back_window must be a non-negative integer")
        return {
            "name": name,
            "back_window": back_window,
            "definition": archive.parse_definition(body.get("definition")),
            "aggregation_methods": archive.resolve_methods(body.get("aggregation_methods")),
        }

    def policy(self) -> Policy:
        return Policy(self.name, self.back_window, self.definition, self.aggregation_methods)


class ArchivePolicyUpdate(GnocchiBody):
    """Only the definition of a policy changes (Gnocchi's rule)."""

    definition: SkipValidation[tuple[Granularity, ...]]

    @model_validator(mode="before")
    @classmethod
    def _check(cls, data: Any) -> dict[str, Any]:
        body = as_object(data)
        if set(body) - {"definition"} or "definition" not in body:
            raise invalid("only the definition of a policy may change")
        return {"definition": archive.parse_definition(body["definition"])}


class ArchivePolicyRuleCreate(GnocchiBody):
    name: str
    metric_pattern: str
    archive_policy_name: str

    @model_validator(mode="before")
    @classmethod
    def _check(cls, data: Any) -> dict[str, Any]:
        body = as_object(data)
        if set(body) != set(RULE_KEYS) or not all(
            isinstance(body[f], str) and body[f] for f in RULE_KEYS
        ):
            raise invalid(f"an archive policy rule has exactly {RULE_KEYS}")
        return {f: body[f] for f in RULE_KEYS}


class ArchivePolicyRuleRename(GnocchiBody):
    name: str

    @model_validator(mode="before")
    @classmethod
    def _check(cls, data: Any) -> dict[str, Any]:
        body = as_object(data)
        new = body.get("name")
        if set(body) != {"name"} or not isinstance(new, str) or not new:
            raise invalid("only the name of a rule may change")
        return {"name": new}


# --- resource types ------------------------------------------------------------------------


class ResourceTypeCreate(GnocchiBody):
    name: str
    attributes: dict[str, dict[str, Any]]  # each attribute's schema with its defaults

    @model_validator(mode="before")
    @classmethod
    def _check(cls, data: Any) -> dict[str, Any]:
        body = as_object(data)
        name = body.get("name")
        if not isinstance(name, str) or not resource_types.NAME.match(name) or len(name) > 255:
            raise invalid(f"{name!r} is not a valid resource type name")
        if set(body) - {"name", "attributes"}:
            raise invalid("a resource type has a name and attributes")
        raw = body.get("attributes", {})
        if not isinstance(raw, dict):
            raise invalid("attributes must be an object")
        attributes = {k: resource_types.check_schema(k, v) for k, v in raw.items()}
        return {"name": name, "attributes": attributes}


@dataclass(frozen=True)
class AttributeChange:
    """One operation of a resource type's JSON patch: add or remove ``/attributes/NAME``."""

    op: str  # "add" or "remove"
    name: str
    schema: dict[str, Any] | None = None  # an added attribute's, with its defaults
    fill: tuple[Any] | None = None  # (the value existing resources get,) when given


class ResourceTypePatch(GnocchiBody):
    """A JSON patch of ``add`` / ``remove`` operations (Gnocchi's subset); whether the
    attributes named exist is the service's to check."""

    changes: SkipValidation[tuple[AttributeChange, ...]]

    @model_validator(mode="before")
    @classmethod
    def _check(cls, data: Any) -> dict[str, Any]:
        if not isinstance(data, list) or not data:
            raise invalid("a JSON patch (a list of operations) is required")
        return {"changes": tuple(_attribute_change(op) for op in data)}


def _attribute_change(op: Any) -> AttributeChange:
    if not isinstance(op, dict) or op.get("op") not in ("add", "remove"):
        raise invalid(f"Invalid operation {op!r}: add or remove")
    path = op.get("path", "")
    if not isinstance(path, str) or not path.startswith(ATTRIBUTE_PATH):
        raise invalid(f"Invalid path {path!r}: /attributes/NAME")
    name = path[len(ATTRIBUTE_PATH) :]
    if op["op"] == "remove":
        return AttributeChange("remove", name)
    value = op.get("value")
    schema = resource_types.check_schema(name, value)
    options = value.get("options") if isinstance(value, dict) else None
    fill = None
    if isinstance(options, dict) and "fill" in options:
        fill = (resource_types.check_value(name, schema, options["fill"]),)
    return AttributeChange("add", name, schema, fill)


# --- metrics -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MetricSpec:
    """A metric to make: its archive policy (None: the policy rules choose) and unit."""

    archive_policy_name: str | None = None
    unit: str | None = None


def metric_spec(body: Any, name: Any) -> MetricSpec:
    """``body`` as a new metric named ``name`` (None: a metric of no resource)."""
    if not isinstance(body, dict):
        raise invalid("a metric is an object")
    extra = set(body) - set(METRIC_KEYS)
    if extra:
        raise invalid(f"extra keys not allowed @ data['{sorted(extra)[0]}']")
    unit = body.get("unit")
    if unit is not None and (not isinstance(unit, str) or len(unit) > 31):
        raise invalid("unit must be a string of at most 31 characters")
    if name is not None and (not isinstance(name, str) or not name or "/" in name):
        raise invalid("a metric name is a non-empty string without '/'")
    policy = body.get("archive_policy_name")
    if policy is not None and not isinstance(policy, str):
        raise invalid("archive_policy_name must be a string")
    return MetricSpec(policy, unit)


def named_metrics(metrics: Any) -> dict[str, MetricSpec | str]:
    """``{name: metric}``: a new metric's spec, or the id of a metric the resource adopts."""
    if not isinstance(metrics, dict):
        raise invalid("metrics must be an object of name: metric")
    return {
        name: spec if isinstance(spec, str) else metric_spec(spec, name)
        for name, spec in metrics.items()
    }


class MetricCreate(GnocchiBody):
    """``POST /v1/metric``: a metric of no resource, or (``resource_id``) a named one."""

    name: str | None
    resource_id: str | None
    spec: SkipValidation[MetricSpec]

    @model_validator(mode="before")
    @classmethod
    def _check(cls, data: Any) -> dict[str, Any]:
        name = data.get("name") if isinstance(data, dict) else None
        resource_id = data.get("resource_id") if isinstance(data, dict) else None
        if resource_id is None:
            return {"name": name, "resource_id": None, "spec": metric_spec(data, name)}
        if name is None:
            raise invalid("a metric of a resource needs a name")
        own = {k: v for k, v in data.items() if k != "resource_id"}
        return {"name": name, "resource_id": str(resource_id), "spec": metric_spec(own, name)}


class NamedMetrics(GnocchiBody):
    """``POST /v1/resource/{type}/{id}/metric``: metrics added to the resource."""

    metrics: SkipValidation[dict[str, MetricSpec | str]]

    @model_validator(mode="before")
    @classmethod
    def _check(cls, data: Any) -> dict[str, Any]:
        return {"metrics": named_metrics(data)}


# --- resources -----------------------------------------------------------------------------


def _type_attributes(info: ValidationInfo) -> dict[str, Any]:
    """The attribute schemas of the resource's type, which the caller passes as context."""
    context = info.context or {}
    attributes: dict[str, Any] = context["attributes"]
    return attributes


def _datetime(value: Any, field: str) -> datetime | None:
    if value is None:
        return None
    try:
        return timeutil.to_datetime(timeutil.parse_timestamp(value))
    except common_errors.BadRequest:
        raise invalid(f"Unable to parse {field}: {value!r}") from None


def _id_text(value: Any, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 255:
        raise invalid(f"{field} must be a string of at most 255 characters")
    return value


def _attributes(schemas: dict[str, Any], body: dict[str, Any], partial: bool) -> dict[str, Any]:
    known = set(schemas) | set(CORE_UPDATABLE) | {"id", "metrics"}
    unknown = [k for k in body if k not in known]
    if unknown:
        raise invalid(f"extra keys not allowed @ data['{unknown[0]}']")
    out: dict[str, Any] = {}
    for name, schema in schemas.items():
        if name in body:
            out[name] = resource_types.check_value(name, schema, body[name])
        elif not partial:
            if schema.get("required"):
                raise invalid(f"required key not provided @ data['{name}']")
            out[name] = None
    return out


class ResourceCreate(GnocchiBody):
    """A new resource, checked against its type's attributes (context ``attributes``)."""

    id: str  # as the client named it; stored under its UUID
    project_id: str | None
    user_id: str | None
    started_at: datetime
    ended_at: datetime | None
    attributes: dict[str, Any]
    metrics: SkipValidation[dict[str, MetricSpec | str]]

    @model_validator(mode="before")
    @classmethod
    def _check(cls, data: Any, info: ValidationInfo) -> dict[str, Any]:
        if not isinstance(data, dict) or not data.get("id"):
            raise invalid("required key not provided @ data['id']")
        raw_id = data["id"]
        if not isinstance(raw_id, str) or "/" in raw_id or len(raw_id) > 255:
            raise invalid("id must be a string without '/'")
        attributes = _attributes(_type_attributes(info), data, partial=False)
        started = _datetime(data.get("started_at"), "started_at") or utcnow()
        ended = _datetime(data.get("ended_at"), "ended_at")
        if ended is not None and ended < started:
            raise invalid("Start timestamp cannot be after end timestamp")
        return {
            "id": raw_id,
            "project_id": _id_text(data.get("project_id"), "project_id"),
            "user_id": _id_text(data.get("user_id"), "user_id"),
            "started_at": started,
            "ended_at": ended,
            "attributes": attributes,
            "metrics": named_metrics(data.get("metrics") or {}),
        }


class ResourceUpdate(GnocchiBody):
    """A resource's changes, checked against its type's attributes (context ``attributes``);
    ``core`` holds the core fields given, ``metrics`` the metrics to add (None: none)."""

    core: dict[str, Any]
    attributes: dict[str, Any]
    metrics: SkipValidation[dict[str, MetricSpec | str] | None]

    @model_validator(mode="before")
    @classmethod
    def _check(cls, data: Any, info: ValidationInfo) -> dict[str, Any]:
        body = as_object(data, "the body must be an object")
        if "id" in body or "type" in body:
            raise invalid("extra keys not allowed @ data['id']")
        attributes = _attributes(_type_attributes(info), body, partial=True)
        core: dict[str, Any] = {}
        for key in ("user_id", "project_id"):
            if key in body:
                core[key] = _id_text(body[key], key)
        for key in ("started_at", "ended_at"):
            if key in body:
                core[key] = _datetime(body[key], key)
                if key == "started_at" and core[key] is None:
                    raise invalid("started_at may not be null")
        metrics = named_metrics(body["metrics"] or {}) if "metrics" in body else None
        return {"core": core, "attributes": attributes, "metrics": metrics}


class Search(GnocchiBody):
    """A search's filter, in Gnocchi's filter language (compiled against the resource type
    by the service); an empty body filters nothing (``?filter=`` may then)."""

    filter: Any = None

    @model_validator(mode="before")
    @classmethod
    def _check(cls, data: Any) -> dict[str, Any]:
        return {"filter": data or None}


class Aggregates(GnocchiBody):
    """``POST /v1/aggregates``: the operations (parsed) over metrics by id or, with
    ``search`` or ``resource_type``, by name over the resources a search finds."""

    operations: SkipValidation[Any]
    references: list[tuple[str, str]]
    by_resources: bool
    resource_type: SkipValidation[Any]
    search: SkipValidation[Any]

    @model_validator(mode="before")
    @classmethod
    def _check(cls, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict) or "operations" not in data:
            raise invalid("required key not provided @ data['operations']")
        tree = operations.parse(data["operations"])
        keys = operations.references(tree)
        if not keys:
            raise operations.InvalidOperations("At least one 'metric' is required", tree)
        return {
            "operations": tree,
            "references": keys,
            "by_resources": "search" in data or "resource_type" in data,
            "resource_type": data.get("resource_type", "generic"),
            "search": data.get("search"),
        }


# --- measures ------------------------------------------------------------------------------


def parse_measures(data: Any) -> tuple[Int64s, Floats]:
    """``[{"timestamp": ..., "value": ...}]`` as arrays; 400 for a bad timestamp or a value
    that is not a finite number. The fields are gathered by two comprehensions and checked
    by type sets and numpy: a batch of 10,000 measures is no 10,000 rounds of checks (nor
    10,000 models: this is the write path's hot loop)."""
    if not isinstance(data, list):
        raise invalid("measures must be a list of {timestamp, value}")
    try:
        stamps = [item["timestamp"] for item in data]
        values = [item["value"] for item in data]
    except (TypeError, KeyError, IndexError):
        bad = next(
            i for i in data if not isinstance(i, dict) or not {"timestamp", "value"} <= set(i)
        )
        raise invalid(f"a measure has a timestamp and a value: {bad!r}") from None
    if not set(map(type, values)) <= {float, int}:  # not bool, str, None
        bad = next(v for v in values if type(v) not in (float, int))
        raise invalid(f"Invalid value {bad!r}: a number is expected")
    try:
        ts = timeutil.parse_timestamps(stamps)
    except common_errors.BadRequest as exc:
        raise invalid(exc.message.removeprefix("Invalid input: ")) from None
    array = np.array(values, dtype=np.float64)
    if not np.isfinite(array).all():
        bad = next(v for v in values if not math.isfinite(v))
        raise invalid(f"Invalid value {bad!r}: a finite number is expected")
    return ts, array


class Measures(GnocchiBody):
    """One metric's measures (``POST .../measures``)."""

    timestamps: SkipValidation[Int64s]
    values: SkipValidation[Floats]

    @model_validator(mode="before")
    @classmethod
    def _check(cls, data: Any) -> dict[str, Any]:
        ts, values = parse_measures(data)
        return {"timestamps": ts, "values": values}


class MetricsMeasures(GnocchiBody):
    """``POST /v1/batch/metrics/measures``: ``{metric_id: [measures]}``."""

    batches: SkipValidation[dict[str, tuple[Int64s, Floats]]]

    @model_validator(mode="before")
    @classmethod
    def _check(cls, data: Any) -> dict[str, Any]:
        body = as_object(data, "the body maps metric ids to measures")
        return {"batches": {mid: parse_measures(measures) for mid, measures in body.items()}}


@dataclass(frozen=True)
class NamedMeasures:
    """A named metric's measures in a batch, and what to make it of when it is missing
    (``create_metrics``): ``archive_policy_name`` and ``unit``, checked only then."""

    spec: dict[str, Any]
    timestamps: Int64s
    values: Floats


class ResourcesMeasures(GnocchiBody):
    """``POST /v1/batch/resources/metrics/measures``:
    ``{resource_id: {name: [measures] | {archive_policy_name, unit, measures}}}``."""

    batches: SkipValidation[dict[str, dict[str, NamedMeasures]]]

    @model_validator(mode="before")
    @classmethod
    def _check(cls, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
            raise invalid("the body maps resource ids to {metric: measures}")
        return {
            "batches": {
                rid: {name: _named_measures(spec) for name, spec in named.items()}
                for rid, named in data.items()
            }
        }


def _named_measures(spec: Any) -> NamedMeasures:
    if isinstance(spec, dict):
        made = {k: v for k, v in spec.items() if k in ("archive_policy_name", "unit")}
        return NamedMeasures(made, *parse_measures(spec.get("measures")))
    return NamedMeasures({}, *parse_measures(spec))
