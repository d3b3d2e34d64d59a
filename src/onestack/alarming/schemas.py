"""The alarm API's request bodies, each declared once and taken through the one body path,
``common.api.body``, refused in Aodh's words.

Aodh declares its bodies as WSME types and answers a bad one with WSME's faultstring
(``Invalid input for field/attribute severity. Value: 'x'. Value should be one of: ...``,
``Mandatory field missing: name``), which aodhclient shows as it is. Each model's ``_check``
(run before pydantic's own field checks) words its refusals so, with ``alarming.rules`` for
the rules, actions and time constraints, and raises ``InvalidAlarm``, which pydantic lets
through. What needs another service (whether the alarm may watch a metric, its trusts) stays
with the handler and the service.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, SkipValidation, ValidationInfo, model_validator

from onestack.alarming import rules
from onestack.alarming.errors import InvalidAlarm

ACTION_FIELDS = ("ok_actions", "alarm_actions", "insufficient_data_actions")


class AodhBody(BaseModel):
    """A body of the alarm API; a subclass's ``_check`` makes its fields of the document."""

    # Validators built on first use, not at import: a start needs none of them (#19).
    model_config = ConfigDict(frozen=True, defer_build=True, arbitrary_types_allowed=True)


def _one_of(field: str, value: Any, allowed: tuple[str, ...]) -> Any:
    if value not in allowed:
        raise InvalidAlarm(
            reason=f"Invalid input for field/attribute {field}. Value: '{value}'. "
            f"Value should be one of: {', '.join(allowed)}"
        )
    return value


class AlarmBody(AodhBody):
    """An alarm as created, or as changed: context ``old`` is the alarm a ``PUT`` changes
    (what the body leaves out stays as it was; None on create) and ``admin`` whether the
    caller is an admin (who alone may name ``log://`` and ``test://`` actions, and the
    alarm's project and user)."""

    type: str
    name: str
    rule: dict[str, Any]
    ok_actions: list[str]
    alarm_actions: list[str]
    insufficient_data_actions: list[str]
    time_constraints: list[dict[str, Any]]
    enabled: bool
    repeat_actions: bool
    severity: str
    state: str
    description: SkipValidation[Any]
    project_id: SkipValidation[Any] = None  # the owner an admin names on create
    user_id: SkipValidation[Any] = None
    sent: frozenset[str] = frozenset()  # the members the body had

    @model_validator(mode="before")
    @classmethod
    def _check(cls, data: Any, info: ValidationInfo) -> dict[str, Any]:
        context = info.context or {}
        old, admin = context.get("old"), bool(context.get("admin"))
        if not isinstance(data, dict):
            raise InvalidAlarm(reason="The alarm must be a JSON object")

        def given(field: str, fallback: Any) -> Any:
            return data.get(field, getattr(old, field) if old else fallback)

        kind = _one_of("type", data.get("type", old.type if old else None), rules.TYPES)
        name = data.get("name", old.name if old else None)
        if not isinstance(name, str) or not name:
            raise InvalidAlarm(reason="Mandatory field missing: name")
        raw_rule = data.get(f"{kind}_rule", old.rule if old and old.type == kind else None)
        if raw_rule is None:
            raise InvalidAlarm(reason=f"{kind}_rule must be set for {kind} type alarm")
        rule = rules.check_rule(kind, raw_rule)
        out: dict[str, Any] = {"type": kind, "name": name, "rule": rule}
        for field in ACTION_FIELDS:
            out[field] = rules.check_actions(given(field, []), field, admin)
        out["time_constraints"] = rules.check_time_constraints(given("time_constraints", []))
        for field, flag in (("enabled", True), ("repeat_actions", False)):
            value = given(field, flag)
            if not isinstance(value, bool):
                raise rules.invalid_type(field, value, "bool")
            out[field] = value
        out["severity"] = _one_of("severity", given("severity", "low"), rules.SEVERITIES)
        out["state"] = _one_of("state", given("state", "insufficient data"), rules.STATES)
        out["description"] = given("description", None) or f"{kind} alarm rule"
        out.update(project_id=data.get("project_id"), user_id=data.get("user_id"))
        return {**out, "sent": frozenset(data)}

    def columns(self) -> dict[str, Any]:
        """The alarm's stored values (its owner aside)."""
        return self.model_dump(exclude={"project_id", "user_id", "sent"})


class AlarmState(AodhBody):
    """``PUT /v2/alarms/{id}/state``: the body is the state, a JSON string."""

    state: str

    @model_validator(mode="before")
    @classmethod
    def _check(cls, data: Any) -> dict[str, Any]:
        if data not in rules.STATES:
            raise InvalidAlarm(
                reason=f"state invalid: Value should be one of: {', '.join(rules.STATES)}"
            )
        return {"state": data}


class ComplexQuery(AodhBody):
    """``POST /v2/query/alarms[/history]``: ``{"filter": "<JSON expression>", "limit": N}``;
    the expression decoded (compiled over the fields of what is searched by the handler),
    a limit that is no positive integer ignored."""

    filter: SkipValidation[Any] = None
    limit: SkipValidation[int | None] = None

    @model_validator(mode="before")
    @classmethod
    def _check(cls, data: Any) -> dict[str, Any]:
        raw = data.get("filter") if isinstance(data, dict) else None
        try:
            query = json.loads(raw) if isinstance(raw, str) else raw
        except ValueError:
            raise InvalidAlarm(reason=f"Filter expression not valid: {raw}") from None
        limit = data.get("limit") if isinstance(data, dict) else None
        positive = isinstance(limit, int) and limit > 0
        return {"filter": query, "limit": limit if positive else None}


class Quotas(AodhBody):
    """``POST /v2/quotas``: ``{"project_id": ..., "quotas": [{"resource": "alarms",
    "limit": N}]}``; the limits in their order (the last one stays)."""

    project_id: str
    limits: SkipValidation[tuple[int, ...]]

    @model_validator(mode="before")
    @classmethod
    def _check(cls, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict) or not isinstance(data.get("project_id"), str):
            raise InvalidAlarm(reason="Mandatory field missing: project_id")
        quotas = data.get("quotas")
        if not isinstance(quotas, list):
            raise InvalidAlarm(reason="Mandatory field missing: quotas")
        for q in quotas:
            if (
                not isinstance(q, dict)
                or q.get("resource") != "alarms"
                or not isinstance(q.get("limit"), int)
            ):
                raise InvalidAlarm(reason=f"Invalid quota {q!r}: resource alarms and a limit")
        return {"project_id": data["project_id"], "limits": tuple(q["limit"] for q in quotas)}
