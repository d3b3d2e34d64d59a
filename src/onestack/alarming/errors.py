"""Aodh's error body (WSME): ``{"error_message": {"faultstring", "faultcode",
"debuginfo"}}``; the client shows the faultstring."""

from __future__ import annotations

from typing import Any

from onestack.common import errors


def aodh_body(err: errors.OneStackError) -> dict[str, Any]:
    return {
        "error_message": {
            "faultstring": err.message,
            "faultcode": "Client" if err.code < 500 else "Server",
            "debuginfo": None,
        }
    }


class AlarmNotFound(errors.NotFound):
    template = "Alarm {id} not found"


class InvalidAlarm(errors.BadRequest):
    template = "{reason}"


class OverQuota(errors.Forbidden):
    template = "Alarm quota exceeded for user {user} on project {project}"
