"""Aodh v2 shapes: an alarm with its ``<type>_rule``, a history change."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from onestack.alarming import models


def ts(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def scrub(action: str) -> str:
    """A trust action without its stored credential (as Aodh hides the trust id)."""
    url = urlsplit(action)
    if url.scheme.startswith("trust+") and "@" in url.netloc:
        return urlunsplit(url._replace(netloc=url.netloc.rsplit("@", 1)[-1]))
    return action


def alarm_view(row: models.Alarm) -> dict[str, Any]:
    return {
        "alarm_id": row.id,
        "name": row.name,
        "description": row.description,
        "type": row.type,
        "enabled": row.enabled,
        "state": row.state,
        "state_reason": row.state_reason,
        "state_timestamp": ts(row.state_timestamp),
        "timestamp": ts(row.timestamp),
        "evaluate_timestamp": ts(row.evaluate_timestamp),
        "severity": row.severity,
        "repeat_actions": row.repeat_actions,
        "time_constraints": row.time_constraints,
        "project_id": row.project_id,
        "user_id": row.user_id,
        "ok_actions": [scrub(a) for a in row.ok_actions],
        "alarm_actions": [scrub(a) for a in row.alarm_actions],
        "insufficient_data_actions": [scrub(a) for a in row.insufficient_data_actions],
        f"{row.type}_rule": row.rule,
    }


def change_view(row: models.AlarmChange) -> dict[str, Any]:
    return {
        "event_id": row.event_id,
        "alarm_id": row.alarm_id,
        "type": row.type,
        "detail": row.detail,
        "project_id": row.project_id,
        "user_id": row.user_id,
        "on_behalf_of": row.on_behalf_of,
        "timestamp": ts(row.timestamp),
        "severity": row.severity,
    }
