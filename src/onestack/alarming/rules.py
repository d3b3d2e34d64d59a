"""Alarm types and their rules, validated as Aodh's WSME types do: the threshold fields every
Gnocchi rule shares, each type's own, event and composite rules; actions and time
constraints."""

from __future__ import annotations

import json
import math
import re
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from onestack.alarming.errors import InvalidAlarm
from onestack.metering.facade import AGGREGATION_METHODS as METHODS

STATES = ("ok", "alarm", "insufficient data")
SEVERITIES = ("low", "moderate", "critical")
COMPARISONS = ("lt", "le", "eq", "ne", "ge", "gt")
RESOURCES_THRESHOLD = "gnocchi_resources_threshold"
BY_METRICS = "gnocchi_aggregation_by_metrics_threshold"
BY_RESOURCES = "gnocchi_aggregation_by_resources_threshold"
EVENT = "event"
COMPOSITE = "composite"
TYPES = (RESOURCES_THRESHOLD, BY_METRICS, BY_RESOURCES, EVENT, COMPOSITE)
GNOCCHI_TYPES = (RESOURCES_THRESHOLD, BY_METRICS, BY_RESOURCES)
ACTION_SCHEMES = ("log", "test", "http", "https", "trust+http", "trust+https")
ADMIN_ONLY_SCHEMES = ("log", "test")
CRON_FIELD = re.compile(r"^(\*|\d+(-\d+)?)(/\d+)?(,(\*|\d+(-\d+)?)(/\d+)?)*$")


def invalid_type(field: str, value: Any, expected: str) -> InvalidAlarm:
    return InvalidAlarm(
        reason=f"Invalid input for field/attribute {field}. Value: '{value}'. "
        f"Wrong type. Expected '{expected}', got '{type(value).__name__}'"
    )


def _text(rule: dict[str, Any], field: str, *, required: bool = True) -> str | None:
    value = rule.get(field)
    if value is None:
        if required:
            raise InvalidAlarm(reason=f"Mandatory field missing: {field}")
        return None
    if not isinstance(value, str):
        raise invalid_type(field, value, "str")
    return value


def _int(rule: dict[str, Any], field: str, default: int, low: int, high: int) -> int:
    value = rule.get(field, default)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise invalid_type(field, value, "int")
    if not low <= value <= high:
        raise InvalidAlarm(
            reason=f"Invalid input for field/attribute {field}. Value: '{value}'. "
            f"Value should be between {low} and {high}"
        )
    return value


def threshold_fields(rule: dict[str, Any]) -> dict[str, Any]:
    """comparison_operator, threshold, aggregation_method, evaluation_periods, granularity."""
    threshold = rule.get("threshold")
    if isinstance(threshold, str):
        try:
            threshold = float(threshold)
        except ValueError:
            raise invalid_type("threshold", threshold, "float") from None
    if threshold is None:
        raise InvalidAlarm(reason="Mandatory field missing: threshold")
    if isinstance(threshold, bool) or not isinstance(threshold, int | float):
        raise invalid_type("threshold", threshold, "float")
    if not math.isfinite(threshold):
        raise InvalidAlarm(reason=f"Invalid threshold {threshold}: a finite number is expected")
    op = rule.get("comparison_operator", "eq")
    if op not in COMPARISONS:
        raise InvalidAlarm(
            reason=f"Invalid input for field/attribute comparison_operator. Value: '{op}'. "
            f"Value should be one of: {', '.join(COMPARISONS)}"
        )
    method = _text(rule, "aggregation_method")
    if method not in METHODS:
        raise InvalidAlarm(reason=f"aggregation_method should be in {sorted(METHODS)} not {method}")
    return {
        "comparison_operator": op,
        "threshold": float(threshold),
        "aggregation_method": method,
        "evaluation_periods": _int(rule, "evaluation_periods", 1, 1, 100),
        "granularity": _int(rule, "granularity", 60, 1, 3600 * 24 * 365),
    }


