"""Alarming (Aodh v2's alarm API, catalog type ``alarming``): alarms on metering's series
and on the services' notifications, evaluated by one process at a time, whose actions
(logs, webhooks, trust webhooks) fire."""

from __future__ import annotations

from pathlib import Path

from onestack.alarming import api
from onestack.alarming.bootstrap import start, stop
from onestack.alarming.errors import aodh_body
from onestack.alarming.policies import RULES
from onestack.common.runtime import ServiceSpec

SPEC = ServiceSpec(
    name="alarming",
    catalog_type="alarming",
    catalog_name="aodh",
    prefix="/alarming",
    endpoint_path="/alarming",
    routes=api.routes,
    error_body=aodh_body,
    public=api.PUBLIC,
    policies=RULES,
    migrations=Path(__file__).parent / "migrations" / "versions",
    start=start,
    stop=stop,
)
