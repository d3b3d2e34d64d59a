"""Aodh's policy defaults (``aodh/api/policies.py``), names as Aodh's."""

from __future__ import annotations

from onestack.common.policy import RuleDefault

ADMIN = "role:admin"
READER = "role:reader and project_id:%(project_id)s"
MEMBER = "role:member and project_id:%(project_id)s"
ADMIN_OR_READER = f"{ADMIN} or ({READER})"
ADMIN_OR_MEMBER = f"{ADMIN} or ({MEMBER})"


def _r(name: str, check: str, description: str) -> RuleDefault:
    return RuleDefault(name, check, description, ("project", "system"))


RULES: tuple[RuleDefault, ...] = (
    _r("telemetry:get_alarm", ADMIN_OR_READER, "Get an alarm."),
    _r("telemetry:get_alarms", ADMIN_OR_READER, "List alarms of the project."),
    _r("telemetry:get_alarms_all_projects", ADMIN, "List every project's alarms."),
    _r("telemetry:query_alarm", ADMIN_OR_READER, "Query alarms with a complex query."),
    _r("telemetry:create_alarm", ADMIN_OR_MEMBER, "Create an alarm."),
    _r("telemetry:change_alarm", ADMIN_OR_MEMBER, "Change an alarm."),
    _r("telemetry:delete_alarm", ADMIN_OR_MEMBER, "Delete an alarm."),
    _r("telemetry:get_alarm_state", ADMIN_OR_READER, "Show an alarm's state."),
    _r("telemetry:change_alarm_state", ADMIN_OR_MEMBER, "Set an alarm's state."),
    _r("telemetry:alarm_history", ADMIN_OR_READER, "Show an alarm's history."),
    _r("telemetry:query_alarm_history", ADMIN_OR_READER, "Query alarm history."),
    _r("telemetry:get_quotas", ADMIN_OR_READER, "Show a project's alarm quotas."),
    _r("telemetry:update_quotas", ADMIN, "Set a project's alarm quotas."),
)
