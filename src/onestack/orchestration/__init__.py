"""Orchestration (Heat v1, catalog type ``orchestration``): HOT templates checked up front,
stacks whose resources the engine creates and deletes over their dependency graph, calling
the other services only through their typed facades."""

from __future__ import annotations

from pathlib import Path

from onestack.common.runtime import ServiceSpec
from onestack.orchestration import api
from onestack.orchestration.bootstrap import start, stop
from onestack.orchestration.errors import heat_body
from onestack.orchestration.policies import RULES

SPEC = ServiceSpec(
    name="orchestration",
    catalog_type="orchestration",
    catalog_name="heat",
    prefix="/orchestration",
    endpoint_path="/orchestration/v1/$(project_id)s",
    routes=api.routes,
    error_body=heat_body,
    public=api.PUBLIC,
    policies=RULES,
    migrations=Path(__file__).parent / "migrations" / "versions",
    start=start,
    stop=stop,
)
