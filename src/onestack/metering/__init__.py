"""Metering (Gnocchi v1's metric API, catalog type ``metric``): archive policies, resource
types, resources, metrics and measures aggregated into time series behind a storage seam."""

from __future__ import annotations

from pathlib import Path

from onestack.common.runtime import ServiceSpec
from onestack.metering import api
from onestack.metering.bootstrap import start, stop
from onestack.metering.errors import gnocchi_body
from onestack.metering.policies import RULES

SPEC = ServiceSpec(
    name="metering",
    catalog_type="metric",
    catalog_name="gnocchi",
    prefix="/metric",
    endpoint_path="/metric",
    routes=api.routes,
    error_body=gnocchi_body,
    public=api.PUBLIC,
    middleware=(api.TrailingSlash,),
    policies=RULES,
    migrations=Path(__file__).parent / "migrations" / "versions",
    start=start,
    stop=stop,
)