def check_rule(kind: str, rule: Any) -> dict[str, Any]:
    """The stored rule of an alarm of type ``kind``; 400 for what Aodh refuses."""
    if not isinstance(rule, dict):
        raise InvalidAlarm(reason=f"{kind}_rule must be set for {kind} type alarm")
    if kind == RESOURCES_THRESHOLD:
        out = threshold_fields(rule)
        for field in ("metric", "resource_id", "resource_type"):
            out[field] = _text(rule, field)
        return out
    if kind == BY_METRICS:
        out = threshold_fields(rule)
        metrics = rule.get("metrics")
        if (
            not isinstance(metrics, list)
            or not metrics
            or not all(isinstance(m, str) for m in metrics)
        ):
            raise InvalidAlarm(reason="Mandatory field missing: metrics (a list of metric ids)")
        out["metrics"] = metrics
        return out
    if kind == BY_RESOURCES:
        out = threshold_fields(rule)
        out["metric"] = _text(rule, "metric")
        out["resource_type"] = _text(rule, "resource_type")
        query = _text(rule, "query")
        try:
            json.loads(query or "")
        except ValueError:
            raise InvalidAlarm(
                reason=f"Invalid input for field/attribute rule/query. Value: '{query}'."
            ) from None
        out["query"] = query
        return out
    if kind == EVENT:
        return check_event_rule(rule)
    if kind == COMPOSITE:
        return check_composite(rule)
    raise InvalidAlarm(reason=f"Unsupported alarm type {kind}")


def check_event_rule(rule: dict[str, Any]) -> dict[str, Any]:
    query = rule.get("query", [])
    if not isinstance(query, list):
        raise invalid_type("query", query, "list")
    for q in query:
        if not isinstance(q, dict) or "field" not in q or "value" not in q:
            raise InvalidAlarm(reason=f"Invalid event query {q!r}: field, op and value")
        if q.get("op", "eq") not in COMPARISONS:
            raise InvalidAlarm(reason=f"Invalid event query operator {q.get('op')!r}")
    return {"event_type": _text(rule, "event_type", required=False) or "*", "query": query}


def check_composite(rule: dict[str, Any], depth: int = 0) -> dict[str, Any]:
    """``{"and": [...]}`` / ``{"or": [...]}`` of sub-rules, each a Gnocchi rule with its type."""
    if depth > 10:
        raise InvalidAlarm(reason="Composite rule nested too deep")
    if "type" in rule:
        kind = rule["type"]
        if kind not in GNOCCHI_TYPES:
            raise InvalidAlarm(reason=f"Unsupported sub-rule type {kind!r} in a composite rule")
        return {"type": kind, **check_rule(kind, {k: v for k, v in rule.items() if k != "type"})}
    if len(rule) != 1 or next(iter(rule)) not in ("and", "or"):
        raise InvalidAlarm(reason='A composite rule is {"and": [...]} or {"or": [...]}')
    op, parts = next(iter(rule.items()))
    if not isinstance(parts, list) or not parts:
        raise InvalidAlarm(reason=f"Composite '{op}' takes a non-empty list of rules")
    return {op: [check_composite(p if isinstance(p, dict) else {}, depth + 1) for p in parts]}


def check_actions(actions: Any, field: str, is_admin: bool) -> list[str]:
    if actions is None:
        return []
    if not isinstance(actions, list) or not all(isinstance(a, str) for a in actions):
        raise invalid_type(field, actions, "list")
    out: list[str] = []
    for action in actions:
        try:
            url = urlsplit(action)
        except ValueError:
            raise InvalidAlarm(reason=f"Unable to parse action {action}") from None
        if url.scheme not in ACTION_SCHEMES:
            raise InvalidAlarm(reason=f"Unsupported action {action}")
        if url.scheme in ADMIN_ONLY_SCHEMES and not is_admin:
            raise InvalidAlarm(reason=f"You are not authorized to create action: {action}")
        if action not in out:
            out.append(action)
    return out


def check_time_constraints(items: Any) -> list[dict[str, Any]]:
    if items is None:
        return []
    if not isinstance(items, list):
        raise invalid_type("time_constraints", items, "list")
    out: list[dict[str, Any]] = []
    for tc in items:
        if not isinstance(tc, dict):
            raise invalid_type("time_constraints", tc, "dict")
        name = _text(tc, "name")
        start = _text(tc, "start") or ""
        fields = start.split()
        if len(fields) != 5 or not all(CRON_FIELD.match(f) for f in fields):
            raise InvalidAlarm(reason=f"Invalid input for field/attribute start. Value: '{start}'.")
        duration = _int(tc, "duration", -1, 0, 10 * 365 * 86400)
        zone = tc.get("timezone") or ""
        if zone:
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError):
                raise InvalidAlarm(reason=f"Timezone {zone} is not valid") from None
        out.append(
            {
                "name": name,
                "description": tc.get("description")
                or f"Time constraint at {start} lasting for {duration} seconds",
                "start": start,
                "duration": duration,
                "timezone": zone,
            }
        )
    names = [tc["name"] for tc in out]
    if len(set(names)) != len(names):
        raise InvalidAlarm(reason="Time constraint names must be unique for a given alarm.")
    return out
